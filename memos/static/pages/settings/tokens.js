// Settings: personal access tokens (newest first; the token itself is shown once, at creation).
import {call} from '../../core/api.js';
import {h, iconButton} from '../../core/dom.js';
import {relativeTime, t} from '../../core/i18n.js';
import {state} from '../../core/state.js';
import {confirmThen} from '../../core/attempt.js';
import {formDialog, secretDialog} from '../../components/form.js';

const SOON_MS = 30 * 86400 * 1000;

function statusOf(token) {
  if (token.expiresAt && Date.parse(token.expiresAt) - Date.now() < SOON_MS) return 'expiring';
  return token.lastUsedAt ? 'used' : 'unused';
}

function usage() {
  return h('details.card.usage', h('summary', t('tokens.how-to')),
    h('pre.mono.small', `curl -H "Authorization: Bearer <token>" ${location.origin}/api/v1/memos`));
}

async function create(rerender) {
  const created = await formDialog({
    title: t('tokens.create'),
    submitLabel: t('tokens.create'),
    fields: [
      ['description', t('common.description'), 'text', {required: true}],
      ['days', t('tokens.expiration'), 'select',
        {options: [[0, t('tokens.never')], [30, t('tokens.days', {n: 30})], [90, t('tokens.days', {n: 90})]]}],
    ],
    onSubmit: ({description, days}) => call('UserService', 'CreatePersonalAccessToken',
      {parent: state.user.name, description, expiresInDays: days}),
  });
  if (!created) return;
  rerender();
  await secretDialog({title: t('tokens.created'), secret: created.token, note: t('tokens.shown-once')});
}

function remove(token, rerender) {
  return confirmThen({title: t('tokens.delete-title'), message: token.description, confirm: t('memo.delete')},
    () => call('UserService', 'DeletePersonalAccessToken', {name: token.name}), t('tokens.deleted'), rerender);
}

export async function accessTokens(rerender) {
  const {personalAccessTokens = []} = await call('UserService', 'ListPersonalAccessTokens', {parent: state.user.name});
  const tokens = personalAccessTokens.sort((a, b) => Date.parse(b.createdAt || 0) - Date.parse(a.createdAt || 0));
  const createButton = h('button.btn.btn-primary', {onclick: () => create(rerender)}, t('tokens.create'));
  if (!tokens.length) {
    return h('div', h('div.card.empty-box', h('p.muted', t('tokens.empty')), createButton), usage());
  }
  return h('div',
    h('div.section-head', createButton),
    h('ul.card.rows', {'aria-label': t('settings.section.access-token')}, tokens.map((token) => h('li.row.token-row',
      h('span', {class: `dot dot-${statusOf(token)}`, 'aria-hidden': 'true'}),
      h('div.grow',
        h('strong', token.description || token.name.split('/').pop()),
        h('p.muted.small',
          token.lastUsedAt ? t('tokens.last-used', {time: relativeTime(new Date(token.lastUsedAt))}) : t('tokens.never-used'),
          ' · ',
          token.expiresAt ? t('tokens.expires', {time: relativeTime(new Date(token.expiresAt))}) : t('tokens.no-expiration'))),
      iconButton('trash', t('tokens.delete', {name: token.description}), () => remove(token, rerender),
        {class: 'icon-btn reveal-on-hover'})))),
    usage());
}
