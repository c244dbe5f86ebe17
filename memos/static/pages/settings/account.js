// Settings: My account (profile, password, linked sign-in providers, deleting the account).
import {call} from '../../core/api.js';
import {h} from '../../core/dom.js';
import {t} from '../../core/i18n.js';
import {set, state} from '../../core/state.js';
import {signOutEverywhere} from '../../core/session.js';
import {toast} from '../../core/ui.js';
import {attempt, confirmThen} from '../../core/attempt.js';
import {formDialog} from '../../components/form.js';
import {startSso} from '../../core/sso.js';

const AVATAR_LIMIT = 2 * 1024 * 1024;
const PROFILE_FIELDS = ['username', 'displayName', 'email', 'avatarUrl', 'description'];

export function avatar(user, size = '') {
  const letter = (user.displayName || user.username || '?').slice(0, 1).toUpperCase();
  return user.avatarUrl
    ? h('img', {class: `avatar ${size}`, src: user.avatarUrl, alt: ''})
    : h('span', {class: `avatar ${size}`, 'aria-hidden': 'true'}, letter);
}

async function saveUser(changes) {
  const fields = Object.keys(changes);
  if (!fields.length) return state.user;
  const user = await call('UserService', 'UpdateUser', {
    user: {name: state.user.name, ...changes}, updateMask: fields.join(','),
  });
  set({user});
  return user;
}

function avatarPicker(current) {
  let value = current || '';
  const preview = h('span.avatar-preview');
  const show = () => preview.replaceChildren(avatar({...state.user, avatarUrl: value}, 'avatar-large'));
  const file = h('input.visually-hidden', {type: 'file', accept: 'image/*', 'aria-label': t('account.avatar'), onchange: () => {
    const picked = file.files[0];
    if (!picked) return;
    if (picked.size > AVATAR_LIMIT) return void toast(t('account.avatar-too-large'), 'error');
    const reader = new FileReader();
    reader.onload = () => {
      value = String(reader.result);
      show();
    };
    reader.readAsDataURL(picked);
  }});
  show();
  const el = h('div.avatar-picker', preview,
    h('button.btn', {onclick: () => file.click()}, t('account.avatar-choose')),
    h('button.btn', {onclick: () => {
      value = '';
      show();
    }}, t('account.avatar-clear')), file);
  return {el, value: () => value};
}

function editProfile() {
  const general = state.general || {};
  const picker = avatarPicker(state.user.avatarUrl);
  return formDialog({
    title: t('account.edit'),
    intro: picker.el,
    values: state.user,
    fields: [
      ['username', t('auth.username'), 'text', {required: true, readOnly: general.disallowChangeUsername}],
      ['displayName', t('account.display-name'), 'text', {readOnly: general.disallowChangeNickname}],
      ['email', t('account.email'), 'email'],
      ['description', t('common.description'), 'textarea', {rows: 3}],
    ],
    onSubmit: async (values) => {
      const edited = {...values, avatarUrl: picker.value()};
      const changes = {};
      for (const field of PROFILE_FIELDS) if ((edited[field] || '') !== (state.user[field] || '')) changes[field] = edited[field] || '';
      await saveUser(changes);
      toast(t('settings.saved'));
    },
  });
}

function changePassword() {
  return formDialog({
    title: t('account.change-password'),
    fields: [
      ['password', t('account.new-password'), 'password', {required: true, autocomplete: 'new-password'}],
      ['repeat', t('account.repeat-password'), 'password', {required: true, autocomplete: 'new-password'}],
    ],
    onSubmit: async ({password, repeat}, form) => {
      if (password !== repeat) {
        const repeatInput = [...form.inputs.values()][1];
        repeatInput.value = '';
        repeatInput.focus();
        toast(t('account.password-mismatch'), 'error');
        return false;
      }
      await saveUser({password});
      toast(t('account.password-changed'));
      return true;
    },
  });
}

async function linkedAccounts(box, rerender) {
  const [{identityProviders = []}, {linkedIdentities = []}] = await Promise.all([
    call('IdentityProviderService', 'ListIdentityProviders'),
    call('UserService', 'ListLinkedIdentities', {parent: state.user.name}),
  ]);
  if (!identityProviders.length) return;
  box.append(h('h2.section-label', t('account.linked')), h('ul.rows.card',
    identityProviders.map((provider) => {
      const link = linkedIdentities.find((item) => item.idpName === provider.name);
      return h('li.row',
        h('div.grow', h('strong', provider.title), ' ', h('span.pill', provider.type),
          h('p.muted.small', link ? t('account.linked-as', {uid: link.externUid}) : t('account.not-linked'))),
        link
          ? h('button.btn', {onclick: () => attempt(() => call('UserService', 'DeleteLinkedIdentity', {name: link.name}),
            t('account.unlinked'), rerender)}, t('account.unlink'))
          : h('button.btn', {onclick: () => startSso(provider, {mode: 'link', returnTo: '/setting#my-account'})},
            t('account.link')));
    })));
}

function deleteAccount() {
  return confirmThen({title: t('account.delete-title'), message: t('account.delete-message'), confirm: t('account.delete')}, async () => {
    await call('UserService', 'DeleteUser', {name: state.user.name});
    await signOutEverywhere();
  });
}

export function myAccount(rerender) {
  const user = state.user;
  const linked = h('div');
  linkedAccounts(linked, rerender).catch(() => {});
  return h('div',
    h('div.card.account-card',
      avatar(user, 'avatar-large'),
      h('div.grow',
        h('h2.account-name', user.displayName || user.username),
        h('p.muted', `@${user.username}`, user.email ? ` · ${user.email}` : ''),
        user.description && h('p', user.description)),
      h('div.account-actions',
        h('button.btn', {onclick: () => editProfile().then((done) => done && rerender())}, t('account.edit')),
        h('button.btn', {onclick: changePassword}, t('account.change-password')))),
    linked,
    h('h2.section-label', t('account.danger-zone')),
    h('div.card.row', h('p.grow.muted', t('account.delete-message')),
      h('button.btn.btn-danger', {onclick: deleteAccount}, t('account.delete'))));
}
