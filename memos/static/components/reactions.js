// Reactions of a memo: pills "emoji count" (pressed when the viewer reacted; a click toggles)
// and a picker over the instance's reaction set. Read-only for guests and archived memos.
//   const {trigger, row} = reactionParts(memo, {readOnly})
import {call} from '../core/api.js';
import {h, iconButton} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {state} from '../core/state.js';
import {toastError} from '../core/ui.js';

const NAMES_SHOWN = 4;

function username(name) {
  return (name || '').split('/')[1] || name;
}

function whoReacted(creators, emoji) {
  const names = creators.slice(0, NAMES_SHOWN).map(username).join(', ');
  const more = creators.length - NAMES_SHOWN;
  return t(more > 0 ? 'reactions.tooltip-more' : 'reactions.tooltip', {names, count: more, emoji});
}

export function reactionParts(memo, {readOnly = false} = {}) {
  const locked = readOnly || !state.user || memo.state === 'ARCHIVED';
  let reactions = memo.reactions || [];
  const row = h('div.reactions');
  let picker = null;

  const mine = (emoji) => reactions.find((item) => item.reactionType === emoji && item.creator === state.user?.name);

  async function toggle(emoji) {
    closePicker();
    try {
      const own = mine(emoji);
      if (own) await call('MemoService', 'DeleteMemoReaction', {name: own.name});
      else await call('MemoService', 'UpsertMemoReaction', {name: memo.name, reaction: {contentId: memo.name, reactionType: emoji}});
      reactions = memo.reactions = (await call('MemoService', 'GetMemo', {name: memo.name})).reactions || [];
      render();
    } catch (error) {
      toastError(error);
    }
  }

  // A button toggling the viewer's reaction, pressed while it is theirs.
  function reactionButton(kind, emoji, text, props) {
    const own = Boolean(mine(emoji));
    return h('button', {class: kind + (own ? ' active' : ''), 'aria-pressed': String(own), onclick: () => toggle(emoji), ...props}, text);
  }

  function render() {
    const groups = new Map();  // emoji -> creators, in the order first reacted
    for (const {reactionType, creator} of reactions) groups.set(reactionType, [...(groups.get(reactionType) || []), creator]);
    row.replaceChildren(...[...groups].map(([emoji, creators]) => reactionButton('reaction-pill', emoji,
      `${emoji} ${creators.length}`, {disabled: locked, title: whoReacted(creators, emoji)})));
    row.hidden = !groups.size;
  }

  function closePicker() {
    picker?.remove();
    picker = null;
    trigger?.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
  }
  function outside(event) {
    if (picker && !picker.contains(event.target) && !trigger.contains(event.target)) closePicker();
  }
  function openPicker() {
    if (picker) return closePicker();
    const choices = state.memoRelated?.reactions || [];
    picker = h('div.reaction-picker', {role: 'group', 'aria-label': t('reactions.pick'), onkeydown: (event) => {
      if (event.key !== 'Escape') return;
      closePicker();
      trigger.focus();
    }}, choices.map((emoji) => reactionButton('reaction-choice', emoji, emoji)));
    wrap.append(picker);
    trigger.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', outside, true);
    picker.querySelector('button')?.focus();
  }

  const trigger = locked ? null : iconButton('smile', t('reactions.add'), openPicker,
    {class: 'icon-btn reaction-trigger', 'aria-expanded': 'false'});
  const wrap = trigger ? h('span.menu-wrap', trigger) : null;
  render();
  return {trigger: wrap, row};
}
