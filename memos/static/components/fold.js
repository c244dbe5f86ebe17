// Compact cards (F14): a memo body taller than FOLD_AT px is cut to FOLDED px with a fade and a
// "Show more" / "Show less" toggle. foldTallCards(container) watches the cards added to it.
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';

const FOLD_AT = 420;

function fold(card) {
  const body = card.querySelector(':scope > .memo-content');
  if (!body || body.dataset.folded || !card.closest('.compact') || body.scrollHeight <= FOLD_AT) return;
  body.dataset.folded = 'true';
  body.classList.add('folded');
  const toggle = h('button.fold-toggle', {'aria-expanded': false, onclick: () => {
    const open = !body.classList.toggle('folded');
    toggle.textContent = t(open ? 'fold.show-less' : 'fold.show-more');
    toggle.setAttribute('aria-expanded', open);
  }}, t('fold.show-more'));
  body.after(toggle);
}

export function foldTallCards(container) {
  const check = () => {
    for (const card of container.querySelectorAll('article.memo-card')) fold(card);
  };
  const soon = () => requestAnimationFrame(check);
  const observer = new MutationObserver(soon);
  observer.observe(container, {childList: true, subtree: true});
  // Images change a body's height after it was first measured.
  container.addEventListener('load', soon, true);
  soon();
  return () => observer.disconnect();
}
