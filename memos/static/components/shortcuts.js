// Shortcuts (saved filters): the list in the home explorer and the one selected, whose
// expression the home feed ANDs to its own. The selection lives in memory, not in the URL.
import {call} from '../core/api.js';
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {navigate} from '../core/router.js';
import {state} from '../core/state.js';
import {menuButton} from '../core/ui.js';
import {confirmThen} from '../core/attempt.js';

let selected = '';
let selectedFilter = '';
const LEADING_EMOJI = /^(\p{Extended_Pictographic}(?:\uFE0F|\u200D\p{Extended_Pictographic})*)\s*/u;

// {emoji, text} of a title such as "📌 Pins".
function splitTitle(title) {
  const found = LEADING_EMOJI.exec(title || '');
  return found ? {emoji: found[1], text: title.slice(found[0].length)} : {emoji: '', text: title || ''};
}

// The selected shortcut's expression as extra filter terms for the home feed.
export function shortcutFilters() {
  return selected && selectedFilter ? [`(${selectedFilter})`] : [];
}

export function listShortcuts() {
  return call('ShortcutService', 'ListShortcuts', {parent: state.user.name}).then(({shortcuts = []}) => shortcuts);
}

// After confirming; then() once it is gone.
export function deleteShortcut(shortcut, then) {
  return confirmThen({title: t('shortcuts.delete-title', {title: shortcut.title}), confirm: t('memo.delete')},
    () => call('ShortcutService', 'DeleteShortcut', {name: shortcut.name}), t('shortcuts.deleted'), () => {
      if (selected === shortcut.name) selected = '';
      then();
    });
}

// The explorer's "Shortcuts" section; onChange() after the selection (or the list) changed.
export function shortcutsPanel({onChange}) {
  const list = h('ul.shortcut-list');
  const draw = (shortcuts) => list.replaceChildren(...shortcuts.map((shortcut) => {
    const {emoji, text} = splitTitle(shortcut.title);
    const active = shortcut.name === selected;
    if (active) selectedFilter = shortcut.filter;
    return h('li.shortcut-row',
      h('button', {class: active ? 'tag-link active' : 'tag-link', 'aria-pressed': active, onclick: () => {
        selected = active ? '' : shortcut.name;
        selectedFilter = shortcut.filter;
        onChange({selected: !active});
      }}, emoji && [h('span.shortcut-emoji', emoji), ' '], text),
      menuButton({label: t('shortcuts.actions', {title: shortcut.title}), items: [
        {label: t('memo.edit'), onSelect: () => navigate(`/shortcuts?edit=${encodeURIComponent(shortcut.name)}`)},
        {label: t('memo.delete'), danger: true, onSelect: () => deleteShortcut(shortcut, () => onChange({}))},
      ]}));
  }));
  listShortcuts().then((shortcuts) => {
    if (selected && !shortcuts.some((shortcut) => shortcut.name === selected)) selected = '';
    draw(shortcuts);
  }, () => {});
  return h('section.explorer-section', {'aria-labelledby': 'shortcuts-label'},
    h('div.section-row',
      h('h2.section-label', {id: 'shortcuts-label'}, t('nav.shortcuts')),
      h('a.icon-btn', {href: '/shortcuts?create=1', 'aria-label': t('shortcuts.create'), title: t('shortcuts.create')}, '+')),
    list);
}
