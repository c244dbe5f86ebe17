// The memo composer, for a new memo (with a draft kept per user) or to edit one in place.
//   createEditor({draftKey: 'home', onSaved}) or createEditor({memo, onSaved, onCancel});
//   a comment composer: createEditor({parent: 'memos/abc', draftKey, onSaved, onCancel})
import {call} from '../core/api.js';
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {state} from '../core/state.js';
import {toast, toastError} from '../core/ui.js';
import {attachmentStager} from './attach-stage.js';
import {listKey} from './list-keys.js';
import {memoLinks, referencesOf} from './link-memo.js';
import {dayStamp, dayTimeOf} from './editor-day.js';
import {selectOf} from '../core/fields.js';

export const VISIBILITIES = ['PRIVATE', 'PROTECTED', 'PUBLIC'];
// [value, label] of each visibility, for selectOf() and choice().
export const visibilityOptions = () => VISIBILITIES.map((value) => [value, t(`visibility.${value.toLowerCase()}`)]);
const DRAFT_DELAY_MS = 500;

function defaultVisibility() {
  const chosen = state.userGeneral?.memoVisibility;
  return VISIBILITIES.includes(chosen) ? chosen : 'PRIVATE';
}

export function createEditor({memo, parent, draftKey, onSaved, onCancel, placeholder}) {
  const draftName = draftKey && state.user ? `${state.user.name}-${draftKey}` : null;
  const text = h('textarea', {
    class: 'editor-text', rows: 3, placeholder: placeholder || t('editor.placeholder'),
    'aria-label': t('editor.label'), spellcheck: 'true', value: memo ? memo.content : (draftName && localStorage.getItem(draftName)) || '',
    oninput: () => {
      refresh();
      grow();
      clearTimeout(draftTimer);
      draftTimer = setTimeout(storeDraft, DRAFT_DELAY_MS);
      suggestTags();
    },
    onkeydown: (event) => {
      if (!suggestions.hidden && handleSuggestionKey(event)) return;
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        submit();
      } else if (event.key === 'Escape') {
        text.blur();
      } else {
        listKey(text, event);
      }
    },
    onblur: () => setTimeout(() => (suggestions.hidden = true), 150),
  });
  const visibility = selectOf(visibilityOptions(), memo ? memo.visibility : defaultVisibility(),
    {'aria-label': t('editor.visibility')});
  const save = h('button.btn.btn-primary', {onclick: submit}, t('common.save'));
  const cancel = onCancel && h('button.btn', {onclick: onCancel}, t('common.cancel'));
  const suggestions = h('ul.suggestions', {role: 'listbox', hidden: true, 'aria-label': t('editor.tags')});
  const stage = attachmentStager({existing: memo?.attachments || [], onChange: () => refresh()});
  const links = memoLinks({initial: referencesOf(memo), exclude: memo?.name});
  const dayLine = h('p.editor-day.muted.small', {hidden: true});
  let day = '';
  const root = h('div.card.editor',
    dayLine, text, suggestions, stage.root, links.chips,
    h('div.editor-bar',
      stage.insertMenu, visibility, links.button, h('span.grow'), cancel, save));
  stage.acceptFrom(root);

  let busy = false;
  let draftTimer = 0;
  const empty = () => !text.value.trim() && !stage.count();
  const refresh = () => {
    save.disabled = busy || stage.busy() || empty();
    save.textContent = t(busy ? 'editor.saving' : 'common.save');
  };
  const storeDraft = () => {
    clearTimeout(draftTimer);
    if (!draftName || !root.isConnected) return;
    if (text.value.trim()) localStorage.setItem(draftName, text.value);
    else localStorage.removeItem(draftName);
  };
  const grow = () => {
    text.style.height = 'auto';
    text.style.height = Math.min(text.scrollHeight + 2, window.innerHeight / 2) + 'px';
  };

  async function submit() {
    if (busy || empty()) return;
    busy = true;
    refresh();
    try {
      let saved;
      const fields = {attachments: await stage.upload(), content: text.value, visibility: visibility.value, relations: links.relations()};
      if (memo) {
        const changed = {
          content: text.value !== memo.content,
          visibility: visibility.value !== memo.visibility,
          attachments: stage.changed(),
          relations: links.names().join() !== referencesOf(memo).map((link) => link.name).join(),
        };
        // The server keeps update_time unless asked: an edit of the text or links is an update.
        changed.updateTime = changed.content || changed.relations;
        const mask = Object.keys(changed).filter((field) => changed[field]);
        if (!mask.length) {
          toast(t('editor.no-changes'));
          onCancel?.();
          return;
        }
        saved = await call('MemoService', 'UpdateMemo', {memo: {name: memo.name, ...fields}, updateMask: mask.join(',')});
      } else {
        // With a calendar day chosen, a new memo is dated that day at the current clock time (F10).
        if (day && !parent) fields.createTime = dayTimeOf(day).toISOString();
        saved = await (parent
          ? call('MemoService', 'CreateMemoComment', {name: parent, comment: fields})
          : call('MemoService', 'CreateMemo', {memo: fields}));
        stage.reset();
        text.value = '';
        links.reset();
        visibility.value = defaultVisibility();
        storeDraft();
        grow();
      }
      onSaved?.(saved);
    } catch (error) {
      toastError(error);
    } finally {
      busy = false;
      refresh();
    }
  }

  if (draftName) {
    window.addEventListener('pagehide', storeDraft);
    document.addEventListener('visibilitychange', storeDraft);
  }

  // Tag completion: after '#' and at least one tag character, the user's tags that start with it.
  let choices = [];
  let active = 0;
  function typedTag() {
    return /(?:^|\s)#([^\s#]+)$/u.exec(text.value.slice(0, text.selectionStart))?.[1];
  }
  function suggestTags() {
    const typed = typedTag();
    const tags = Object.keys(state.stats?.tagCount || {});
    suggest(typed ? tags.filter((tag) => tag.toLowerCase().startsWith(typed.toLowerCase()) && tag !== typed).slice(0, 8) : []);
  }
  // Shows `tags`, the one at `at` active.
  function suggest(tags, at = 0) {
    choices = tags;
    active = at;
    suggestions.replaceChildren(...choices.map((tag, index) => h('li', {
      role: 'option', class: index === active ? 'active' : '', 'aria-selected': index === active,
      onmousedown: (event) => {
        event.preventDefault();
        accept(tag);
      },
    }, `#${tag}`)));
    suggestions.hidden = choices.length === 0;
  }
  function accept(tag) {
    const at = text.selectionStart;
    text.setRangeText(`${tag} `, at - (typedTag() || '').length, at, 'end');
    suggest([]);
    text.dispatchEvent(new Event('input'));
  }
  function handleSuggestionKey(event) {
    const {key} = event;
    const step = {ArrowDown: 1, ArrowUp: choices.length - 1}[key];
    if (step !== undefined) {
      suggest(choices, (active + step) % choices.length);
    } else if (key === 'Enter' || key === 'Tab') {
      accept(choices[active]);
    } else if (key === 'Escape') {
      suggest([]);
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  refresh();
  requestAnimationFrame(grow);
  const setDay = (value) => {
    day = memo ? '' : value;
    dayLine.hidden = !day;
    dayLine.textContent = day && dayStamp(dayTimeOf(day));
  };
  return {root, focus: () => text.focus(), setDay};
}
