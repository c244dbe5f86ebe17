// Helpers the pages share: selects built from [value, text] options, and lists read to their last page.
import {call} from './api.js';
import {h} from './dom.js';

// A select of [value, text] options showing `value`; props go to the select as with h().
export function selectOf(options, value, props) {
  const select = h('select.select', props, options.map(([option, text]) => h('option', {value: option}, text)));
  select.value = value;
  return select;
}

// A select named by `label` (no visible label): onChange(value) when another option is picked.
export function choice(label, options, value, onChange) {
  return selectOf(options, value, {'aria-label': label, onchange: (event) => onChange(event.target.value)});
}

// Every item of a paged list: the `listKey` entries of all its pages (call() with `body` and each page token).
export async function allPages(service, method, body, listKey) {
  const items = [];
  let pageToken = '';
  do {
    const page = await call(service, method, {...body, pageToken});
    items.push(...(page[listKey] || []));
    pageToken = page.nextPageToken || '';
  } while (pageToken);
  return items;
}
