// Filter chips <-> the URL (?filter=tagSearch:work,contentSearch:alpha) <-> the API's filter language.

const EXPRESSIONS = {
  contentSearch: (value) => `content.contains(${JSON.stringify(value)})`,
  tagSearch: (value) => `tag in [${JSON.stringify(value)}]`,
  displayTime: (value) => {
    const start = new Date(`${value}T00:00:00`).getTime() / 1000;
    return Number.isFinite(start) ? `created_ts >= timestamp(${start}) && created_ts < timestamp(${start + 86400})` : '';
  },
  pinned: () => 'pinned',
  'property.hasLink': () => 'has_link',
  'property.hasTaskList': () => 'has_task_list',
  'property.hasCode': () => 'has_code',
};

// The chips of the current URL, read from the raw query so values may hold commas.
export function readFilters(search = location.search) {
  const raw = search.replace(/^\?/, '').split('&').find((part) => part.startsWith('filter='));
  if (!raw) return [];
  return raw.slice('filter='.length).split(',').filter(Boolean).map((item) => {
    const at = item.indexOf(':');
    const factor = decodeURIComponent(at < 0 ? item : item.slice(0, at));
    const value = at < 0 ? '' : decodeURIComponent(item.slice(at + 1));
    return {factor, value};
  }).filter((chip) => chip.factor in EXPRESSIONS);
}

// Replaces the URL's filter parameter (history replaced, so Back leaves the page).
export function writeFilters(chips) {
  const others = location.search.replace(/^\?/, '').split('&').filter((part) => part && !part.startsWith('filter='));
  if (chips.length) {
    others.push('filter=' + chips.map((chip) => `${chip.factor}:${encodeURIComponent(chip.value)}`).join(','));
  }
  history.replaceState(null, '', location.pathname + (others.length ? `?${others.join('&')}` : '') + location.hash);
}

export function chipExpressions(chips) {
  return chips.map((chip) => EXPRESSIONS[chip.factor](chip.value)).filter(Boolean);
}
