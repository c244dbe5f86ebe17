// The one module that talks to the server: Connect with JSON over POST.
//   call('MemoService', 'ListMemos', {pageSize: 16})  -> the response object, or throws ApiError
// The access token lives in memory only; the HttpOnly `memos_refresh` cookie (set by SignIn)
// gets a new one through AuthService/RefreshToken: at start-up, shortly before it expires,
// and once after a call fails with `unauthenticated` (that call is then retried once).

const API_PACKAGE = 'memos.api.v1';
const EXT_PACKAGE = 'memospyz.v1';
const REFRESH_MARGIN_MS = 30_000;
// A hint (no secret) that this browser has a session cookie, so a guest's start-up does not
// ask for a refresh that can only fail.
const SESSION_HINT = 'memos-session';

export class ApiError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

let accessToken = '';
let expiresAt = 0;
let refreshing = null;
const lostListeners = new Set();

export function hasToken() {
  return Boolean(accessToken);
}

export function onSessionLost(listener) {
  lostListeners.add(listener);
}

function remember(token, expiry) {
  accessToken = token || '';
  expiresAt = expiry ? Date.parse(expiry) : 0;
  if (accessToken) localStorage.setItem(SESSION_HINT, '1');
}

export function forget() {
  accessToken = '';
  expiresAt = 0;
  localStorage.removeItem(SESSION_HINT);
}

export function mayHaveSession() {
  return localStorage.getItem(SESSION_HINT) === '1';
}

async function post(path, body) {
  const headers = {'Content-Type': 'application/json', 'Connect-Protocol-Version': '1'};
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`;
  let response;
  try {
    response = await fetch(path, {method: 'POST', headers, body: JSON.stringify(body || {}), credentials: 'same-origin'});
  } catch (error) {
    throw new ApiError('unavailable', error.message);
  }
  // An empty or non-JSON body (a proxy's error page) reads as {}.
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(data.code || 'unknown', data.message || response.statusText);
  return data;
}

function auth(method, body = {}) {
  return post(`/${API_PACKAGE}.AuthService/${method}`, body);
}

// One refresh at a time; resolves true when a new access token was obtained.
export function refresh() {
  if (!refreshing) {
    refreshing = auth('RefreshToken')
      .then((data) => {
        remember(data.accessToken, data.expiresAt);
        return true;
      })
      .catch(() => {
        forget();
        return false;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

async function refreshIfExpiring() {
  if (accessToken && expiresAt && expiresAt - Date.now() < REFRESH_MARGIN_MS) await refresh();
}

export async function call(service, method, body = {}, {retry = true} = {}) {
  const pkg = service === 'MemoHtmlService' ? EXT_PACKAGE : API_PACKAGE;
  await refreshIfExpiring();
  try {
    return await post(`/${pkg}.${service}/${method}`, body);
  } catch (error) {
    if (error.code !== 'unauthenticated' || !retry || !accessToken) throw error;
    if (await refresh()) return call(service, method, body, {retry: false});
    for (const listener of lostListeners) listener();
    throw error;
  }
}

// The Authorization header value for a request made outside call() (the live event stream).
export async function bearer() {
  await refreshIfExpiring();
  return accessToken ? `Bearer ${accessToken}` : '';
}

export const signIn = (username, password) => signInWith({passwordCredentials: {username, password}});

// credentials: {passwordCredentials} or {ssoCredentials}, as SignIn takes them.
export async function signInWith(credentials) {
  const data = await auth('SignIn', credentials);
  remember(data.accessToken, data.accessTokenExpiresAt);
  return data.user;
}

export async function signOut() {
  try {
    await auth('SignOut');
  } catch {
    // Signing out locally is what matters; the server may already have forgotten the session.
  }
  forget();
}

// Refresh when the tab comes back with little time left.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && accessToken && expiresAt - Date.now() < 120_000) refresh();
});
