// The display settings popover behind the sliders button of the search box (F12): shown time,
// order, compact cards, link previews and the column layout. Changes apply at once (setView).
import {h, iconButton} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {LAYOUTS, compactCards, setView, view} from '../core/view.js';

let panelCount = 0;

function panelContent(panel, name) {
  const settings = view();
  const redraw = (patch) => {
    setView(patch);
    panel.replaceChildren(...panelContent(panel, name));
    // The panel is redrawn (the compact switch depends on the layout): keep focus on the changed control.
    const changed = panel.querySelector(`[data-key="${Object.keys(patch)[0]}"]`);
    (changed?.querySelector('input[type="radio"]:checked') || changed?.querySelector('select, input'))?.focus();
  };
  const field = (key, label, control) => h('label.field.field-row', {dataset: {key}}, h('span.field-label', label), control);
  const choice = (key, label, options) => {
    const select = h('select.select', {onchange: () => redraw({[key]: select.value})},
      options.map(([value, text]) => h('option', {value}, text)));
    select.value = settings[key];
    return field(key, label, select);
  };
  const toggle = (key, label, checked = settings[key], disabled = false) => {
    const box = h('input', {type: 'checkbox', class: 'switch', role: 'switch', checked, disabled,
      onchange: () => redraw({[key]: box.checked})});
    return field(key, label, box);
  };
  return [
    h('h2.section-label', {id: `${name}-title`}, t('view.title')),
    choice('time', t('view.time'), [['create', t('view.created')], ['update', t('view.updated')]]),
    choice('order', t('view.order'), [['desc', t('view.newest')], ['asc', t('view.oldest')]]),
    toggle('compact', t('view.compact'), compactCards(settings), settings.layout !== 'list'),
    toggle('linkPreview', t('view.link-preview')),
    h('fieldset.layout-choice', {dataset: {key: 'layout'}},
      h('legend.field-label', t('view.layout')),
      LAYOUTS.map((layout) => h('label.radio',
        h('input', {type: 'radio', name, value: layout, checked: settings.layout === layout,
          onchange: () => redraw({layout})}),
        t(`view.layout-${layout}`)))),
  ];
}

// One panel at a time, kept in <body>: the explorer is redrawn when a setting changes (the calendar
// counts the shown time), and the panel must survive that; the new button adopts it.
const open = {panel: null, button: null};

function place() {
  const {panel, button} = open;
  if (!panel || !button?.isConnected) return;
  const box = button.getBoundingClientRect();
  panel.style.top = box.bottom + 4 + 'px';
  panel.style.left = Math.max(8, Math.min(box.right, window.innerWidth - 8) - panel.offsetWidth) + 'px';
}

function close({refocus = true} = {}) {
  const {panel, button} = open;
  if (!panel) return;
  panel.remove();
  open.panel = null;
  button?.setAttribute('aria-expanded', 'false');
  document.removeEventListener('pointerdown', outside, true);
  if (refocus && button?.isConnected) button.focus();
}

function outside({target}) {
  const {panel, button} = open;
  if (panel && !panel.contains(target) && !button?.contains(target)) close({refocus: false});
}

function show(button, name) {
  const panel = h('div.popover.view-panel', {role: 'dialog', 'aria-labelledby': `${name}-title`, onkeydown: (event) => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    event.stopPropagation();
    close();
  }});
  panel.append(...panelContent(panel, name));
  Object.assign(open, {panel, button});
  document.body.append(panel);
  button.setAttribute('aria-expanded', 'true');
  document.addEventListener('pointerdown', outside, true);
  place();
  panel.querySelector('select')?.focus();
}

export function displaySettingsButton() {
  const name = `view-${++panelCount}`;
  const button = iconButton('sliders', t('view.title'), () => (open.panel ? close() : show(button, name)),
    {'aria-haspopup': 'dialog', 'aria-expanded': String(Boolean(open.panel))});
  if (open.panel) {
    open.button = button;
    requestAnimationFrame(place);
  }
  return button;
}
