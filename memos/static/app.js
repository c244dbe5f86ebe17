// Boot: theme (already applied by theme-boot.js), locale, instance profile and settings and
// the signed-in user in parallel; then the router renders the page.
import * as api from './core/api.js';
import {clear, h} from './core/dom.js';
import {preferredLocale, setLocale, t} from './core/i18n.js';
import {prefetchPage, route, signInHere, startRouter} from './core/router.js';
import {loadIdentity, loadInstance} from './core/session.js';
import {set, state, subscribe, instanceTitle} from './core/state.js';
import {applyTheme} from './core/theme.js';
import {startLive, stopLive} from './core/live.js';
import {buildShell} from './components/shell.js';

const root = document.getElementById('app');
let cleanup = null;

async function renderPage(route, page, ctx) {
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  document.title = `${t(route.title)} · ${instanceTitle()}`;
  // The instance's own logo as the favicon too (G4).
  const logo = state.general?.customProfile?.logoUrl;
  if (logo) document.querySelector('link[rel="icon"]')?.setAttribute('href', logo);
  // The auth pages have no shell: their <main> is the whole page.
  const shell = route.layout === 'auth' ? {main: h('main.auth-page', {id: 'main'})}
    : buildShell({withExplorer: Boolean(page.explorer?.(route))});
  clear(root).append(shell.root || shell.main);
  cleanup = await page.render({...ctx, route, main: shell.main, aside: shell.aside});
}

// A session that cannot be refreshed: on a page that needs one, sign in again.
api.onSessionLost(() => {
  set({user: null});
  location.replace(signInHere());
});

async function boot() {
  applyTheme();
  prefetchPage();
  const localeReady = setLocale(preferredLocale());
  try {
    await Promise.all([loadInstance(), loadIdentity(), localeReady]);
  } catch (error) {
    clear(root).append(h('p.boot-error', t('error.boot', {message: error.message})));
    return;
  }
  subscribe('locale', () => route());
  subscribe('user', (user) => (user ? startLive() : stopLive()));
  startLive();
  await startRouter(renderPage);
}

boot();
