// The router: History API, one table of routes, lazy page modules.
//   A route: {path: '/u/:username', page: () => import('../pages/feed.js'), access, ...options}
//   access: 'user' (signed in), 'guest' (signed out only), 'public' (anyone on a public
//   instance; signed in on a private one), 'open' (anyone, always).
// A page module's default export is {render(ctx)} -> optional cleanup function, where ctx is
// {params, query, path, route, main}. Links with data-link (or any same-origin <a> without
// target) navigate without reloading.
import {state, instanceIsPublic} from './state.js';

// [path, page module (pages/<name>.js, loaded when first needed), access, title key, other options]
export const ROUTES = [
  ['/', 'feed', 'user', 'nav.home', {feed: 'home'}],
  ['/explore', 'feed', 'public', 'nav.explore', {feed: 'explore'}],
  ['/archived', 'feed', 'user', 'nav.archived', {feed: 'archived'}],
  ['/u/:username', 'feed', 'public', 'nav.profile', {feed: 'profile'}],
  ['/memos/shares/:token', 'shared', 'open', 'nav.shared'],
  ['/memos/:uid', 'memo', 'public', 'nav.memo'],
  ['/attachments', 'attachments', 'user', 'nav.attachments'],
  ['/inbox', 'inbox', 'user', 'nav.inbox'],
  ['/shortcuts', 'shortcuts', 'user', 'nav.shortcuts'],
  ['/setting', 'setting', 'user', 'nav.settings'],
  ['/about', 'about', 'public', 'nav.about'],
  ['/auth', 'auth', 'guest', 'auth.sign-in', {mode: 'signin', layout: 'auth'}],
  ['/auth/signup', 'auth', 'guest', 'auth.sign-up', {mode: 'signup', layout: 'auth'}],
  ['/auth/admin', 'auth', 'guest', 'auth.sign-in', {mode: 'admin', layout: 'auth'}],
  ['/auth/callback', 'callback', 'open', 'auth.sign-in', {layout: 'auth'}],
  ['/403', 'error', 'open', 'error.forbidden', {status: 403}],
  ['/404', 'error', 'open', 'error.not-found', {status: 404}],
].map(([path, name, access, title, options]) => ({path, page: () => import(`../pages/${name}.js`), access, title, ...options}));
const NOT_FOUND = ROUTES.find((route) => route.path === '/404');
const REDIRECTS = {'/home': '/'};

function matchRoute(path) {
  for (const route of ROUTES) {
    const names = [];
    const pattern = route.path.replace(/:(\w+)/g, (_, name) => {
      names.push(name);
      return '([^/]+)';
    });
    const found = new RegExp(`^${pattern}/?$`).exec(path);
    if (found) {
      const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return {route, params};
    }
  }
  return {route: NOT_FOUND, params: {}};
}

// Starts loading the current path's page module while boot waits for the server.
export function prefetchPage() {
  matchRoute(location.pathname).route.page().catch(() => {});
}

// A redirect target is honoured only when it stays on this origin and outside /auth.
export function safeRedirect(value) {
  return /^\/(?![/\\])/.test(value) && !/^\/auth([/?]|$)/.test(value) ? value : null;
}

function currentLocation() {
  return location.pathname + location.search + location.hash;
}

// Where a sign-in on this page leads: its ?redirect= when safe, else home.
export function redirectTarget() {
  return safeRedirect(new URLSearchParams(location.search).get('redirect')) || '/';
}

// The sign-in page, coming back here afterwards.
export function signInHere() {
  return `/auth?redirect=${encodeURIComponent(currentLocation())}`;
}

// Where a visitor of `route` must go instead, or null.
function guard(route) {
  if (state.profile.needsSetup && !state.user && route.mode !== 'signup') return '/auth/signup';
  if (route.access === 'guest' && state.user) return redirectTarget();
  if (state.user || route.access === 'open' || route.access === 'guest') return null;
  if (route.access === 'public' && instanceIsPublic()) return null;
  if (route.path === '/' && instanceIsPublic()) return `/explore${location.search}${location.hash}`;
  return signInHere();
}

let renderPage = null;
let generation = 0;

export function startRouter(render) {
  renderPage = render;
  window.addEventListener('popstate', () => route());
  document.addEventListener('click', (event) => {
    const link = event.target.closest?.('a[href]');
    if (!link || link.target || link.hasAttribute('download') || event.defaultPrevented) return;
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || /^\/(file|api)\//.test(url.pathname)) return;
    // A link to a place on this page: the browser scrolls and fires hashchange itself.
    if (url.pathname === location.pathname && url.search === location.search && url.hash) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
  return route();
}

export function navigate(to, {replace = false} = {}) {
  history[replace ? 'replaceState' : 'pushState'](null, '', to);
  return route();
}

// Re-renders the current location (after sign-in, sign-out, or a navigation).
export async function route() {
  const mine = ++generation;
  const redirect = REDIRECTS[location.pathname];
  if (redirect) history.replaceState(null, '', redirect + location.search + location.hash);
  const {route: found, params} = matchRoute(location.pathname);
  const elsewhere = guard(found);
  if (elsewhere && elsewhere !== currentLocation()) {
    history.replaceState(null, '', elsewhere);
    return route();
  }
  const module = (await found.page()).default;
  if (mine !== generation) return undefined;
  return renderPage(found, module, {params, query: new URLSearchParams(location.search), path: location.pathname});
}

export function replaceQuery(query) {
  const search = query.toString();
  history.replaceState(null, '', location.pathname + (search ? `?${search}` : '') + location.hash);
}
