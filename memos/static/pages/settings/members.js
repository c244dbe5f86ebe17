// Settings (admin): the members of the instance.
import {call} from '../../core/api.js';
import {h} from '../../core/dom.js';
import {t} from '../../core/i18n.js';
import {state} from '../../core/state.js';
import {menuButton, toast} from '../../core/ui.js';
import {attempt, confirmThen} from '../../core/attempt.js';
import {formDialog} from '../../components/form.js';
import {allPages} from '../../core/fields.js';
import {avatar} from './account.js';

// The fields of a member's dialog; the password is the new one when updating.
function memberFields(passwordLabel, creating) {
  return [
    ['username', t('auth.username'), 'text', {required: true}],
    ['password', passwordLabel, 'password', {required: creating, autocomplete: 'new-password'}],
    ['role', t('members.role'), 'select', {options: [['USER', t('members.role.user')], ['ADMIN', t('members.role.admin')]]}],
  ];
}

function createMember(rerender) {
  return formDialog({
    title: t('members.create'), submitLabel: t('members.create'), values: {role: 'USER'}, fields: memberFields(t('auth.password'), true),
    onSubmit: async (user) => {
      await call('UserService', 'CreateUser', {user});
      toast(t('members.created', {name: user.username}));
      rerender();
    },
  });
}

function updateMember(user, rerender) {
  return formDialog({
    title: t('members.update'), values: {username: user.username, password: '', role: user.role}, fields: memberFields(t('account.new-password')),
    onSubmit: async (values) => {
      const changes = Object.fromEntries(Object.entries(values).filter(([key, value]) => value && value !== user[key]));
      if (Object.keys(changes).length) {
        await call('UserService', 'UpdateUser', {user: {name: user.name, ...changes}, updateMask: Object.keys(changes).join(',')});
      }
      toast(t('settings.saved'));
      rerender();
    },
  });
}

function actions(user, rerender) {
  const name = user.username;
  const setState = (value) => () => call('UserService', 'UpdateUser', {user: {name: user.name, state: value}, updateMask: 'state'});
  return menuButton({
    label: t('common.actions-for', {name}),
    items: () => [
      {label: t('members.update'), onSelect: () => updateMember(user, rerender)},
      ...(user.state === 'ARCHIVED'
        ? [{label: t('memo.restore'), onSelect: () => attempt(setState('NORMAL'), t('members.restored', {name}), rerender)},
          {label: t('members.delete'), danger: true, onSelect: () => confirmThen(
            {title: t('members.delete-title', {name}), message: t('members.delete-message'), confirm: t('memo.delete')},
            () => call('UserService', 'DeleteUser', {name: user.name}), t('members.deleted', {name}), rerender)}]
        : [{label: t('members.archive'), danger: true, onSelect: () => confirmThen(
          {title: t('members.archive-title', {name}), confirm: t('members.archive')},
          setState('ARCHIVED'), t('members.archived', {name}), rerender)}]),
    ],
  });
}

export async function members(rerender) {
  const users = await allPages('UserService', 'ListUsers', {pageSize: 100, showDeleted: true}, 'users');
  return h('div',
    h('div.section-head',
      h('button.btn.btn-primary', {onclick: () => createMember(rerender)}, t('members.create'))),
    h('ul.card.rows', {'aria-label': t('settings.section.member')}, users.map((user) => h('li.row.member-row', {dataset: {username: user.username}},
      avatar(user),
      h('div.grow',
        user.displayName ? h('strong', user.displayName) : h('em.muted', t('members.empty-name')),
        user.name === state.user.name && h('span.pill', t('members.yourself')),
        h('p.muted.small', `@${user.username}`)),
      h('span.pill', t(user.role === 'USER' ? 'members.role.user' : 'members.role.admin')),
      h('span', {class: `pill state-${user.state}`}, t(user.state === 'ARCHIVED' ? 'members.state.archived' : 'members.state.active')),
      user.email && h('span.pill', user.email),
      user.name === state.user.name ? h('span.icon-btn') : actions(user, rerender)))));
}
