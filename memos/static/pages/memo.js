// A memo's own page (/memos/:uid): the parent link of a comment, the full card, the comments
// with their composer, and the sidebar (actions, properties, tags, attachments). Unknown or
// hidden memos show the 404 page.
import {call} from '../core/api.js';
import {clear, h, icon, iconButton} from '../core/dom.js';
import {dateTime, t} from '../core/i18n.js';
import {navigate} from '../core/router.js';
import {canWrite, state} from '../core/state.js';
import {copyText, toastError} from '../core/ui.js';
import {attempt} from '../core/attempt.js';
import {fileUrl, formatSize} from '../components/attachments.js';
import {createEditor, visibilityOptions} from '../components/editor.js';
import {memoCard, memoLink, memoUid} from '../components/memo-card.js';
import {memoHtml} from '../components/memo-list.js';
import {openShareDialog} from '../components/share-dialog.js';
import {choice} from '../core/fields.js';
import {authorOf, creatorName, usersNamed} from '../core/users.js';

const HIDDEN = new Set(['not_found', 'permission_denied', 'unauthenticated']);
const COMMENTS_PAGE = 16;

function property(label, value) {
  return h('div.side-prop', h('dt.muted.small', label), h('dd', value));
}

// A titled list of the sidebar with its count, none when there is nothing to list.
function sideList(title, items = [], tag, entry) {
  return items.length ? h('div', h('div.section-label', `${title} (${items.length})`), h(tag, items.map(entry))) : null;
}

// The sidebar of a memo: `onChanged(memo)` after a change made here; `shareToken` on a shared page.
export function memoSidebar(memo, {author, onChanged, shareToken = ''} = {}) {
  const writable = !shareToken && canWrite(memo);
  const owner = writable && !memo.parent;
  const update = (patch, mask, message) => attempt(() => call('MemoService', 'UpdateMemo',
    {memo: {name: memo.name, ...patch}, updateMask: mask}), message, (saved) => onChanged?.(saved, mask));
  const actions = !shareToken && h('div.side-actions',
    owner && iconButton('bookmark', memo.pinned ? t('memo.unpin') : t('memo.pin'),
      () => update({pinned: !memo.pinned}, 'pinned', memo.pinned ? t('memo.unpinned') : t('memo.pinned'))),
    iconButton('copy', t('memo.copy-link'), () => copyText(memoLink(memo), t('memo.link-copied'))),
    owner && iconButton('share', t('share.manage'), () => openShareDialog(memo)));
  const visibility = writable
    ? choice(t('editor.visibility'), visibilityOptions(), memo.visibility,
      (value) => update({visibility: value}, 'visibility', t('detail.visibility-saved')))
    : t(`visibility.${memo.visibility.toLowerCase()}`);
  const created = new Date(memo.createTime);
  const updated = new Date(memo.updateTime);
  const who = creatorName(memo);
  return h('div.memo-sidebar',
    actions,
    h('dl.side-props',
      property(t('editor.visibility'), visibility),
      property(t('memo.created-at'), dateTime(created)),
      Math.abs(updated - created) > 1000 && property(t('memo.updated-at'), dateTime(updated)),
      property(t('detail.author'), shareToken ? author?.displayName || who
        : h('a', {href: `/u/${encodeURIComponent(who)}`}, author?.displayName || who))),
    sideList(t('explorer.tags'), memo.tags, 'div.side-tags', (tag) => shareToken ? h('span.tag', `#${tag}`)
      : h('a.tag', {href: `/?filter=tagSearch:${encodeURIComponent(tag)}`}, `#${tag}`)),
    sideList(t('attachments.title'), memo.attachments, 'ul.side-files', (item) => h('li',
      h('a', {href: fileUrl(item, {shareToken}), target: '_blank', rel: 'noopener'}, item.filename),
      h('span.muted.small', ` ${formatSize(item.size)}`))));
}

// The comments of `memo`: a header with the count and "Write a comment", the composer, the
// comment cards (anchored at their uid) and "Load more".
function commentsSection(memo) {
  const label = h('h2.comments-title');
  const list = h('div.comment-items');
  const more = h('button.btn', {hidden: true, onclick: load}, t('comments.load-more'));
  const slot = h('div');
  const write = state.user && h('button.btn', {onclick: openComposer}, t('comments.write'));
  const section = h('section.comments', {id: 'comments', 'aria-label': t('comments.title')},
    h('div.comments-header', label, h('span.grow'), write), slot, list, more);
  let token = '';
  let count = 0;
  let composer = null;

  const counted = (by) => {
    count += by;
    label.textContent = count ? t('comments.count', {count}) : '';
    label.hidden = !count;
    section.classList.toggle('empty', !count);
  };
  const commentCard = (comment, html, author) => {
    const item = memoCard(comment, {
      html, showAuthor: true, author,
      onChanged: async (updated) => {
        list.querySelector(`[data-name="${CSS.escape(updated.name)}"]`)?.replaceWith(...await commentCards([updated]));
      },
      onRemoved: () => {
        item.remove();
        counted(-1);
      },
    });
    item.id = memoUid(comment);
    item.classList.add('comment-card');
    return item;
  };
  const commentCards = async (comments) => {
    const [html, authors] = await Promise.all([memoHtml(comments), usersNamed(comments.map(creatorName))]);
    return comments.map((comment) => commentCard(comment, html[comment.name] ?? '', authors.get(creatorName(comment))));
  };

  function openComposer() {
    if (composer) return composer.focus();
    composer = createEditor({
      parent: memo.name, draftKey: `comment-${memoUid(memo)}`, placeholder: t('comments.placeholder'),
      onSaved: async (comment) => {
        list.append(...await commentCards([comment]));
        counted(1);
        closeComposer();
      },
      onCancel: closeComposer,
    });
    slot.append(composer.root);
    composer.focus();
    if (write) write.hidden = true;
  }
  function closeComposer() {
    clear(slot);
    composer = null;
    if (write) write.hidden = false;
  }

  async function load() {
    more.disabled = true;
    try {
      const page = await call('MemoService', 'ListMemoComments', {name: memo.name, pageSize: COMMENTS_PAGE, pageToken: token});
      const comments = page.memos || [];
      list.append(...await commentCards(comments));
      counted(comments.length);
      token = page.nextPageToken || '';
      more.hidden = !token;
    } catch (error) {
      toastError(error);
    } finally {
      more.disabled = false;
    }
  }
  counted(0);
  return {section, load};
}

async function parentLink(name) {
  try {
    const parent = await call('MemoService', 'GetMemo', {name});
    return h('a.parent-link', {href: `/${parent.name}`}, icon('up'),
      h('span', parent.snippet || t('detail.parent')));
  } catch {
    return null;
  }
}

export default {
  explorer: () => true,

  async render({params, main, aside}) {
    let memo;
    try {
      memo = await call('MemoService', 'GetMemo', {name: `memos/${params.uid}`});
    } catch (error) {
      if (HIDDEN.has(error.code)) return void navigate('/404', {replace: true});
      toastError(error);
      return;
    }
    const [html, parent, author] = await Promise.all([
      memoHtml([memo]),
      memo.parent && parentLink(memo.parent),
      authorOf(memo),
    ]);
    aside?.setAttribute('aria-label', t('detail.sidebar'));
    const showSidebar = (current) => aside && clear(aside).append(memoSidebar(current, {author, onChanged: changed}));
    const show = (current, rendered) => memoCard(current, {
      html: rendered, showAuthor: true, archived: current.state === 'ARCHIVED', author,
      onChanged: changed,
      onRemoved: () => navigate('/'),
    });
    async function changed(updated, mask) {
      if (mask === 'state') return void navigate(updated.state === 'ARCHIVED' ? '/archived' : '/');
      const fresh = await memoHtml([updated]);
      main.querySelector('.detail > .memo-card, .detail > .editor')?.replaceWith(show(updated, fresh[updated.name]));
      showSidebar(updated);
    }
    const comments = commentsSection(memo);
    main.append(h('div.detail', parent, show(memo, html[memo.name] ?? ''), comments.section));
    showSidebar(memo);
    document.title = memo.snippet?.slice(0, 60) || t('nav.memo');
    await comments.load();
    if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView({block: 'center'});
  },
};
