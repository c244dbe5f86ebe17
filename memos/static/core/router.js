// The router: History API, one table of routes, lazy page modules.
//   A route: {path: '/u/:username', page: () => import('../pages/feed.js'), access, ...options}
//   access: 'user' (signed in), 'guest' (signed out only), 'public' (anyone on a public
//   instance; signed in on a private one), 'open' (anyone, always).
// A page module's default export is {render(ctx)} -> optional cleanup function, where ctx is
// {params, query, path, route, main}. Links with data-link (or any same-origin <a> without
// target) navigate without reloading.
import {state, instanceIsPublic} from './state.js';

// pages/<name>.js, loaded when first needed.
const lazy = (name) => () => import(`../pages/${name}.js`);
const feed = lazy('feed');
const auth = lazy('auth');

export const ROUTES = [
  {path: '/', page: feed, access: 'user', feed: 'home', title: 'nav.home'},
  {path: '/explore', page: feed, access: 'public', feed: 'explore', title: 'nav.explore'},
  {path: '/archived', page: feed, access: 'user', feed: 'archived', title: 'nav.archived'},
  {path: '/u/:username', page: feed, access: 'public', feed: 'profile', title: 'nav.profile'},
  {path: '/memos/shares/:token', page: lazy('shared'), access: 'open', title: 'nav.shared'},
  {path: '/memos/:uid', page: lazy('memo'), access: 'public', title: 'nav.memo'},
  {path: '/attachments', page: lazy('attachments'), access: 'user', title: 'nav.attachments'},
  {path: '/inbox', page: lazy('inbox'), access: 'user', title: 'nav.inbox'},
  {path: '/shortcuts', page: lazy('shortcuts'), access: 'user', title: 'nav.shortcuts'},
  {path: '/setting', page: lazy('setting'), access: 'user', title: 'nav.settings'},
  {path: '/about', page: lazy('about'), access: 'public', title: 'nav.about'},
  {path: '/auth', page: auth, access: 'guest', mode: 'signin', layout: 'auth', title: 'auth.sign-in'},
  {path: '/auth/signup', page: auth, access: 'guest', mode: 'signup', layout: 'auth', title: 'auth.sign-up'},
  {path: '/auth/admin', page: auth, access: 'guest', mode: 'admin', layout: 'auth', title: 'auth.sign-in'},
  {path: '/auth/callback', page: lazy('callback'), access: 'open', layout: 'auth', title: 'auth.sign-in'},
  {path: '/403', page: lazy('error'), access: 'open', status: 403, title: 'error.forbidden'},
  {path: '/404', page: lazy('error'), access: 'open', status: 404, title: 'error.not-found'},
];
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
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  if (value === '/auth' || value.startsWith('/auth/') || value.startsWith('/auth?')) return null;
  return value;
}

function currentLocation() {
  return location.pathname + location.search + location.hash;
}

// The sign-in page, coming back here afterwards.
export function signInHere() {
  return `/auth?redirect=${encodeURIComponent(currentLocation())}`;
}

// Where a visitor of `route` must go instead, or null.
function guard(route) {
  if (state.profile.needsSetup && !state.user && route.mode !== 'signup') return '/auth/signup';
  if (route.access === 'guest' && state.user) {
    return safeRedirect(new URLSearchParams(location.search).get('redirect')) || '/';
  }
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
    if (url.origin !== location.origin || url.pathname.startsWith('/file/') || url.pathname.startsWith('/api/')) return;
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
