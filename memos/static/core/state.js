// The one place for application state, with a tiny publish/subscribe:
//   state.user, state.profile, state.general (instance GENERAL), state.memoRelated,
//   state.userGeneral (the user's GENERAL setting), state.tagRules (their TAGS rules), state.stats
//   set({user}) notifies subscribe('user', fn) listeners; emit('memos-changed') for events.

export const state = {
  user: null,
  profile: {},
  general: {},
  memoRelated: {},
  userGeneral: {},
  tagRules: {},
  stats: null,
};

const listeners = new Map();

export function subscribe(key, listener) {
  if (!listeners.has(key)) listeners.set(key, new Set());
  listeners.get(key).add(listener);
  return () => listeners.get(key).delete(listener);
}

export function emit(key, value) {
  for (const listener of listeners.get(key) || []) listener(value);
}

export function set(patch) {
  Object.assign(state, patch);
  for (const key of Object.keys(patch)) emit(key, state[key]);
}

export function isAdmin() {
  return ['ADMIN', 'HOST'].includes(state.user?.role);
}

// Whether anonymous visitors may read public pages (an instance URL is configured).
export function instanceIsPublic() {
  return Boolean(state.profile?.instanceUrl);
}

export function canWrite(memo) {
  return Boolean(state.user) && (memo.creator === state.user.name || isAdmin());
}

export function instanceTitle() {
  return state.general?.customProfile?.title || 'Memos';
}
