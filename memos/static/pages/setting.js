// /setting#<section>: the section list (Basic; Admin for admins) and the sections, each a function
// (rerender) -> element or a promise of one; the bigger ones live in pages/settings/.
import {clear, h} from '../core/dom.js';
import {LOCALES, locale, t} from '../core/i18n.js';
import {isAdmin, state} from '../core/state.js';
import {themePreference, THEMES} from '../core/theme.js';
import {saveUserGeneral} from '../core/session.js';
import {chooseLocale, chooseTheme} from '../components/shell.js';
import {visibilityOptions} from '../components/editor.js';
import {toastError} from '../core/ui.js';
import {attempt} from '../core/attempt.js';
import {choice} from '../core/fields.js';
import {myAccount} from './settings/account.js';
import {accessTokens} from './settings/tokens.js';
import {webhooks} from './settings/webhooks.js';
import {members} from './settings/members.js';
import {memoSettings, notification, resourceStats, storage, system} from './settings/instance.js';
import {tagRules} from './settings/tags.js';
import {ssoProviders} from './settings/sso.js';

const BASIC = ['my-account', 'access-token', 'preference', 'webhook', 'tags'];
const ADMIN = ['member', 'system', 'memo', 'storage', 'notification', 'sso', 'ai', 'resource-stats'];

// A labelled select: onChange(value) when another option is picked.
function choiceRow(label, options, value, onChange) {
  return h('label.field.field-row', h('span.field-label', label), choice(label, options, value, onChange));
}

function links(ids) {
  return ids.map((id) => h('a', {href: `#${id}`, dataset: {section: id}}, t(`settings.section.${id}`)));
}

const SECTIONS = {
  'my-account': myAccount,
  'access-token': accessTokens,
  webhook: webhooks,
  tags: tagRules,
  member: members,
  system,
  memo: memoSettings,
  storage,
  notification,
  sso: ssoProviders,
  'resource-stats': resourceStats,
  preference: () => h('div.card.settings-form',
    choiceRow(t('settings.language'), Object.entries(LOCALES).map(([code, name]) => [code, `${name} (${code})`]), locale(), chooseLocale),
    choiceRow(t('settings.theme'), THEMES.map((value) => [value, t(`theme.${value}`)]), themePreference(), chooseTheme),
    choiceRow(t('settings.default-visibility'), visibilityOptions(),
      state.userGeneral.memoVisibility || 'PRIVATE',
      (value) => attempt(() => saveUserGeneral({memoVisibility: value}, 'memoVisibility'), t('settings.saved')))),
};

export default {
  render({main}) {
    const allowed = isAdmin() ? [...BASIC, ...ADMIN] : BASIC;
    const content = h('section.settings-content');
    const nav = h('nav.settings-nav', {'aria-label': t('nav.settings')},
      h('p.section-label', t('settings.basic')),
      links(BASIC),
      isAdmin() && [h('p.section-label', t('settings.admin')), links(ADMIN)]);
    let current = '';
    const show = (scroll = true) => {
      const wanted = location.hash.slice(1);
      const id = allowed.includes(wanted) ? wanted : 'my-account';
      for (const link of nav.querySelectorAll('a')) {
        const here = link.dataset.section === id;
        link.classList.toggle('active', here);
        link.toggleAttribute('aria-current', here);
      }
      const body = h('div.settings-body', {'aria-busy': 'true'});
      clear(content).append(h('h1.page-title', t(`settings.section.${id}`)), body);
      current = id;
      const rerender = () => current === id && show(false);
      Promise.resolve(SECTIONS[id] ? SECTIONS[id](rerender) : h('p.empty-note', t('common.coming-soon')))
        .then((element) => body.replaceChildren(element), (error) => {
          toastError(error);
          body.replaceChildren(h('p.empty-note', error.message));
        })
        .finally(() => body.removeAttribute('aria-busy'));
      if (scroll) window.scrollTo(0, 0);
    };
    window.addEventListener('hashchange', show);
    main.append(h('div.settings', nav, content));
    show();
    return () => window.removeEventListener('hashchange', show);
  },
};
