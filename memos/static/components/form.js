// Forms described as data, for the settings sections and their dialogs.
//   A field: [key, label, type, props], e.g. ['customProfile.logoUrl', t('system.logo'), 'url'];
//     type: 'text' (when left out)|'password'|'number'|'checkbox'|'select'|'textarea'|'email'|'url';
//     props: {options: [[value, text]], required, readOnly, hint, when: (values) => shown?, autocomplete, mono,
//             min, max, placeholder, rows}
// Keys are dotted paths into the values object; reading a form gives a copy with the edits applied.
import {h, iconButton} from '../core/dom.js';
import {selectOf} from '../core/fields.js';
import {t} from '../core/i18n.js';
import {copyText, modal, toast, toastError} from '../core/ui.js';

function getPath(object, path) {
  return path.split('.').reduce((part, key) => part?.[key], object);
}

function setPath(object, path, value) {
  const keys = path.split('.');
  const last = keys.pop();
  let part = object;
  for (const key of keys) part = part[key] ??= {};
  part[last] = value;
}

let nextId = 0;

function control(field, value) {
  const common = {id: `field-${++nextId}`, required: field.required, disabled: field.readOnly};
  if (field.type === 'checkbox') return h('input', {...common, type: 'checkbox', class: 'switch', checked: value});
  if (field.type === 'select') return selectOf(field.options, value ?? field.options[0][0], common);
  const typed = {...common, value: value ?? '', spellcheck: 'false'};
  if (field.type === 'textarea') return h('textarea', {...typed, class: 'input textarea mono', rows: field.rows || 4});
  return h('input', {...typed, class: field.mono ? 'input mono' : 'input', type: field.type,
    autocomplete: field.autocomplete || 'off', min: field.min, max: field.max, placeholder: field.placeholder,
    autocapitalize: 'off'});
}

function read({type, options}, {checked, value}) {
  if (type === 'checkbox') return checked;
  if (type === 'number' || (type === 'select' && typeof options[0][0] === 'number')) return Number(value);  // '' -> 0
  return type === 'textarea' || type === 'password' ? value : value.trim();
}

// The fields as labelled rows: {el, read() -> values with the edits, inputs (key -> control)}.
function fieldSet(fields, values = {}) {
  const inputs = new Map();
  const rows = fields.map(([key, label, type = 'text', props]) => {
    const field = {key, label, type, ...props};
    const input = control(field, getPath(values, field.key));
    inputs.set(field, input);
    return [field, h(field.type === 'checkbox' ? 'div.field.field-row' : 'div.field',
      h('label.field-label', {for: input.id}, field.label, field.required && h('span.required', {'aria-hidden': 'true'}, ' *')),
      input,
      field.hint && h('p.muted.small.field-hint', field.hint))];
  });
  const readAll = () => {
    const result = structuredClone(values);
    for (const [field, input] of inputs) if (!field.readOnly) setPath(result, field.key, read(field, input));
    return result;
  };
  const refreshShown = () => {
    const current = readAll();
    for (const [field, row] of rows) if (field.when) row.hidden = !field.when(current);
  };
  const el = h('div.field-set', {oninput: refreshShown, onchange: refreshShown}, rows.map(([, row]) => row));
  refreshShown();
  return {el, read: readAll, inputs};
}

// A modal form. Resolves with what onSubmit returned, or null when cancelled. onSubmit may throw
// (the server's message is shown and the dialog stays) or return false to stay open.
export function formDialog({title, fields, values = {}, submitLabel, onSubmit, intro}) {
  return new Promise((resolve) => {
    const set = fieldSet(fields, values);
    const submit = h('button.btn.btn-primary', {type: 'submit'}, submitLabel || t('common.save'));
    let result = null;
    const titleId = `dialog-${nextId}`;
    const {dialog, close} = modal('', titleId, h('form.dialog-form', {onsubmit: async (event) => {
      event.preventDefault();
      submit.disabled = true;
      try {
        const answer = await onSubmit(set.read(), set);
        if (answer !== false) {
          result = answer ?? true;
          close();
        }
      } catch (error) {
        toastError(error);
      } finally {
        submit.disabled = false;
      }
    }},
    h('h2.dialog-title', {id: titleId}, title),
    intro,
    set.el,
    h('div.dialog-actions',
      h('button.btn', {onclick: () => close()}, t('common.cancel')), submit)));
    dialog.addEventListener('close', () => resolve(result));
    dialog.querySelector('input:not([disabled]), select, textarea')?.focus();
  });
}

// A secret shown once, in a read-only box with a copy button (copied right away too).
export function secretDialog({title, secret, note}) {
  copyText(secret);
  return formDialog({
    title, fields: [], submitLabel: t('common.done'),
    intro: h('div',
      note && h('p.muted.small', note),
      h('div.secret-row', h('input.input.mono', {readonly: true, value: secret, 'aria-label': title}),
        iconButton('copy', t('memo.copy'), () => copyText(secret)))),
    onSubmit: () => true,
  });
}

// An inline settings form whose Save button is enabled only once something changed.
// extra: {el, apply(values)} for a control the field list cannot describe (it fires 'change').
export function settingsForm({fields, values, onSave, validate, extra}) {
  const set = fieldSet(fields, values);
  const readAll = () => {
    const now = set.read();
    extra?.apply(now);
    return now;
  };
  let saved = JSON.stringify(readAll());
  const save = h('button.btn.btn-primary', {type: 'submit', disabled: true}, t('common.save'));
  const update = () => {
    const now = readAll();
    save.disabled = JSON.stringify(now) === saved || (validate && !validate(now));
  };
  return h('form.card.settings-form', {oninput: update, onchange: update, onsubmit: async (event) => {
    event.preventDefault();
    save.disabled = true;
    try {
      const now = readAll();
      await onSave(now);
      saved = JSON.stringify(now);
      toast(t('settings.saved'));
    } catch (error) {
      toastError(error);
    }
    update();
  }}, set.el, extra?.el, h('div.form-actions', save));
}
