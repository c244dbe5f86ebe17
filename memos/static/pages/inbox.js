// /inbox: comment and mention notifications, with tabs All / Unread / Archived.
import {call} from '../core/api.js';
import {clear, h, icon, iconButton} from '../core/dom.js';
import {dateTime, t} from '../core/i18n.js';
import {navigate} from '../core/router.js';
import {state} from '../core/state.js';
import {toastError} from '../core/ui.js';
import {attempt} from '../core/attempt.js';
import {attachInboxBadge, forgetUnread} from '../components/inbox-badge.js';
import {avatar} from './settings/account.js';

const TABS = ['all', 'unread', 'archived'];

function headline(item) {
  const sender = item.senderUser?.displayName || item.senderUser?.username || item.sender;
  if (item.memoComment) return t('inbox.commented', {sender});
  return item.memoMention.relatedMemo ? t('inbox.mentioned-comment', {sender}) : t('inbox.mentioned-memo', {sender});
}

async function setStatus(item, status) {
  await call('UserService', 'UpdateUserNotification', {notification: {name: item.name, status}, updateMask: 'status'});
  forgetUnread();
}

function entry(item, reload) {
  const payload = item.memoComment || item.memoMention;
  const remove = iconButton('trash', t('inbox.delete'), () => attempt(async () => {
    await call('UserService', 'DeleteUserNotification', {name: item.name});
    forgetUnread();
  }, null, reload));
  if (!payload) return h('li.inbox-item', h('p.grow.muted', t('inbox.broken')), remove);
  const unread = item.status === 'UNREAD';
  // Clicking leads to the memo commented on; for a mention, to the memo mentioning, or the parent
  // memo when the mention is in a comment (relatedMemo in both cases when set).
  const open = async () => {
    if (unread) await setStatus(item, 'ARCHIVED').catch(() => {});
    navigate('/' + (payload.relatedMemo || payload.memo));
  };
  const original = item.memoComment ? payload.relatedMemoSnippet : payload.memoSnippet;
  const excerpt = item.memoComment ? payload.memoSnippet : payload.relatedMemoSnippet;
  return h(unread ? 'li.inbox-item.unread' : 'li.inbox-item',
    h('span.inbox-avatar', avatar(item.senderUser || {username: item.sender}),
      h('span.inbox-kind', icon(item.memoComment ? 'comment' : 'at'))),
    h('div.grow',
      h('p.inbox-head', h('strong', headline(item)), ' ',
        h('time.muted.small', {datetime: item.createTime}, dateTime(new Date(item.createTime)))),
      h('button.inbox-snippet', {onclick: open},
        original && h('q.muted', original),
        excerpt && h('span.inbox-excerpt', excerpt))),
    unread
      ? iconButton('check', t('inbox.mark-read'), () => attempt(() => setStatus(item, 'ARCHIVED'), t('inbox.marked-read'), reload),
        {class: 'icon-btn reveal-on-hover'})
      : h('span.reveal-on-hover', remove));
}

export default {
  async render({main}) {
    let tab = 'all';
    let items = [];
    const tabs = h('div.segmented', {role: 'tablist', 'aria-label': t('nav.inbox')});
    const list = h('ul.inbox-list');
    const count = h('span.pill');
    const draw = () => {
      const unread = items.filter((item) => item.status === 'UNREAD');
      const counts = {all: items.length, unread: unread.length, archived: items.length - unread.length};
      count.textContent = String(unread.length);
      tabs.replaceChildren(...TABS.map((name) => h('button', {role: 'tab', class: name === tab ? 'active' : '',
        'aria-selected': name === tab, onclick: () => {
          tab = name;
          draw();
        }}, t('inbox.' + name) + ` (${counts[name]})`)));
      const shown = tab === 'all' ? items : items.filter((item) => (tab === 'unread') === (item.status === 'UNREAD'));
      clear(list).append(...(shown.length ? shown.map((item) => entry(item, load)) : [h('li.empty-note', t(`inbox.empty-${tab}`))]));
    };
    const load = async () => {
      try {
        const answer = await call('UserService', 'ListUserNotifications', {parent: state.user.name});
        items = (answer.notifications || []).sort((a, b) => Date.parse(b.createTime) - Date.parse(a.createTime));
      } catch (error) {
        toastError(error);
      }
      draw();
      attachInboxBadge(document.querySelector('.rail a[href="/inbox"]'));
    };
    main.append(h('section.card.inbox',
      h('h1.page-title.inbox-title', icon('bell'), t('nav.inbox'), count), tabs, list));
    await load();
  },
};
