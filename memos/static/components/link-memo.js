// Linking memos from the composer (E15): a dialog searching the user's own memos, and the chips
// of the chosen references under the text (× removes one).
//   const links = memoLinks({initial: [{name, snippet}], exclude: 'memos/...'})
//   links.button, links.chips, links.relations() (for CreateMemo/UpdateMemo), links.names(), links.reset()
import {call} from '../core/api.js';
import {h, icon, iconButton} from '../core/dom.js';
import {dialogHead, modal} from '../core/ui.js';
import {dateTime, t} from '../core/i18n.js';
import {state} from '../core/state.js';

const SEARCH_DELAY_MS = 300;
const RESULTS = 16;

export function shortId(name) {
  return name.split('/')[1]?.slice(0, 6) || name;
}

export function snippet(memo) {
  return memo.snippet || memo.content.slice(0, 80);
}

// The memos at the `to` end of a memo's REFERENCE relations whose `from` end is the memo itself.
export function related(memo, from, to) {
  return (memo?.relations || [])
    .filter((relation) => relation.type === 'REFERENCE' && relation[from]?.name === memo.name).map((relation) => relation[to]);
}

// The memo's own outgoing REFERENCE relations, as {name, snippet} of the referenced memos.
export function referencesOf(memo) {
  return related(memo, 'memo', 'relatedMemo').map((target) => ({name: target.name, snippet: target.snippet || ''}));
}

function searchFilter(words) {
  return [`creator == ${JSON.stringify(state.user.name)}`, ...words.map((word) => `content.contains(${JSON.stringify(word)})`)]
    .join(' && ');
}

function openDialog({exclude, linked, onPick}) {
  const input = h('input.input', {type: 'search', 'aria-label': t('link.search'), placeholder: t('link.search'), oninput: () => {
    clearTimeout(timer);
    timer = setTimeout(search, SEARCH_DELAY_MS);
  }});
  const results = h('ul.link-results', {'aria-label': t('link.results')});
  const {close} = modal('link-dialog', 'link-title',
    dialogHead(h('h2.dialog-title', {id: 'link-title'}, t('link.title'))), input, results);
  let timer = 0;
  let asked = 0;
  const search = async () => {
    const mine = ++asked;
    const words = input.value.split(/\s+/).filter(Boolean);
    try {
      const {memos = []} = await call('MemoService', 'ListMemos', {pageSize: RESULTS + 1, filter: searchFilter(words)});
      if (mine !== asked) return;
      const shown = memos.filter((memo) => memo.name !== exclude).slice(0, RESULTS);
      results.replaceChildren(...shown.map((memo) => {
        const already = linked.includes(memo.name);
        return h('li', h('button.link-row', {
          disabled: already, 'aria-disabled': already,
          onclick: () => {
            close();
            onPick({name: memo.name, snippet: snippet(memo)});
          },
        },
        h('span.muted.small', dateTime(new Date(memo.createTime))),
        h('span.id-chip', shortId(memo.name)),
        h('span.link-snippet', snippet(memo))));
      }));
      if (!shown.length) results.append(h('li.muted.small', t('link.none')));
    } catch (error) {
      results.replaceChildren(h('li.muted.small', error.message));
    }
  };
  input.focus();
  search();
}

export function memoLinks({initial = [], exclude}) {
  let links = initial;
  const chips = h('div.link-chips');
  const names = () => links.map((link) => link.name);
  // Shows `chosen` as the links.
  const draw = (chosen = links) => {
    links = chosen;
    chips.replaceChildren(...links.map((link) => h('span.chip.link-chip',
      icon('link'),
      h('span.id-chip', shortId(link.name)),
      h('span.chip-value.link-snippet', link.snippet),
      h('button.chip-remove', {'aria-label': t('link.remove', {id: shortId(link.name)}),
        onclick: () => draw(links.filter((other) => other.name !== link.name))}, icon('close')))));
    chips.hidden = !links.length;
  };
  const button = iconButton('link', t('link.title'),
    () => openDialog({exclude, linked: names(), onPick: (link) => draw([...links, link])}), {'aria-haspopup': 'dialog'});
  draw();
  return {
    button, chips, names,
    relations: () => links.map((link) => ({relatedMemo: {name: link.name}, type: 'REFERENCE'})),
    reset: () => draw([]),
  };
}
