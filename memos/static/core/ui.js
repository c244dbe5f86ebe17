// Shared interaction pieces: toasts, confirm dialogs, pop-up menus.
import {h, icon} from './dom.js';
import {t} from './i18n.js';

function toastArea() {
  let area = document.getElementById('toasts');
  if (!area) {
    area = h('div.toasts', {id: 'toasts', role: 'status', 'aria-live': 'polite'});
    document.body.append(area);
  }
  return area;
}

export function toast(message, kind = 'success') {
  const item = h('div', {class: `toast toast-${kind}`}, message);
  toastArea().append(item);
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
  } catch {
    return false;
  }
}

// A modal dialog that removes itself when closed (Esc included) and gives focus back to
// what opened it: {dialog, close}. Children go in as with h().
export function modal(className, titleId, ...children) {
  const trigger = document.activeElement;
  const dialog = h('dialog', {class: `dialog ${className}`, 'aria-labelledby': titleId}, ...children);
  const close = () => dialog.close();
  dialog.addEventListener('close', () => {
    dialog.remove();
    trigger?.focus?.();
  });
  document.body.append(dialog);
  dialog.showModal();
  return {dialog, close};
}

// Resolves true when confirmed; Esc or Cancel resolves false.
export function confirmDialog({title, message, confirm, danger = true}) {
  return new Promise((resolve) => {
    let answer = false;
    const finish = (value) => {
      answer = value;
      close();
    };
    const ok = h(danger ? 'button.btn.btn-danger' : 'button.btn.btn-primary', {onclick: () => finish(true)}, confirm);
    const {dialog, close} = modal('', 'dialog-title',
      h('h2', {id: 'dialog-title', class: 'dialog-title'}, title),
      message ? h('p.muted', message) : null,
      h('div.dialog-actions',
        h('button.btn', {onclick: () => finish(false)}, t('common.cancel')),
        ok));
    dialog.addEventListener('close', () => resolve(answer));
    ok.focus();
  });
}

// A menu button: items are {label, onSelect, danger?, checked?} or 'separator'.
// items may be a function, called each time the menu opens.
export function menuButton({label, iconName = 'more', items, className = 'icon-btn'}) {
  const button = h('button', {class: className, 'aria-label': label, title: label,
    'aria-haspopup': 'menu', 'aria-expanded': 'false'}, icon(iconName));
  const wrap = h('span.menu-wrap', button);
  let menu = null;
  const close = ({refocus = true} = {}) => {
    if (!menu) return;
    menu.remove();
    menu = null;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (refocus) button.focus();
  };
  const outside = (event) => {
    if (menu && !menu.contains(event.target) && !button.contains(event.target)) close({refocus: false});
  };
  button.addEventListener('click', () => {
    if (menu) return close();
    const list = typeof items === 'function' ? items() : items;
    menu = h('div.menu', {role: 'menu'});
    for (const item of list) {
      if (item === 'separator') {
        menu.append(h('div.menu-sep', {role: 'separator'}));
        continue;
      }
      const radio = item.checked !== undefined;
      menu.append(h('button', {
        class: `menu-item${item.danger ? ' danger' : ''}`, role: radio ? 'menuitemradio' : 'menuitem',
        'aria-checked': radio && String(Boolean(item.checked)),
        onclick: () => {
          close();
          item.onSelect();
        },
      }, item.checked ? icon('check') : h('span.icon'), item.label));
    }
    menu.addEventListener('keydown', (event) => {
      const entries = [...menu.querySelectorAll('.menu-item')];
      const at = entries.indexOf(document.activeElement);
      if (event.key === 'Escape') close();
      else if (event.key === 'ArrowDown') entries[(at + 1) % entries.length].focus();
      else if (event.key === 'ArrowUp') entries[(at - 1 + entries.length) % entries.length].focus();
      else return;
      event.preventDefault();
    });
    wrap.append(menu);
    button.setAttribute('aria-expanded', 'true');
    document.addEventListener('pointerdown', outside, true);
    menu.querySelector('.menu-item')?.focus();
  });
  return wrap;
}
