// The page frame: the left rail (navigation + user menu), the mobile header with its two
// sheets, the main column and, for pages that have one, the explorer column.
import {h, icon, iconButton} from '../core/dom.js';
import {LOCALES, locale, setLocale, t} from '../core/i18n.js';
import {state, instanceTitle} from '../core/state.js';
import {setTheme, themePreference, THEMES} from '../core/theme.js';
import {menuButton, toastError} from '../core/ui.js';
import {saveUserGeneral, signOutEverywhere} from '../core/session.js';
import {withLiveDot} from './live-dot.js';
import {attachInboxBadge} from './inbox-badge.js';

// The rail's links: [href, key of the label under nav., icon (if not named as the key)].
const USER_NAV = [['/', 'home'], ['/explore', 'explore'], ['/attachments', 'attachments', 'paperclip'], ['/inbox', 'inbox', 'bell']];
const GUEST_NAV = [['/explore', 'explore'], ['/about', 'about', 'info'], ['/auth', 'sign-in', 'signin']];

function userMenu() {
  return menuButton({
    label: t('nav.user-menu'),
    iconName: 'user',
    className: 'rail-link user-button',
    items: () => [
      ...[['profile', `/u/${encodeURIComponent(state.user.username)}`], ['archived', '/archived'], ['settings', '/setting']]
        .map(([key, path]) => ({label: t(`nav.${key}`), onSelect: () => go(path)})),
      'separator',
      ...THEMES.map((value) => ({
        label: t('settings.theme') + ': ' + t(`theme.${value}`),
        checked: themePreference() === value,
        onSelect: () => chooseTheme(value),
      })),
      'separator',
      ...Object.entries(LOCALES).map(([code, name]) => ({
        label: `${name} (${code})`,
        checked: locale() === code,
        onSelect: () => chooseLocale(code),
      })),
      'separator',
      {label: t('nav.sign-out'), danger: true, onSelect: signOutEverywhere},
    ],
  });
}

export async function chooseTheme(value) {
  setTheme(value);
  if (state.user) await saveUserGeneral({theme: value}, 'theme').catch(toastError);
}

export async function chooseLocale(code) {
  await setLocale(code, {remember: true});
  if (state.user) await saveUserGeneral({locale: code}, 'locale').catch(toastError);
}

function go(path) {
  import('../core/router.js').then(({navigate}) => navigate(path));
}

function navLink([href, key, iconName = key], onclick) {
  const label = t(`nav.${key}`);
  const active = href === '/' ? location.pathname === '/' : location.pathname.startsWith(href);
  return h('a', {class: active ? 'rail-link active' : 'rail-link', href, title: label, 'aria-current': active ? 'page' : null, onclick},
    icon(iconName), h('span.rail-label', label));
}

// Builds the frame and returns its parts: {root, main, aside}. `withExplorer`: a right column.
export function buildShell({withExplorer}) {
  const closeSheets = () => root.classList.remove('nav-open', 'explorer-open');
  const rail = h('nav.rail', {'aria-label': t('nav.main')},
    h('a.rail-logo', {href: state.user ? '/' : '/explore', title: instanceTitle()},
      h('img', {src: state.general?.customProfile?.logoUrl || '/logo.svg', alt: '', width: 32, height: 32}),
      h('span.rail-label', instanceTitle())),
    (state.user ? USER_NAV : GUEST_NAV).map((item) => navLink(item, closeSheets)),
    h('div.rail-spacer'),
    state.user && withLiveDot(userMenu()));
  attachInboxBadge(rail.querySelector('a[href="/inbox"]'));
  const header = h('header.mobile-header',
    iconButton('menu', t('nav.open-navigation'), () => root.classList.toggle('nav-open'), {class: 'icon-btn nav-toggle'}),
    h('span.mobile-title', instanceTitle()),
    withExplorer && iconButton('sidebar', t('nav.open-explorer'), () => root.classList.toggle('explorer-open'),
      {class: 'icon-btn explorer-toggle'}));
  const main = h('main.main', {id: 'main'});
  const aside = withExplorer ? h('aside.explorer', {'aria-label': t('explorer.label')}) : null;
  const root = h('div', {class: withExplorer ? 'app has-explorer' : 'app', onkeydown: (event) => {
    if (event.key === 'Escape' && root.matches('.nav-open, .explorer-open')) closeSheets();
  }}, rail, header, main, aside, h('div.scrim', {onclick: closeSheets}));
  return {root, main, aside};
}
