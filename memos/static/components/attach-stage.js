// The composer's attachments: files picked, pasted or dropped are staged (shown with a preview,
// reorderable, removable) and uploaded only on save, in order; existing attachments of an edited
// memo are listed the same way.
//   const stage = attachmentStager({onChange}); stage.insertMenu, stage.root,
//   await stage.upload() -> [{name}], stage.count(), stage.changed(), stage.reset()
import {call} from '../core/api.js';
import {h, icon} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {menuButton} from '../core/ui.js';
import {fileMeta, fileUrl, kindOf, openPreview} from './attachments.js';

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result.slice(reader.result.indexOf(',') + 1));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

export function attachmentStager({onChange, existing = []}) {
  // An item is {attachment} (already on the server) or {file, preview} (staged here).
  let items = existing.map((attachment) => ({attachment}));
  const names = () => items.map((item) => item.attachment?.name || '+').join('\n');
  const original = names();
  let uploading = false;
  const root = h('ul.att-stage', {'aria-label': t('editor.attachments')});
  const input = h('input.att-input', {type: 'file', multiple: true, hidden: true,
    onchange: () => {
      add([...input.files]);
      input.value = '';
    }});
  const pick = (accept) => () => {
    input.accept = accept;
    input.click();
  };
  const insertMenu = h('span.att-insert', input, menuButton({
    label: t('editor.insert'), iconName: 'plus', className: 'icon-btn insert-btn',
    items: [
      {label: t('editor.insert-media'), onSelect: pick('image/*,video/*')},
      {label: t('editor.insert-file'), onSelect: pick('')},
    ],
  }));

  function add(files) {
    items.push(...files.map((file) => ({file, preview: kindOf(file.type) === 'image' ? URL.createObjectURL(file) : ''})));
    render();
  }

  function move(index, by) {
    const target = index + by;
    if (target < 0 || target >= items.length) return;
    [items[index], items[target]] = [items[target], items[index]];
    render();
    root.children[target]?.querySelector(by < 0 ? '.att-up' : '.att-down')?.focus();
  }

  function remove(index) {
    URL.revokeObjectURL(items.splice(index, 1)[0].preview);  // a no-op for an attachment (no preview)
    render();
  }

  // An item as the rows and the preview see it: its attachment, or the staged file described as one.
  const describe = (item) => item.attachment || {filename: item.file.name, type: item.file.type, size: item.file.size};
  const visual = (item) => ['image', 'video'].includes(kindOf(describe(item).type));

  function row(item, index) {
    const file = describe(item);
    const name = file.filename;
    const thumb = item.preview || (item.attachment && kindOf(file.type) === 'image' ? fileUrl(file, {thumbnail: true}) : '');
    const visual = thumb
      ? h('button.att-thumb', {'aria-label': t('attachments.open-preview', {name}),
        onclick: () => previewAll(index)}, h('img', {src: thumb, alt: ''}))
      : h('span.att-thumb', icon('paperclip'));
    const tool = (cls, label, onclick, text) => h('button', {class: `icon-btn ${cls}`,
      'aria-label': `${label}: ${name}`, title: label, onclick}, text);
    return h('li', {class: 'att-row ' + (item.state || '')},
      visual,
      h('span.att-name', name),
      h('span.muted.small.att-meta', item.status || fileMeta(file)),
      tool('att-up', t('editor.move-up'), () => move(index, -1), '↑'),
      tool('att-down', t('editor.move-down'), () => move(index, 1), '↓'),
      tool('att-remove', t('editor.remove-attachment'), () => remove(index), '×'));
  }

  function previewAll(index) {
    const shown = items.filter(visual);
    openPreview(shown.map((item) => item.attachment || {...describe(item), externalLink: item.preview || URL.createObjectURL(item.file)}),
      Math.max(0, shown.indexOf(items[index])));
  }

  function render(notify = true) {
    root.replaceChildren(...items.map(row));
    root.hidden = !items.length;
    if (notify) onChange?.();
  }

  // Uploads what is staged, one file after another; an upload that fails stops the save with
  // the server's message and keeps every item (those uploaded stay uploaded).
  async function upload() {
    uploading = true;
    try {
      for (const [index, item] of items.entries()) {
        if (item.attachment) continue;
        // state: the row's class; status: the text shown instead of type and size.
        const mark = (state, status) => {
          Object.assign(item, {state, status});
          render();
        };
        mark('uploading', t('editor.uploading', {at: index + 1, count: items.length}));
        try {
          item.attachment = await call('AttachmentService', 'CreateAttachment', {attachment: {
            filename: item.file.name, type: item.file.type || 'application/octet-stream', content: await base64Of(item.file),
          }});
          mark('', '');
        } catch (error) {
          mark('failed', error.message);
          throw error;
        }
      }
    } finally {
      uploading = false;
      onChange?.();
    }
    return items.map((item) => ({name: item.attachment.name}));
  }

  function reset() {
    for (const item of items) URL.revokeObjectURL(item.preview);
    items = [];
    render();
  }

  // Files pasted or dropped onto `target` are staged; text pastes and drops behave as usual.
  function acceptFrom(target) {
    const take = (source) => (event) => {
      const files = [...(event[source]?.files || [])];
      if (!files.length) return;
      event.preventDefault();
      add(files);
    };
    target.addEventListener('paste', take('clipboardData'));
    target.addEventListener('drop', take('dataTransfer'));
    target.addEventListener('dragover', (event) => {
      if ([...(event.dataTransfer?.types || [])].includes('Files')) event.preventDefault();
    });
  }

  render(false);
  return {
    root, insertMenu, upload, reset, acceptFrom,
    count: () => items.length,
    busy: () => uploading,
    changed: () => names() !== original,
  };
}
