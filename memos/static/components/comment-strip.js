// The strip under a feed card whose memo has comments (F20): "Comments (n)", "View all" and up to
// three previews (author, snippet, a paperclip when the comment has files), each linking to its
// anchor on the detail page.
import {call} from '../core/api.js';
import {h, icon} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {whenNear} from './near.js';
import {usersNamed} from '../core/users.js';

const uidOf = (name) => name.split('/')[1];

// The comment count comes with the memo: its COMMENT relations that point at it.
export function commentStrip(memo) {
  const count = (memo.relations || []).filter((relation) => relation.type === 'COMMENT'
    && relation.relatedMemo?.name === memo.name).length;
  if (!count) return null;
  const detail = `/memos/${uidOf(memo.name)}`;
  const list = h('ul.strip-list');
  const strip = h('aside.comment-strip', {'aria-label': t('comments.title')},
    h('div.strip-head', h('span', t('comments.count', {count})),
      h('a', {href: `${detail}#comments`}, `${t('comments.view-all')} ↗`)), list);
  whenNear(strip, async () => {
    const {memos = []} = await call('MemoService', 'ListMemoComments', {name: memo.name, pageSize: 3}).catch(() => ({}));
    const users = await usersNamed(memos.map((comment) => uidOf(comment.creator)));
    list.append(...memos.slice(0, 3).map((comment) => {
      const author = uidOf(comment.creator);
      return h('li', h('a', {href: `${detail}#${uidOf(comment.name)}`},
        h('b', users.get(author)?.displayName || author), ' ',
        h('span.muted', comment.snippet),
        comment.attachments?.length ? icon('paperclip', t('comments.has-files')) : null));
    }));
  });
  return strip;
}
