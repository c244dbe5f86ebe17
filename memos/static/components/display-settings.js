// The display settings popover behind the sliders button of the search box (F12): shown time,
// order, compact cards, link previews and the column layout. Changes apply at once (setView).
import {h, iconButton} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {LAYOUTS, compactCards, setView, view} from '../core/view.js';

let panelCount = 0;

function selectField(label, value, options, onChange) {
  const select = h('select.select', {onchange: () => onChange(select.value)},
    options.map(([option, text]) => h('option', {value: option}, text)));
  select.value = value;
  return h('label.field.field-row', h('span.field-label', label), select);
}

function switchField(label, checked, onChange, disabled = false) {
  const box = h('input', {type: 'checkbox', class: 'switch', role: 'switch', checked, disabled,
    onchange: () => onChange(box.checked)});
  return h('label.field.field-row', h('span.field-label', label), box);
}

function panelContent(panel, name) {
  const settings = view();
  const redraw = (patch) => {
    setView(patch);
    panel.replaceChildren(...panelContent(panel, name));
    // The panel is redrawn (the compact switch depends on the layout): keep focus on the changed control.
    const field = panel.querySelector(`[data-key="${Object.keys(patch)[0]}"]`);
    (field?.querySelector('input[type="radio"]:checked') || field?.querySelector('select, input'))?.focus();
  };
  const keyed = (key, el) => {
    el.dataset.key = key;
    return el;
  };
  const layouts = h('fieldset.layout-choice', {dataset: {key: 'layout'}},
    h('legend.field-label', t('view.layout')),
    LAYOUTS.map((layout) => h('label.radio',
      h('input', {type: 'radio', name, value: layout, checked: settings.layout === layout,
        onchange: () => redraw({layout})}),
      t(`view.layout-${layout}`))));
  return [
    h('h2.section-label', {id: `${name}-title`}, t('view.title')),
    keyed('time', selectField(t('view.time'), settings.time,
      [['create', t('view.created')], ['update', t('view.updated')]], (time) => redraw({time}))),
    keyed('order', selectField(t('view.order'), settings.order,
      [['desc', t('view.newest')], ['asc', t('view.oldest')]], (order) => redraw({order}))),
    keyed('compact', switchField(t('view.compact'), compactCards(settings), (compact) => redraw({compact}),
      settings.layout !== 'list')),
    keyed('linkPreview', switchField(t('view.link-preview'), settings.linkPreview, (linkPreview) => redraw({linkPreview}))),
    layouts,
  ];
}

// One panel at a time, kept in <body>: the explorer is redrawn when a setting changes (the calendar
// counts the shown time), and the panel must survive that; the new button adopts it.
const open = {panel: null, button: null};

function place() {
  if (!open.panel || !open.button?.isConnected) return;
  const box = open.button.getBoundingClientRect();
  open.panel.style.top = `${box.bottom + 4}px`;
  open.panel.style.left = `${Math.max(8, Math.min(box.right - open.panel.offsetWidth, window.innerWidth - open.panel.offsetWidth - 8))}px`;
}

function close({refocus = true} = {}) {
  if (!open.panel) return;
  open.panel.remove();
  open.panel = null;
  open.button?.setAttribute('aria-expanded', 'false');
  document.removeEventListener('pointerdown', outside, true);
  if (refocus && open.button?.isConnected) open.button.focus();
}

function outside(event) {
  if (open.panel && !open.panel.contains(event.target) && !open.button?.contains(event.target)) close({refocus: false});
}

function show(button, name) {
  const panel = h('div.popover.view-panel', {role: 'dialog', 'aria-labelledby': `${name}-title`});
  panel.append(...panelContent(panel, name));
  panel.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    event.stopPropagation();
    close();
  });
  Object.assign(open, {panel, button});
  document.body.append(panel);
  button.setAttribute('aria-expanded', 'true');
  document.addEventListener('pointerdown', outside, true);
  place();
  panel.querySelector('select')?.focus();
}

export function displaySettingsButton() {
  const name = `view-${++panelCount}`;
  const button = iconButton('sliders', t('view.title'), null, {'aria-haspopup': 'dialog', 'aria-expanded': String(Boolean(open.panel))});
  if (open.panel) {
    open.button = button;
    requestAnimationFrame(place);
  }
  button.addEventListener('click', () => (open.panel ? close() : show(button, name)));
  return button;
}
