// The unread count on the rail's Inbox link. Notifications are not pushed, so the count is
// fetched again on navigation or when the window regains focus, at most every 30 s (or at once
// after the inbox changed it: forgetUnread()).
import {call} from '../core/api.js';
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {state} from '../core/state.js';

const MAX_AGE_MS = 30_000;
let unread = 0;
let fetchedAt = 0;
let pending = null;

export function forgetUnread() {
  fetchedAt = 0;
}

async function unreadCount() {
  if (Date.now() - fetchedAt < MAX_AGE_MS) return unread;
  pending ??= call('UserService', 'ListUserNotifications', {parent: state.user.name})
    .then(({notifications = []}) => {
      unread = notifications.filter((item) => item.status === 'UNREAD').length;
      fetchedAt = Date.now();
      return unread;
    })
    .catch(() => unread)
    .finally(() => (pending = null));
  return pending;
}

function show(link, count) {
  link.querySelector('.badge')?.remove();
  const label = count ? t('inbox.link-unread', {count}) : t('nav.inbox');
  link.setAttribute('aria-label', label);
  link.title = label;
  if (count) link.append(h('span.badge', {'aria-hidden': true}, count > 99 ? '99+' : count));
}

// Keeps `link` up to date while it is in the page.
export function attachInboxBadge(link) {
  if (!link || !state.user) return;
  const update = () => {
    if (!link.isConnected) return void window.removeEventListener('focus', update);
    unreadCount().then((count) => show(link, count));
  };
  window.addEventListener('focus', update);
  queueMicrotask(update);
}
