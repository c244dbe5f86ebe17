// Identity: who is signed in, their settings, and signing in and out.
import * as api from './api.js';
import {setLocale, preferredLocale} from './i18n.js';
import {set, state} from './state.js';
import {setTheme, THEMES} from './theme.js';

// Local data that survives sign-out (device preferences); everything else is per user.
const DEVICE_KEYS = new Set(['memos-theme', 'memos-locale', 'memos-view-setting', 'tag-view-as-tree', 'tag-tree-auto-expand']);

export async function loadInstance() {
  const [profile, settings] = await Promise.all([
    api.call('InstanceService', 'GetInstanceProfile', {}),
    api.call('InstanceService', 'BatchGetInstanceSettings', {
      names: ['instance/settings/GENERAL', 'instance/settings/MEMO_RELATED'],
    }).catch(() => ({})),
  ]);
  const byName = Object.fromEntries((settings.settings || []).map((item) => [item.name, item]));
  set({
    profile,
    general: byName['instance/settings/GENERAL']?.generalSetting || {},
    memoRelated: byName['instance/settings/MEMO_RELATED']?.memoRelatedSetting || {},
  });
}

// The signed-in user (after a cookie refresh when no token is held), or null.
export async function loadIdentity() {
  if (!api.hasToken()) {
    if (!api.mayHaveSession() || !(await api.refresh())) return adopt(null);
  }
  try {
    const {user} = await api.call('AuthService', 'GetCurrentUser', {});
    return adopt(user || null);
  } catch {
    api.forget();
    return adopt(null);
  }
}

async function adopt(user) {
  let settings = [];
  if (user) ({settings = []} = await api.call('UserService', 'ListUserSettings', {parent: user.name}).catch(() => ({})));
  const userGeneral = settings.find((item) => item.generalSetting)?.generalSetting || {};
  set({user, userGeneral, tagRules: settings.find((item) => item.tagsSetting)?.tagsSetting.tags || {}});
  if (userGeneral.theme && THEMES.includes(userGeneral.theme)) setTheme(userGeneral.theme, {remember: true});
  await setLocale(preferredLocale(userGeneral.locale));
  return user;
}

export async function signIn(username, password) {
  await api.signIn(username, password);
  return loadIdentity();
}

// Applied here at once; rejects (for the caller to show) when the server did not store it.
export async function saveUserGeneral(patch, mask) {
  const generalSetting = {...state.userGeneral, ...patch};
  set({userGeneral: generalSetting});
  await api.call('UserService', 'UpdateUserSetting', {
    setting: {name: `${state.user.name}/settings/GENERAL`, generalSetting},
    updateMask: mask,
  });
}

export async function signOutEverywhere() {
  await api.signOut();
  for (const key of Object.keys(localStorage)) {
    if (!DEVICE_KEYS.has(key)) localStorage.removeItem(key);
  }
  sessionStorage.clear();
  location.replace('/auth');
}
