// /about: the instance's name and description, the build, and where the project lives.
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {instanceTitle, state} from '../core/state.js';

const SEMVER = /^v?\d+\.\d+\.\d+([-+][\w.-]+)?$/;
const SHA = /^[0-9a-f]{7,40}$/i;
const PROJECT_LINKS = [
  ['about.website', 'https://usememos.com'],
  ['about.docs', 'https://usememos.com/docs'],
  ['about.api-docs', 'https://usememos.com/docs/api'],
  ['about.github', 'https://github.com/usememos/memos'],
  ['about.clipper', 'https://github.com/usememos/web-clipper'],
];

function external(href, text) {
  return h('a', {href, target: '_blank', rel: 'noopener noreferrer'}, text);
}

function row(label, value) {
  return [h('dt', label), h('dd', value)];
}

export default {
  render({main}) {
    const {version = '', commit = '', demo} = state.profile || {};
    const custom = state.general?.customProfile || {};
    const branded = Boolean(custom.title || custom.logoUrl);
    const versionText = version.replace(/^v/, '');
    main.append(h('section.about',
      h('div.about-head',
        h('img', {src: custom.logoUrl || '/logo.svg', alt: '', width: 64, height: 64}),
        h('div',
          h('h1.page-title', instanceTitle(), demo && h('span.pill', t('about.demo'))),
          h('p.muted', custom.description || t('about.tagline')))),
      h('h2.section-label', t('about.build')),
      h('dl.card.facts',
        row(t('about.version'), SEMVER.test(version)
          ? external(`https://github.com/usememos/memos/releases/tag/v${versionText}`, versionText) : version || '—'),
        commit ? row(t('about.commit'), SHA.test(commit)
          ? external(`https://github.com/usememos/memos/commit/${commit}`, commit.slice(0, 7)) : commit) : [],
        row(t('about.license'), 'MIT'),
        branded ? row(t('about.powered-by'), external('https://usememos.com', 'Memos')) : []),
      h('h2.section-label', t('about.project')),
      h('ul.card.about-links', PROJECT_LINKS.map(([key, href]) => h('li', external(href, t(key)))))));
  },
};
