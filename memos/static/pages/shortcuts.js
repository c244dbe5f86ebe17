// /shortcuts: create, check, edit and delete saved filters (shortcuts).
import {call} from '../core/api.js';
import {clear, h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {replaceQuery} from '../core/router.js';
import {state} from '../core/state.js';
import {menuButton, toastError} from '../core/ui.js';
import {attempt} from '../core/attempt.js';
import {deleteShortcut, listShortcuts} from '../components/shortcuts.js';

const EXAMPLES = [
  ['📌 Pinned', 'pinned'],
  ['✅ Open tasks', 'has_incomplete_tasks'],
  ['🔗 Links', 'has_link'],
  ['🏷️ Work', 'tag in ["work"]'],
  ['🗓️ This week', 'created_ts >= now - duration("168h")'],
  ['🌐 Public', 'visibility == "PUBLIC"'],
];
const FIELDS = ['content.contains()', 'content.startsWith()', 'content.endsWith()', 'content.matches()', 'visibility', 'pinned',
  'tag in []', 'tags.exists()', 'tags.all()', 'tags.exists_one()', 'sets.contains()', 'sets.intersects()', 'sets.equivalent()',
  'size(tags)', 'size(content)', 'has_task_list', 'has_incomplete_tasks', 'has_link', 'has_code', 'created_ts', 'updated_ts',
  'now', 'duration()', 'timestamp()', 'getFullYear()', 'getMonth()', 'getDayOfWeek()'];

function shortcutForm(existing, done) {
  const title = h('input.input', {id: 'shortcut-title', required: true, value: existing?.title || ''});
  const filter = h('textarea.input.textarea.mono', {id: 'shortcut-filter', rows: 3, spellcheck: 'false', value: existing?.filter || ''});
  const body = () => ({title: title.value.trim(), filter: filter.value.trim()});
  // The button stays disabled while the request runs.
  const run = async (button, work, done, then) => {
    button.disabled = true;
    await attempt(work, done, then);
    button.disabled = false;
  };
  const field = (label, input, hint) => h('div.field', h('label.field-label', {for: input.id}, label), input, h('p.muted.small', hint));
  const validate = h('button.btn', {onclick: () => run(validate, () => call('ShortcutService', 'CreateShortcut',
    {parent: state.user.name, shortcut: body(), validateOnly: true}), t('shortcuts.valid'))}, t('shortcuts.validate'));
  const save = h('button.btn.btn-primary', {type: 'submit'}, t('common.save'));
  const form = h('form.card.settings-form.shortcut-form', {onsubmit: (event) => {
    event.preventDefault();
    run(save, () => (existing
      ? call('ShortcutService', 'UpdateShortcut', {shortcut: {name: existing.name, ...body()}, updateMask: 'title,filter'})
      : call('ShortcutService', 'CreateShortcut', {parent: state.user.name, shortcut: body()})), t('settings.saved'), done);
  }},
  field(t('shortcuts.title'), title, t('shortcuts.title-hint')),
  field(t('shortcuts.filter'), filter, t('shortcuts.filter-hint')),
  h('div.form-actions', validate, save));
  const examples = h('aside.card.shortcut-help',
    h('h2.section-label', t('shortcuts.examples')),
    h('ul.plain', EXAMPLES.map(([name, expression]) => h('li',
      h('button.link-btn', {onclick: () => {
        filter.value = expression;
        if (!title.value.trim()) title.value = name;
      }}, name, ' ', h('code', expression))))),
    h('h2.section-label', t('shortcuts.fields')),
    h('div.chips.small', FIELDS.map((name) => h('code.chip', name))));
  return h('div.shortcut-editor', form, examples);
}

export default {
  async render({main, query}) {
    const slot = h('div');
    const list = h('ul.card.rows', {'aria-label': t('nav.shortcuts')});
    let editing = query.get('create') ? 'new' : query.get('edit') || '';
    const toggle = h('button.btn.btn-primary', {onclick: () => startEditing(editing ? '' : 'new')});
    const draw = async () => {
      const shortcuts = await listShortcuts().catch((error) => {
        toastError(error);
        return [];
      });
      const existing = shortcuts.find((shortcut) => shortcut.name === editing);
      if (editing && editing !== 'new' && !existing) editing = '';
      toggle.textContent = editing ? t('common.cancel') : t('shortcuts.create');
      clear(slot).append(editing ? shortcutForm(existing, () => startEditing('')) : '');
      clear(list).append(...(shortcuts.length ? shortcuts.map((shortcut) => h('li.row',
        h('div.grow', h('strong', shortcut.title), ' ', h('span.muted.small.mono', shortcut.name.split('/').pop()),
          h('p.mono.small.muted.truncate', shortcut.filter)),
        menuButton({label: t('shortcuts.actions', {title: shortcut.title}), items: [
          {label: t('memo.edit'), onSelect: () => startEditing(shortcut.name)},
          {label: t('memo.delete'), danger: true, onSelect: () => deleteShortcut(shortcut, draw)},
        ]}))) : [h('li.empty-box', t('shortcuts.empty'))]));
    };
    const startEditing = (name) => {
      editing = name;
      replaceQuery(new URLSearchParams(name === 'new' ? {create: '1'} : name ? {edit: name} : {}));
      draw();
    };
    main.append(h('div.section-head', h('h1.page-title.grow', t('nav.shortcuts')), toggle),
      h('p.muted', t('shortcuts.intro')), slot, list);
    await draw();
  },
};
