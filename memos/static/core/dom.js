// Building DOM without HTML strings: h('button.btn', {onclick}, t('common.save')).
// Text always goes in as text nodes; the one way to insert HTML is serverHtml(), for the
// HTML the server's Markdown engine rendered (safe by its contract), never for memo text.

// Props and children with these values are left out.
const absent = (value) => value === undefined || value === null || value === false;

// `tag` may carry classes ('p.muted.small'); props may be left out when the next argument is a child
// (a string, node or array). A button is type=button unless its props say type: 'submit', so no button
// submits a form by accident.
export function h(tag, props = {}, ...children) {
  if (props?.constructor !== Object) {
    children.unshift(props);
    props = {};
  }
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(' ');
  if (name === 'button') el.type = 'button';
  for (const [key, value] of Object.entries(props)) {
    // An aria-* state keeps false ('aria-pressed': false); any other false prop is left out.
    const aria = key.startsWith('aria-');
    if (aria ? value == null : absent(value)) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (['value', 'checked', 'disabled', 'hidden'].includes(key)) el[key] = value;
    else el.setAttribute(key, value === true && !aria ? '' : value);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (!absent(child)) el.append(child);  // text goes in as a text node
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// HTML from memospyz.v1.MemoHtmlService only.
export function serverHtml(el, html) {
  el.innerHTML = html;
  return el;
}

// Inline SVG icons, drawn with paths of our own (24x24 viewBox, stroke icons).
const CIRCLE = 'M12 3a9 9 0 100 18 9 9 0 000-18z';
const ICONS = {
  home: 'M3 11l9-8 9 8M5 10v10h5v-6h4v6h5V10',
  explore: CIRCLE + 'M15.5 8.5l-2 5-5 2 2-5z',
  paperclip: 'M21 11l-8.5 8.5a5 5 0 01-7-7L14 4a3.5 3.5 0 015 5l-8.5 8.5a2 2 0 01-3-3L15 7',
  bell: 'M6 16V11a6 6 0 0112 0v5l2 2H4zM10 20a2 2 0 004 0',
  info: CIRCLE + 'M12 11v6M12 7.5v.5',
  signin: 'M14 4h5v16h-5M10 8l4 4-4 4M14 12H3',
  more: 'M12 5.5v.5M12 11.5v.5M12 17.5v.5',
  lock: 'M6 11h12v9H6zM8.5 11V8a3.5 3.5 0 017 0v3',
  people: 'M9 11a3 3 0 100-6 3 3 0 000 6zM3 20a6 6 0 0112 0M16 5a3 3 0 010 6M18 14a5 5 0 013 6',
  globe: CIRCLE + 'M3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18',
  bookmark: 'M6 3h12v18l-6-4-6 4z',
  search: 'M11 4a7 7 0 100 14 7 7 0 000-14zM20 20l-4-4',
  close: 'M6 6l12 12M18 6L6 18',
  menu: 'M4 6h16M4 12h16M4 18h16',
  sidebar: 'M4 4h16v16H4zM15 4v16',
  tag: 'M3 12V4h8l10 10-8 8zM7.5 7.5v.5',
  calendar: 'M4 6h16v14H4zM4 10h16M8 3v4M16 3v4',
  left: 'M15 5l-7 7 7 7',
  right: 'M9 5l7 7-7 7',
  sliders: 'M4 7h10M18 7h2M4 17h4M12 17h8M16 5v4M10 15v4',
  link: 'M10 14a4 4 0 005.7 0l3-3a4 4 0 00-5.7-5.7l-1 1M14 10a4 4 0 00-5.7 0l-3 3a4 4 0 005.7 5.7l1-1',
  copy: 'M8 8h12v12H8zM4 16V4h12',
  plus: 'M12 5v14M5 12h14',
  smile: CIRCLE + 'M8.5 14.5a4.5 4.5 0 007 0M9 9.5v.5M15 9.5v.5',
  share: 'M12 3v12M8 7l4-4 4 4M5 13v7h14v-7',
  settings: 'M12 9a3 3 0 100 6 3 3 0 000-6zM4 12h2M18 12h2M12 4v2M12 18v2M6.3 6.3l1.4 1.4M16.3 16.3l1.4 1.4M6.3 17.7l1.4-1.4M16.3 7.7l1.4-1.4',
  archive: 'M3 4h18v4H3zM5 8v12h14V8M10 12h4',
  user: 'M12 12a4 4 0 100-8 4 4 0 000 8zM4 21a8 8 0 0116 0',
  trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v6M14 11v6',
  edit: 'M4 20h4L19 9l-4-4L4 16zM13 7l4 4',
  comment: 'M4 5h16v11H9l-5 4z',
  at: 'M16 12a4 4 0 10-1.2 2.8M16 8v5a2 2 0 004 0v-1a8 8 0 10-3 6.2',
  up: 'M12 19V5M6 11l6-6 6 6',
  check: 'M5 12l5 5 9-10',
};

// An icon-only button: its label is both the accessible name and the tooltip. `name` is an icon's
// name or a short text drawn as one ('+', '×').
export function iconButton(name, label, onclick, props = {}) {
  return h('button.icon-btn', {'aria-label': label, title: label, onclick, ...props}, ICONS[name] ? icon(name) : name);
}

function svg(tag, attributes, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
  el.append(...children);
  return el;
}

export function icon(name, label) {
  return svg('svg', {viewBox: '0 0 24 24', class: `icon icon-${name}`, ...(label ? {role: 'img', 'aria-label': label} : {'aria-hidden': true})},
    svg('path', {d: ICONS[name] || ICONS.info}));
}
