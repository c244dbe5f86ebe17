// Sign in (/auth), sign up and first-run setup (/auth/signup), admin sign-in (/auth/admin).
import {call} from '../core/api.js';
import {h} from '../core/dom.js';
import {LOCALES, locale, t} from '../core/i18n.js';
import {redirectTarget, route} from '../core/router.js';
import {signIn, loadInstance} from '../core/session.js';
import {state, instanceTitle} from '../core/state.js';
import {themePreference, THEMES} from '../core/theme.js';
import {toastError} from '../core/ui.js';
import {chooseLocale, chooseTheme} from '../components/shell.js';
import {startSso} from '../core/sso.js';
import {choice} from '../core/fields.js';

function field(label, input) {
  return h('label.field', h('span.field-label', label), input);
}

function credentialsForm({submitLabel, newPassword, onSubmit}) {
  const username = h('input.input', {name: 'username', autocomplete: 'username', required: true,
    autocapitalize: 'off', spellcheck: 'false'});
  const password = h('input.input', {name: 'password', type: 'password', required: true,
    autocomplete: newPassword ? 'new-password' : 'current-password'});
  const submit = h('button.btn.btn-primary.btn-block', {type: 'submit'}, submitLabel);
  const busy = (on) => {
    username.readOnly = password.readOnly = submit.disabled = on;
    submit.classList.toggle('busy', on);
  };
  return h('form.auth-form', {onsubmit: async (event) => {
    event.preventDefault();
    busy(true);
    await onSubmit(username.value.trim(), password.value).catch(toastError);
    busy(false);
  }}, field(t('auth.username'), username), field(t('auth.password'), password), submit);
}

async function signedIn() {
  history.replaceState(null, '', redirectTarget());
  await route();
}

function footer() {
  return h('div.auth-footer',
    choice(t('settings.language'), Object.entries(LOCALES), locale(), chooseLocale),
    choice(t('settings.theme'), THEMES.map((value) => [value, t(`theme.${value}`)]), themePreference(), chooseTheme));
}

function card(...children) {
  return h('div.auth-wrap',
    h('section.card.auth-card',
      h('div.auth-brand',
        h('img', {src: state.general?.customProfile?.logoUrl || '/logo.svg', alt: '', width: 40, height: 40}),
        h('span.auth-instance', instanceTitle())),
      ...children),
    footer());
}

// "Continue with <provider>" buttons, filled once the providers are known (a skeleton bar until then);
// the "or" divider only when a password form follows.
function providerButtons(withDivider) {
  const box = h('div.sso-buttons', h('div.skeleton'));
  call('IdentityProviderService', 'ListIdentityProviders').then(({identityProviders = []}) => {
    const returnTo = redirectTarget();
    box.replaceChildren(...identityProviders.map((provider) => h('button.btn.btn-block', {onclick: () => startSso(provider, {returnTo})}, t('sso.continue-with', {title: provider.title}))),
    identityProviders.length && withDivider ? h('p.divider', t('sso.or')) : '');
  }, () => box.replaceChildren());
  return box;
}

function signInPage(admin) {
  const general = state.general || {};
  const passwordAllowed = admin || !general.disallowPasswordAuth;
  const mayRegister = !general.disallowUserRegistration && !general.disallowPasswordAuth;
  return card(
    admin && h('span.pill', t('auth.admin')),
    h('h1.auth-title', t('auth.sign-in')),
    h('p.muted', t('auth.welcome-back')),
    !admin && providerButtons(passwordAllowed),
    passwordAllowed
      ? credentialsForm({submitLabel: t('auth.sign-in'), onSubmit: async (username, password) => {
        await signIn(username, password);
        await signedIn();
      }})
      : h('div.empty-note', t('auth.sign-in-unavailable'), ' ', h('a', {href: '/auth/admin'}, t('auth.admin-sign-in'))),
    admin && h('p.auth-alt', h('a', {href: '/auth'}, t('auth.back-to-sign-in'))),
    !admin && passwordAllowed && mayRegister
      && h('p.auth-alt', t('auth.no-account'), ' ', h('a', {href: `/auth/signup${location.search}`}, t('auth.sign-up'))));
}

function signUpPage() {
  const general = state.general || {};
  const firstRun = Boolean(state.profile.needsSetup);
  if (!firstRun && (general.disallowUserRegistration || general.disallowPasswordAuth)) {
    const closed = general.disallowUserRegistration;
    return card(h('h1.auth-title', closed ? t('auth.sign-ups-closed') : t('auth.sign-up-unavailable')),
      !closed && providerButtons(false), h('p.auth-alt', h('a', {href: '/auth'}, t('auth.sign-in'))));
  }
  return card(
    firstRun && h('span.pill', t('auth.first-run')),
    h('h1.auth-title', firstRun ? t('auth.setup-title') : t('auth.sign-up')),
    firstRun ? h('p.note', t('auth.setup-note')) : h('p.muted', t('auth.sign-up-subtitle')),
    credentialsForm({
      submitLabel: firstRun ? t('auth.create-admin') : t('auth.sign-up'),
      newPassword: true,
      onSubmit: async (username, password) => {
        await call('UserService', 'CreateUser', {user: {username, password, role: 'USER'}});
        await signIn(username, password);
        await loadInstance();
        await signedIn();
      },
    }),
    !firstRun && h('p.auth-alt', t('auth.have-account'), ' ', h('a', {href: '/auth'}, t('auth.sign-in'))));
}

export default {
  async render({route: current, main}) {
    main.append(current.mode === 'signup' ? signUpPage() : signInPage(current.mode === 'admin'));
    main.querySelector('input')?.focus();
  },
};
