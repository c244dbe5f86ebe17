// Shared interaction pieces: toasts, confirm dialogs, pop-up menus.
import {h, icon, iconButton} from './dom.js';
import {t} from './i18n.js';

export function toast(message, kind = 'success') {
  const item = h('div', {class: `toast toast-${kind}`}, message);
  (document.getElementById('toasts')
    || document.body.appendChild(h('div.toasts', {id: 'toasts', role: 'status', 'aria-live': 'polite'}))).append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 6000 : 3000);
}

export function toastError(error) {
  toast(error?.message || String(error), 'error');
}

// Copies text, saying so with the given message; without clipboard permission the text stays selectable where it is.
export async function copyText(text, message = t('memo.copied')) {
  try {
    await navigator.clipboard.writeText(text);
    toast(message);
    return true;
  } catch (error) {
    // The browser refused (no permission, page not focused): say so rather than pretend.
    toastError(error);
    return false;
  }
}

// Shows `dialog` as a modal that removes itself when closed (Esc included) and gives focus back
// to what opened it.
export function showModal(dialog) {
  const trigger = document.activeElement;
  dialog.addEventListener('close', () => {
    dialog.remove();
    trigger?.focus?.();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

// A modal dialog of the app's look: {dialog, close}. Children go in as with h().
export function modal(className, titleId, ...children) {
  const dialog = showModal(h('dialog', {class: `dialog ${className}`, 'aria-labelledby': titleId}, ...children));
  return {dialog, close: () => dialog.close()};
}

// A dialog's head row: `start` (its title, maybe between arrows), a spacer, `end` and the close button.
export function dialogHead(start, ...end) {
  return h('div.year-head', start, h('span.grow'), end,
    iconButton('close', t('dialog.close'), (event) => event.currentTarget.closest('dialog').close()));
}

// Resolves true when confirmed; Esc or Cancel resolves false.
export function confirmDialog({title, message, confirm, danger = true}) {
  return new Promise((resolve) => {
    const ok = h('button.btn.btn-' + (danger ? 'danger' : 'primary'), {onclick: () => dialog.close('ok')}, confirm);
    const {dialog, close} = modal('', 'dialog-title',
      h('h2.dialog-title', {id: 'dialog-title'}, title),
      message && h('p.muted', message),
      h('div.dialog-actions', h('button.btn', {onclick: () => close()}, t('common.cancel')), ok));
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'));
    ok.focus();
  });
}

// A pop-up opened by `button`: pop.toggle() shows the element show() builds and places, or closes it;
// Escape and a press outside close it too, and aria-expanded follows. pop.button may change.
export function popup(button, show) {
  const pop = {button, el: null, close, toggle: () => (pop.el ? close() : open())};
  const expanded = (open) => pop.button.setAttribute('aria-expanded', open);
  const outside = ({target}) => pop.el.contains(target) || pop.button.contains(target) || close(false);
  function open() {
    pop.el = show();
    pop.el.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      close();
    });
    expanded(true);
    document.addEventListener('pointerdown', outside, true);
  }
  function close(refocus = true) {
    if (!pop.el) return;
    pop.el.remove();
    pop.el = null;
    expanded(false);
    document.removeEventListener('pointerdown', outside, true);
    if (refocus) pop.button.focus();
  }
  return pop;
}

// A menu button: items are {label, onSelect, danger?, checked?} or 'separator'.
// items may be a function, called each time the menu opens.
export function menuButton({label, iconName = 'more', items, className = 'icon-btn'}) {
  const button = iconButton(iconName, label, () => pop.toggle(),
    {class: className, 'aria-haspopup': 'menu', 'aria-expanded': false});
  const wrap = h('span.menu-wrap', button);
  const pop = popup(button, () => {
    const menu = h('div.menu', {role: 'menu', onkeydown: (event) => {
      const entries = [...menu.querySelectorAll('.menu-item')];
      const step = {ArrowDown: 1, ArrowUp: entries.length - 1}[event.key];
      if (step === undefined) return;
      event.preventDefault();
      entries[(entries.indexOf(document.activeElement) + step) % entries.length].focus();
    }}, (typeof items === 'function' ? items() : items).map((item) => item === 'separator'
      ? h('div.menu-sep', {role: 'separator'})
      : h('button', {
        class: 'menu-item' + (item.danger ? ' danger' : ''), role: item.checked === undefined ? 'menuitem' : 'menuitemradio',
        'aria-checked': item.checked,
        onclick: () => {
          pop.close();
          item.onSelect();
        },
      }, item.checked ? icon('check') : h('span.icon'), item.label)));
    wrap.append(menu);
    menu.querySelector('.menu-item')?.focus();
    return menu;
  });
  return wrap;
}
