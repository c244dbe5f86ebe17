// /auth/callback: the end of an OAuth2 sign-in or account link started by core/sso.js.
import {call, signInWith} from '../core/api.js';
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {route, safeRedirect} from '../core/router.js';
import {loadIdentity, loadInstance} from '../core/session.js';
import {state} from '../core/state.js';
import {callbackUrl, forgetAttempt, savedAttempt} from '../core/sso.js';

function failure(main, text) {
  main.append(h('section.card.auth-card.callback-error',
    h('h1.auth-title', t('sso.failed')),
    h('pre.callback-text', text),
    h('p.auth-alt', h('a', {href: '/auth'}, t('auth.back-to-sign-in')))));
}

async function finish(attempt, code) {
  const credentials = {idpName: attempt.provider, code, redirectUri: callbackUrl(), codeVerifier: attempt.verifier || ''};
  if (attempt.mode === 'link') {
    if (!state.user || state.user.name !== attempt.user) throw new Error(t('sso.not-same-user'));
    await call('UserService', 'CreateLinkedIdentity', {parent: state.user.name, ...credentials});
  } else {
    await signInWith({ssoCredentials: credentials});
  }
  await Promise.all([loadInstance(), loadIdentity()]);
}

export default {
  async render({main, query}) {
    if (query.get('error')) {
      const details = [query.get('error'), query.get('error_description'), query.get('error_uri')].filter(Boolean);
      return void failure(main, details.join('\n'));
    }
    const attempt = savedAttempt();
    const code = query.get('code');
    if (!code || !query.get('state')) return void failure(main, t('sso.missing-code'));
    if (!attempt || attempt.state !== query.get('state')) return void failure(main, t('sso.state-mismatch'));
    forgetAttempt();
    try {
      await finish(attempt, code);
    } catch (error) {
      return void failure(main, error.message);
    }
    history.replaceState(null, '', safeRedirect(attempt.returnTo) || '/');
    await route();
  },
};
