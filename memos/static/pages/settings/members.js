// Settings (admin): the members of the instance.
import * as api from '../../core/api.js';
import {h} from '../../core/dom.js';
import {t} from '../../core/i18n.js';
import {state} from '../../core/state.js';
import {confirmDialog, menuButton, toast, toastError} from '../../core/ui.js';
import {formDialog} from '../../components/form.js';
import {avatar} from './account.js';

const ROLES = () => [['USER', t('members.role.user')], ['ADMIN', t('members.role.admin')]];

async function allUsers() {
  const users = [];
  let pageToken = '';
  do {
    const page = await api.call('UserService', 'ListUsers', {pageSize: 100, pageToken, showDeleted: true});
    users.push(...(page.users || []));
    pageToken = page.nextPageToken || '';
  } while (pageToken);
  return users;
}

function createMember(rerender) {
  return formDialog({
    title: t('members.create'), submitLabel: t('members.create'), values: {role: 'USER'},
    fields: [
      {key: 'username', label: t('auth.username'), required: true},
      {key: 'password', label: t('auth.password'), type: 'password', required: true, autocomplete: 'new-password'},
      {key: 'role', label: t('members.role'), type: 'select', options: ROLES()},
    ],
    onSubmit: async (user) => {
      await api.call('UserService', 'CreateUser', {user});
      toast(t('members.created', {name: user.username}));
      rerender();
    },
  });
}

function updateMember(user, rerender) {
  return formDialog({
    title: t('members.update'), values: {username: user.username, password: '', role: user.role},
    fields: [
      {key: 'username', label: t('auth.username'), required: true},
      {key: 'password', label: t('account.new-password'), type: 'password', autocomplete: 'new-password'},
      {key: 'role', label: t('members.role'), type: 'select', options: ROLES()},
    ],
    onSubmit: async (values) => {
      const changes = Object.fromEntries(Object.entries(values).filter(([key, value]) => value && value !== user[key]));
      if (Object.keys(changes).length) {
        await api.call('UserService', 'UpdateUser', {user: {name: user.name, ...changes}, updateMask: Object.keys(changes).join(',')});
      }
      toast(t('settings.saved'));
      rerender();
    },
  });
}

async function act(work, rerender, done) {
  try {
    await work();
    toast(done);
    rerender();
  } catch (error) {
    toastError(error);
  }
}

function actions(user, rerender) {
  const name = user.username;
  const setState = (value) => () => api.call('UserService', 'UpdateUser', {user: {name: user.name, state: value}, updateMask: 'state'});
  const archive = async () => {
    if (await confirmDialog({title: t('members.archive-title', {name}), confirm: t('members.archive')})) {
      await act(setState('ARCHIVED'), rerender, t('members.archived', {name}));
    }
  };
  const remove = async () => {
    if (await confirmDialog({title: t('members.delete-title', {name}), message: t('members.delete-message'), confirm: t('memo.delete')})) {
      await act(() => api.call('UserService', 'DeleteUser', {name: user.name}), rerender, t('members.deleted', {name}));
    }
  };
  return menuButton({
    label: t('common.actions-for', {name}),
    items: () => [
      {label: t('members.update'), onSelect: () => updateMember(user, rerender)},
      ...(user.state === 'ARCHIVED'
        ? [{label: t('memo.restore'), onSelect: () => act(setState('NORMAL'), rerender, t('members.restored', {name}))},
          {label: t('members.delete'), danger: true, onSelect: remove}]
        : [{label: t('members.archive'), danger: true, onSelect: archive}]),
    ],
  });
}

export async function members(rerender) {
  const users = await allUsers();
  return h('div',
    h('div.section-head',
      h('button.btn.btn-primary', {onclick: () => createMember(rerender)}, t('members.create'))),
    h('ul.card.rows', {'aria-label': t('settings.section.member')}, users.map((user) => h('li.row.member-row', {dataset: {username: user.username}},
      avatar(user),
      h('div.grow',
        user.displayName ? h('strong', user.displayName) : h('em.muted', t('members.empty-name')),
        user.name === state.user.name ? h('span.pill', t('members.yourself')) : null,
        h('p.muted.small', `@${user.username}`)),
      h('span.pill', t(user.role === 'USER' ? 'members.role.user' : 'members.role.admin')),
      h('span', {class: `pill state-${user.state}`}, t(user.state === 'ARCHIVED' ? 'members.state.archived' : 'members.state.active')),
      user.email ? h('span.pill', user.email) : null,
      user.name === state.user.name ? h('span.icon-btn') : actions(user, rerender)))));
}
