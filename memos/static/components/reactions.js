// Reactions of a memo: pills "emoji count" (pressed when the viewer reacted; a click toggles)
// and a picker over the instance's reaction set. Read-only for guests and archived memos.
//   const {trigger, row} = reactionParts(memo, {readOnly})
import {call} from '../core/api.js';
import {h, iconButton} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {state} from '../core/state.js';
import {popup, toastError} from '../core/ui.js';

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

  const mine = (emoji) => reactions.find((item) => item.reactionType === emoji && item.creator === state.user?.name);

  async function toggle(emoji) {
    picker.close(false);
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
    return h('button', {class: kind + (own ? ' active' : ''), 'aria-pressed': own, onclick: () => toggle(emoji), ...props}, text);
  }

  function render() {
    const groups = new Map();  // emoji -> creators, in the order first reacted
    for (const {reactionType, creator} of reactions) groups.set(reactionType, [...(groups.get(reactionType) || []), creator]);
    row.replaceChildren(...[...groups].map(([emoji, creators]) => reactionButton('reaction-pill', emoji,
      `${emoji} ${creators.length}`, {disabled: locked, title: whoReacted(creators, emoji)})));
    row.hidden = !groups.size;
  }

  const trigger = !locked && iconButton('smile', t('reactions.add'), () => picker.toggle(),
    {class: 'icon-btn reaction-trigger', 'aria-expanded': false});
  const wrap = trigger && h('span.menu-wrap', trigger);
  const picker = popup(trigger, () => {
    const choices = h('div.reaction-picker', {role: 'group', 'aria-label': t('reactions.pick')},
      (state.memoRelated?.reactions || []).map((emoji) => reactionButton('reaction-choice', emoji, emoji)));
    wrap.append(choices);
    choices.firstChild?.focus();
    return choices;
  });
  render();
  return {trigger: wrap, row};
}
