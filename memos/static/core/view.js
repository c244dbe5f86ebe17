// The reader's display settings (device scope, `memos-view-setting`): which time is shown and sorted
// by, the order, compact cards, link previews and the column layout. view() reads, setView() saves
// and notifies subscribe('view', ...) listeners.
import {emit} from './state.js';

const VIEW_KEY = 'memos-view-setting';
export const LAYOUTS = ['list', '2', '3', 'auto'];
const DEFAULTS = {time: 'create', order: 'desc', compact: false, linkPreview: true, layout: 'list'};

function stored() {
  try {
    return JSON.parse(localStorage.getItem(VIEW_KEY) || '{}') || {};
  } catch {
    return {};
  }
}

export function view() {
  const settings = {...DEFAULTS, ...stored()};
  if (!LAYOUTS.includes(settings.layout)) settings.layout = 'list';
  return settings;
}

export function setView(patch) {
  const next = {...view(), ...patch};
  localStorage.setItem(VIEW_KEY, JSON.stringify(next));
  emit('view', next);
  return next;
}

// Several columns force compact cards, so long memos do not stretch a row.
export function compactCards(settings = view()) {
  return settings.compact || settings.layout !== 'list';
}

// The ListMemos order of a feed: the shown time is also the sort key.
export function orderBy({pinnedFirst}, settings = view()) {
  const field = settings.time === 'update' ? 'update_time' : 'create_time';
  const order = `${field} ${settings.order === 'asc' ? 'asc' : 'desc'}`;
  return pinnedFirst ? `pinned desc, ${order}` : order;
}
