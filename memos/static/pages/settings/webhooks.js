// Settings: the user's webhooks, with their signing secrets.
import {call} from '../../core/api.js';
import {h, iconButton} from '../../core/dom.js';
import {t} from '../../core/i18n.js';
import {state} from '../../core/state.js';
import {toast, toastError} from '../../core/ui.js';
import {confirmThen} from '../../core/attempt.js';
import {formDialog, secretDialog} from '../../components/form.js';

const FIELDS = () => [
  ['displayName', t('webhooks.title'), 'text', {required: true}],
  ['url', t('webhooks.url'), 'url', {required: true, mono: true}],
];

// The signing secret, in a dialog that says (unless `again`) it is shown this once.
function showSecret(secret, again) {
  return secretDialog({title: t('webhooks.secret'), secret, note: !again && t('webhooks.secret-once')});
}

async function storedSecret(webhook) {
  return (await call('UserService', 'GetUserWebhookSigningSecret', {name: webhook.name})).signingSecret;
}

async function create(rerender) {
  const webhook = await formDialog({
    title: t('webhooks.create'), submitLabel: t('webhooks.create'), fields: FIELDS(),
    onSubmit: (values) => call('UserService', 'CreateUserWebhook', {parent: state.user.name, webhook: values}),
  });
  if (!webhook) return;
  rerender();
  const secret = await storedSecret(webhook);
  if (secret) await showSecret(secret);
}

async function generate(webhook) {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const signingSecret = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  await call('UserService', 'UpdateUserWebhook', {webhook: {name: webhook.name, signingSecret}, updateMask: 'signingSecret'});
  await showSecret(signingSecret);
}

async function edit(webhook, rerender) {
  const secretButton = h('button.btn', {onclick: () =>
    (webhook.signingSecretSet ? storedSecret(webhook).then((secret) => showSecret(secret, true)) : generate(webhook).then(rerender)).catch(toastError)},
  webhook.signingSecretSet ? t('webhooks.reveal') : t('webhooks.generate'));
  const saved = await formDialog({
    title: t('webhooks.edit'), fields: FIELDS(), values: webhook,
    intro: h('div.field.field-row', h('span.field-label', t('webhooks.secret')), secretButton),
    onSubmit: ({displayName, url}) => call('UserService', 'UpdateUserWebhook',
      {webhook: {name: webhook.name, displayName, url}, updateMask: 'displayName,url'}),
  });
  if (saved) {
    toast(t('settings.saved'));
    rerender();
  }
}

function remove(webhook, rerender) {
  return confirmThen({title: t('webhooks.delete-title'), message: webhook.displayName, confirm: t('memo.delete')},
    () => call('UserService', 'DeleteUserWebhook', {name: webhook.name}), t('webhooks.deleted'), rerender);
}

export async function webhooks(rerender) {
  const {webhooks: list = []} = await call('UserService', 'ListUserWebhooks', {parent: state.user.name});
  return h('div',
    h('div.section-head', h('button.btn.btn-primary', {onclick: () => create(rerender).catch(toastError)}, t('webhooks.create'))),
    list.length
      ? h('table.card.table',
        h('thead', h('tr', h('th', t('webhooks.title')), h('th', t('webhooks.url')), h('th', h('span.visually-hidden', t('memo.actions'))))),
        h('tbody', list.map((webhook) => h('tr',
          h('td', webhook.displayName),
          h('td.truncate.mono.small', {title: webhook.url}, webhook.url),
          h('td.cell-actions',
            iconButton('edit', t('webhooks.edit-named', {name: webhook.displayName}), () => edit(webhook, rerender)),
            iconButton('trash', t('webhooks.delete-named', {name: webhook.displayName}), () => remove(webhook, rerender)))))))
      : h('p.empty-note.card', t('webhooks.empty')));
}
