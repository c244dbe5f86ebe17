// A list of memo cards fed page by page (16 a page) as the reader nears its end.
//   const list = memoList({fetchPage: (token) => call(...ListMemos...), cardOptions})
//   list.root, list.prepend(memo), list.reload(), list.dispose()
import {call} from '../core/api.js';
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {memoCard} from './memo-card.js';
import {commentStrip} from './comment-strip.js';
import {creatorName, usersNamed} from '../core/users.js';

export const PAGE_SIZE = 16;

// memo name -> rendered HTML, for the memos asked (up to 100 a call).
export async function memoHtml(memos) {
  const html = {};
  for (let at = 0; at < memos.length; at += 100) {
    const {memos: rendered = []} = await call('MemoHtmlService', 'BatchGetMemoHtml', {names: memos.slice(at, at + 100).map((memo) => memo.name)});
    for (const item of rendered) html[item.name] = item.html;
  }
  return html;
}

export function memoList({fetchPage, cardOptions = {}, onChange}) {
  const items = h('div.memo-items');
  const sentinel = h('div.list-end', {'aria-hidden': true});
  const status = h('p.list-status.muted', {role: 'status'});
  const top = h('button.btn.back-to-top', {hidden: true,
    onclick: () => window.scrollTo({top: 0, behavior: 'smooth'})}, `${t('feed.back-to-top')} ↑`);
  const root = h('section.memo-list', {'aria-label': t('feed.memos')}, items, status, top, sentinel);
  // "Back to top" at the end of the whole list, once the reader has scrolled down a screen or so.
  const onScroll = () => (top.hidden = !done || !items.childElementCount || window.scrollY <= 400);
  window.addEventListener('scroll', onScroll);
  const authors = new Map();
  let nextToken = '';
  let done = false;
  let loading = null;
  let generation = 0;

  const shown = (name) => items.querySelector(`[data-name="${CSS.escape(name)}"]`);
  const card = (memo, html, extra) => memoCard(memo, {
    ...cardOptions, ...extra, html: html[memo.name] ?? '', author: authors.get(creatorName(memo)),
    strip: !cardOptions.archived && commentStrip(memo),
    onChanged: replace,
    onRemoved: (removed) => drop(removed.name),
  });
  const rendered = async (memo, extra) => card(memo, await memoHtml([memo]), extra);

  async function loadMore() {
    if (loading || done) return loading;
    const mine = generation;
    // The spinner only when a page takes a while: quick pages would make it flicker.
    const slow = setTimeout(() => status.classList.add('busy'), 250);
    loading = (async () => {
      try {
        const page = await fetchPage(nextToken);
        const memos = page.memos || [];
        const [html, found] = await Promise.all([memoHtml(memos),
          cardOptions.showAuthor ? usersNamed(memos.map(creatorName)) : null]);
        found?.forEach((user, name) => authors.set(name, user));
        if (mine !== generation) return;
        items.append(...memos.map((memo) => card(memo, html)));
        nextToken = page.nextPageToken || '';
        done = !nextToken;
        const empty = !items.childElementCount;
        status.replaceChildren(...(empty ? [h('img.empty-bird', {src: '/bird.svg', alt: '', width: 48, height: 40}), h('span', t('feed.empty'))] : []));
        status.classList.toggle('empty', empty);
        onScroll();
      } catch (error) {
        status.textContent = error.message;
        done = true;
      } finally {
        loading = null;
        clearTimeout(slow);
        status.classList.remove('busy');
      }
      // Keep loading while the end is still in view (a short page does not scroll).
      if (!done && sentinel.getBoundingClientRect().top < window.innerHeight + 300) loadMore();
    })();
    return loading;
  }

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadMore();
  }, {rootMargin: '300px'});
  observer.observe(sentinel);

  // A memo changed: its card is redrawn, dropped when it left this list (archived, restored),
  // and the list reloaded when the change moves it (pinning in a pinned-first list).
  async function replace(memo, mask) {
    const old = shown(memo.name);
    if (mask === 'pinned' && cardOptions.pinnedFirst) {
      reload();
    } else if (old && cardOptions.keep && !cardOptions.keep(memo)) {
      old.remove();
    } else if (old) {
      old.replaceWith(await rendered(memo, {isNew: old.querySelector('.pill-new') !== null}));
    }
    onChange?.();
  }

  async function prepend(memo) {
    items.prepend(await rendered(memo, {isNew: true}));
    status.textContent = '';
    status.classList.remove('empty');
    onChange?.();
  }

  function reload() {
    generation += 1;
    items.replaceChildren();
    nextToken = '';
    done = false;
    loading = null;
    return loadMore();
  }

  // A memo the list shows was deleted elsewhere.
  function drop(name) {
    shown(name)?.remove();
    onChange?.();
  }
  // Whether a card of the memo is shown (not an open inline editor of it).
  const shows = (name) => shown(name)?.tagName === 'ARTICLE';

  return {root, prepend, reload, loadMore, replace, drop, shows, dispose: () => {
    observer.disconnect();
    window.removeEventListener('scroll', onScroll);
  }};
}
