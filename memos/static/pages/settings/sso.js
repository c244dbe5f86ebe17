// Settings (admin): the OAuth2 identity providers people may sign in with.
import {call} from '../../core/api.js';
import {h} from '../../core/dom.js';
import {t} from '../../core/i18n.js';
import {copyText, menuButton, toast} from '../../core/ui.js';
import {confirmThen} from '../../core/attempt.js';
import {formDialog} from '../../components/form.js';
import {callbackUrl} from '../../core/sso.js';

// A template's claim mapping: the display name and email go by the same claims everywhere.
const claims = (identifier, avatarUrl) => ({identifier, displayName: 'name', email: 'email', avatarUrl});

// Pre-filled endpoints, scopes and claim mapping of well-known providers.
const TEMPLATES = {
  github: {title: 'GitHub', authUrl: 'https://github.com/login/oauth/authorize', tokenUrl: 'https://github.com/login/oauth/access_token',
    userInfoUrl: 'https://api.github.com/user', scopes: 'read:user', fieldMapping: claims('login', 'avatar_url')},
  gitlab: {title: 'GitLab', authUrl: 'https://gitlab.com/oauth/authorize', tokenUrl: 'https://gitlab.com/oauth/token',
    userInfoUrl: 'https://gitlab.com/oauth/userinfo', scopes: 'openid', fieldMapping: claims('name', 'picture')},
  google: {title: 'Google', authUrl: 'https://accounts.google.com/o/oauth2/v2/auth', tokenUrl: 'https://oauth2.googleapis.com/token',
    userInfoUrl: 'https://www.googleapis.com/oauth2/v2/userinfo', scopes: 'https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile',
    fieldMapping: claims('email', 'picture')},
  custom: {},
};

function fields(creating) {
  return [
    creating && ['id', t('sso.provider-id'), 'text', {required: true, mono: true, hint: t('sso.provider-id-hint')}],
    ['title', t('sso.name'), 'text', {required: true}],
    ['identifierFilter', t('sso.identifier-filter'), 'text', {mono: true}],
    ['clientId', t('sso.client-id'), 'text', {required: true}],
    ['clientSecret', t('sso.client-secret'), 'password', {required: creating, hint: !creating && t('common.blank-keeps')}],
    ['authUrl', t('sso.auth-url'), 'url', {required: true}],
    ['tokenUrl', t('sso.token-url'), 'url', {required: true}],
    ['userInfoUrl', t('sso.user-info-url'), 'url', {required: true}],
    ['scopes', t('sso.scopes'), 'text', {required: true, mono: true}],
    // The claims of the user info that fill the user's fields.
    ...[['identifier', t('sso.map-identifier'), true], ['displayName', t('sso.map-display-name')], ['email', t('sso.map-email')],
      ['avatarUrl', t('sso.map-avatar')]].map(([claim, label, required]) => ['fieldMapping.' + claim, label, 'text', {required, mono: true}]),
  ].filter(Boolean);
}

function redirectBox() {
  const url = callbackUrl();
  return h('div.field', h('span.field-label', t('sso.redirect-url')),
    h('div.secret-row', h('input.input.mono', {readonly: true, value: url, 'aria-label': t('sso.redirect-url')}),
      h('button.btn', {onclick: () => copyText(url)}, t('memo.copy'))));
}

function toProvider(values) {
  const {title, identifierFilter, scopes, clientId, clientSecret, authUrl, tokenUrl, userInfoUrl, fieldMapping} = values;
  return {type: 'OAUTH2', title, identifierFilter,
    config: {oauth2Config: {clientId, clientSecret, authUrl, tokenUrl, userInfoUrl, fieldMapping, scopes: scopes.split(/\s+/).filter(Boolean)}}};
}

async function openEditor(existing, templateName, rerender) {
  const config = existing?.config?.oauth2Config;
  // Fields missing from the values start blank.
  const values = existing
    ? {...existing, ...config, clientSecret: '', scopes: (config.scopes || []).join(' ')}
    : {...TEMPLATES[templateName], id: templateName === 'custom' ? '' : templateName};
  const saved = await formDialog({
    title: existing ? t('sso.edit') : t('sso.create'), fields: fields(!existing), values, intro: redirectBox(),
    onSubmit: (now) => call('IdentityProviderService', existing ? 'UpdateIdentityProvider' : 'CreateIdentityProvider', existing
      ? {identityProvider: {name: existing.name, ...toProvider(now)}, updateMask: 'title,identifierFilter,config'}
      : {identityProvider: toProvider(now), identityProviderId: now.id}),
  });
  if (saved) {
    toast(t('settings.saved'));
    rerender();
  }
}

function remove(provider, rerender) {
  return confirmThen({title: t('sso.delete-title', {name: provider.title}), confirm: t('memo.delete')},
    () => call('IdentityProviderService', 'DeleteIdentityProvider', {name: provider.name}), t('sso.deleted'), rerender);
}

export async function ssoProviders(rerender) {
  const {identityProviders = []} = await call('IdentityProviderService', 'ListIdentityProviders');
  const create = menuButton({label: t('sso.create'), iconName: 'plus', className: 'btn btn-primary',
    items: Object.entries(TEMPLATES).map(([name, template]) => ({label: template.title || t('sso.custom'),
      onSelect: () => openEditor(null, name, rerender)}))});
  return h('div',
    h('div.section-head', create),
    identityProviders.length
      ? h('ul.card.rows', identityProviders.map((provider) => {
        const config = provider.config?.oauth2Config || {};
        return h('li.row',
          h('div.grow',
            h('strong', provider.title), ' ', h('span.pill', provider.type), ' ',
            h('span.muted.small.mono', provider.name.split('/').pop()),
            h('div.chips.small',
              h('span.chip', new URL(config.authUrl || location.origin).host),
              h('span.chip', t('sso.map-identifier'), ': ', config.fieldMapping?.identifier),
              h('span.chip', (config.scopes || []).join(' ')),
              provider.identifierFilter && h('span.chip', provider.identifierFilter))),
          menuButton({label: t('common.actions-for', {name: provider.title}), items: [
            {label: t('memo.edit'), onSelect: () => openEditor(provider, null, rerender)},
            {label: t('memo.delete'), danger: true, onSelect: () => remove(provider, rerender)},
          ]}));
      }))
      : h('p.empty-note.card', t('sso.empty')));
}
