// The display settings popover behind the sliders button of the search box (F12): shown time,
// order, compact cards, link previews and the column layout. Changes apply at once (setView).
import {h, iconButton} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {popup} from '../core/ui.js';
import {LAYOUTS, compactCards, setView, view} from '../core/view.js';

let panelCount = 0;

function panelContent(panel, name) {
  const settings = view();
  const redraw = (patch) => {
    setView(patch);
    panel.replaceChildren(...panelContent(panel, name));
    // The panel is redrawn (the compact switch depends on the layout): keep focus on the changed control.
    panel.querySelector(`[data-key="${Object.keys(patch)[0]}"] :is(select, :checked, [type="checkbox"])`)?.focus();
  };
  const field = (key, label, control) => h('label.field.field-row', {dataset: {key}}, h('span.field-label', label), control);
  const choice = (key, label, options) => {
    const select = h('select.select', {onchange: () => redraw({[key]: select.value})},
      options.map(([value, text]) => h('option', {value, selected: value === settings[key]}, text)));
    return field(key, label, select);
  };
  const toggle = (key, label, checked = settings[key], disabled) => {
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
const pop = popup(null, () => {
  const name = `view-${++panelCount}`;
  const panel = h('div.popover.view-panel', {role: 'dialog', 'aria-labelledby': `${name}-title`});
  panel.append(...panelContent(panel, name));
  document.body.append(panel);
  place(panel);
  panel.querySelector('select')?.focus();
  return panel;
});

function place(panel) {
  if (!panel || !pop.button.isConnected) return;
  const box = pop.button.getBoundingClientRect();
  panel.style.top = box.bottom + 4 + 'px';
  panel.style.left = Math.max(8, Math.min(box.right, window.innerWidth - 8) - panel.offsetWidth) + 'px';
}

export function displaySettingsButton() {
  const button = iconButton('sliders', t('view.title'), () => pop.toggle(),
    {'aria-haspopup': 'dialog', 'aria-expanded': Boolean(pop.el)});
  if (pop.el) requestAnimationFrame(() => place(pop.el));
  pop.button = button;
  return button;
}
