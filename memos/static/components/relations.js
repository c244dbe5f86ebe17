// The relations of a memo card (M25): "Referencing (n)" and "Referenced by (n)", as tabs when a
// memo has both; each row a short id chip and a snippet linking to that memo. Lists carry no
// snippets, so those are fetched (once per memo and page) when the card is drawn.
import {call} from '../core/api.js';
import {h, icon} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {related, shortId, snippet} from './link-memo.js';

const snippets = new Map();

function snippetOf(name) {
  if (!snippets.has(name)) {
    snippets.set(name, call('MemoService', 'GetMemo', {name}).then(snippet, () => ''));
  }
  return snippets.get(name);
}

function rows(items) {
  return h('ul.relation-list', items.map((item) => {
    const text = h('span.link-snippet', item.snippet || '…');
    if (!item.snippet) snippetOf(item.name).then((snippet) => (text.textContent = snippet || shortId(item.name)));
    return h('li', h('a.relation-row', {href: `/${item.name}`},
      h('span.id-chip', shortId(item.name)), text));
  }));
}

export function relationsSection(memo) {
  const groups = [
    ['referencing', related(memo, 'memo', 'relatedMemo'), 'link'],
    ['referenced-by', related(memo, 'relatedMemo', 'memo'), 'up'],
  ].filter(([, items]) => items.length);
  if (!groups.length) return null;
  const section = h('section.relations', {'aria-label': t('relations.label')});
  const panel = h('div.relation-panel');
  const show = (at) => {
    for (const [index, tab] of tabs.entries()) {
      tab.setAttribute('aria-selected', index === at);
      tab.classList.toggle('active', index === at);
    }
    panel.replaceChildren(rows(groups[at][1]));
  };
  const tabs = groups.map(([kind, items, iconName], at) => h('button', {
    class: 'relation-tab', role: groups.length > 1 && 'tab', onclick: () => show(at),
  }, icon(iconName), t(`relations.${kind}`, {count: items.length})));
  section.append(h('div.relation-tabs', {role: groups.length > 1 && 'tablist'}, tabs), panel);
  show(0);
  return section;
}
