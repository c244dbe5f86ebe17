// The display settings popover behind the sliders button of the search box (F12): shown time,
// order, compact cards, link previews and the column layout. Changes apply at once (setView).
import {h, icon} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {LAYOUTS, compactCards, setView, view} from '../core/view.js';

let panelCount = 0;

function selectField(label, value, options, onChange) {
  const select = h('select', {class: 'select', onchange: () => onChange(select.value)},
    options.map(([option, text]) => h('option', {value: option}, text)));
  select.value = value;
  return h('label', {class: 'field field-row'}, h('span', {class: 'field-label'}, label), select);
}

function switchField(label, checked, onChange, disabled = false) {
  const box = h('input', {type: 'checkbox', class: 'switch', role: 'switch', checked, disabled,
    onchange: () => onChange(box.checked)});
  return h('label', {class: 'field field-row'}, h('span', {class: 'field-label'}, label), box);
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
  const layouts = h('fieldset', {class: 'layout-choice', dataset: {key: 'layout'}},
    h('legend', {class: 'field-label'}, t('view.layout')),
    LAYOUTS.map((layout) => h('label', {class: 'radio'},
      h('input', {type: 'radio', name, value: layout, checked: settings.layout === layout,
        onchange: () => redraw({layout})}),
      t(`view.layout-${layout}`))));
  return [
    h('h2', {class: 'section-label', id: `${name}-title`}, t('view.title')),
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

export function displaySettingsButton() {
  const name = `view-${++panelCount}`;
  const button = h('button', {class: 'icon-btn', type: 'button', 'aria-label': t('view.title'), title: t('view.title'),
    'aria-haspopup': 'dialog', 'aria-expanded': 'false'}, icon('sliders'));
  const wrap = h('span', {class: 'menu-wrap'}, button);
  let panel = null;
  const close = ({refocus = true} = {}) => {
    if (!panel) return;
    panel.remove();
    panel = null;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (refocus) button.focus();
  };
  const outside = (event) => {
    if (panel && !wrap.contains(event.target)) close({refocus: false});
  };
  button.addEventListener('click', () => {
    if (panel) return close();
    panel = h('div', {class: 'popover view-panel', role: 'dialog', 'aria-labelledby': `${name}-title`});
    panel.append(...panelContent(panel, name));
    panel.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopPropagation();
      close();
    });
    wrap.append(panel);
    button.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', outside, true);
    panel.querySelector('select')?.focus();
  });
  return wrap;
}
