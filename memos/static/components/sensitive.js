// A memo with a tag whose rule says blurContent (M28): all below the card's header is blurred and
// out of reach (inert) until the reader asks to see it; the reveal lasts for this card only.
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {isSensitive} from '../core/tag-rules.js';

export function shieldIfSensitive(card, memo) {
  if (!isSensitive(memo)) return;
  const parts = [...card.children].slice(1);
  const cover = (on) => parts.forEach((part) => {
    part.inert = on;
    part.classList.toggle('blurred', on);
  });
  const reveal = h('button.btn.reveal', {onclick: () => {
    cover(false);
    reveal.remove();
  }}, t('memo.show-sensitive'));
  cover(true);
  card.append(reveal);
}
