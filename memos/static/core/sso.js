// Signing in (or linking an account) through an OAuth2 provider: the start of the flow here,
// its end on /auth/callback (pages/callback.js). The state and PKCE verifier wait in this tab's
// sessionStorage for ten minutes.
import {state} from './state.js';

const KEY = 'oauth_state';
const LIFETIME_MS = 10 * 60 * 1000;

function randomHex(bytes) {
  return [...crypto.getRandomValues(new Uint8Array(bytes))].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

function base64url(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function callbackUrl() {
  return `${location.origin}/auth/callback`;
}

// The saved attempt, or null when there is none or it is too old (an old one is forgotten).
export function savedAttempt() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    // unreadable: forgotten below
  }
  if (Date.now() - saved?.time <= LIFETIME_MS) return saved;
  forgetAttempt();
  return null;
}

export function forgetAttempt() {
  sessionStorage.removeItem(KEY);
}

// mode: 'signin' or 'link'; returnTo: where to go once done.
export async function startSso(provider, {mode = 'signin', returnTo = '/'} = {}) {
  const config = provider.config?.oauth2Config || {};
  const attempt = {state: randomHex(32), provider: provider.name, mode, returnTo, user: state.user?.name || '', time: Date.now()};
  const url = new URL(config.authUrl);
  const params = {client_id: config.clientId, redirect_uri: callbackUrl(), state: attempt.state, response_type: 'code',
    scope: (config.scopes || []).join(' ')};
  // PKCE needs the secure-context crypto API (https or localhost); the plain flow works without it.
  if (crypto.subtle) {
    attempt.verifier = randomHex(32);
    params.code_challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(attempt.verifier)));
    params.code_challenge_method = 'S256';
  }
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  sessionStorage.setItem(KEY, JSON.stringify(attempt));
  location.assign(url.toString());
}

savedAttempt();
