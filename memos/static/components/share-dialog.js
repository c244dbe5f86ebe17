// "Share this memo": the memo's share links (full URL, copy, revoke, expiry) and creating one
// that never expires or expires in 1, 7 or 30 days. Creator or admin only (the server checks).
import {call} from '../core/api.js';
import {h, iconButton} from '../core/dom.js';
import {dateTime, t} from '../core/i18n.js';
import {copyText, modal, toastError} from '../core/ui.js';
import {attempt, confirmThen} from '../core/attempt.js';

const EXPIRIES = [0, 1, 7, 30];
const DAY_MS = 86_400_000;

function expiryText(share) {
  if (!share.expireTime) return t('share.never-expires');
  const when = new Date(share.expireTime);
  return t(when < new Date() ? 'share.expired' : 'share.expires', {date: dateTime(when)});
}

export function openShareDialog(memo) {
  const list = h('ul.share-list');
  const expiry = h('select.select', {'aria-label': t('share.expiry')},
    EXPIRIES.map((days) => h('option', {value: days}, days ? t('share.days', {count: days}) : t('share.never-expires'))));
  const create = h('button.btn.btn-primary', {onclick: createShare}, t('share.create'));
  const {dialog, close} = modal('share-dialog', 'share-title',
    h('h2.dialog-title', {id: 'share-title'}, t('share.title')),
    h('p.muted.small', t('share.note')),
    list,
    h('div.share-create', expiry, create),
    h('div.dialog-actions', h('button.btn', {onclick: () => close()}, t('dialog.close'))));

  function load() {
    return call('MemoService', 'ListMemoShares', {parent: memo.name}).then(({memoShares = []}) => {
      list.replaceChildren(...(memoShares.length ? memoShares.map(row) : [h('li.muted.small', t('share.none'))]));
    }, toastError);
  }

  function row(share) {
    const url = `${location.origin}/memos/shares/${share.name.split('/').pop()}`;
    return h('li.share-row',
      h('div.share-main',
        h('input.input.share-url', {readonly: true, value: url, 'aria-label': t('share.link')}),
        h('span.muted.small', expiryText(share))),
      iconButton('copy', t('memo.copy-link'), () => copyText(url, t('memo.link-copied'))),
      iconButton('close', t('share.revoke'), () => confirmThen({title: t('share.revoke-title'), message: t('share.revoke-message'),
        confirm: t('share.revoke')}, () => call('MemoService', 'DeleteMemoShare', {name: share.name}), t('share.revoked'), load),
      {class: 'icon-btn danger'}));
  }

  async function createShare() {
    const days = Number(expiry.value);
    const memoShare = days ? {expireTime: new Date(Date.now() + days * DAY_MS).toISOString()} : {};
    create.disabled = true;
    await attempt(() => call('MemoService', 'CreateMemoShare', {parent: memo.name, memoShare}).then(load), t('share.created'));
    create.disabled = false;
  }

  load();
  return dialog;
}
