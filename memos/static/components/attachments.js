// Attachments as a reader sees them: file addresses, the card's attachment section (gallery,
// audio players, document rows) and the full-screen preview over a memo's images and videos.
import {h, icon, iconButton} from '../core/dom.js';
import {showModal} from '../core/ui.js';
import {dateTime, t} from '../core/i18n.js';

const GALLERY_TILES = 6;
const ZOOMS = [1, 1.5, 2, 3, 4];

// The address of an attachment's bytes: its external link, else the file route (a thumbnail
// for grid tiles; the share token on a shared-memo page, for anonymous readers).
export function fileUrl(attachment, {thumbnail = false, shareToken = ''} = {}) {
  if (attachment.externalLink) return attachment.externalLink;
  const search = String(new URLSearchParams(Object.entries({thumbnail, share_token: shareToken}).filter(([, value]) => value)));
  return `/file/${attachment.name}/${encodeURIComponent(attachment.filename)}` + (search && '?' + search);
}

export function kindOf(type = '') {
  const major = type.split('/')[0];
  return ['image', 'video', 'audio'].includes(major) ? major : 'file';
}

const UNITS = ['B', 'KB', 'MB', 'GB'];

export function formatSize(bytes) {
  let value = Number(bytes) || 0;
  let unit = 0;
  for (; value >= 1024 && unit < 3; unit++) value /= 1024;
  return (unit && value < 10 ? value.toFixed(1) : Math.round(value)) + ' ' + UNITS[unit];
}

export function typeLabel(type) {
  return (type || '').split('/').pop().toUpperCase() || t('attachments.file');
}

// "PNG · 12 KB"
export function fileMeta({type, size}) {
  return `${typeLabel(type)} · ${formatSize(size)}`;
}

// A square tile for an image or a video (poster from its first frame, with a play badge).
export function mediaTile(attachment, options, onOpen) {
  const video = kindOf(attachment.type) === 'video';
  const visual = video
    ? h('video', {src: fileUrl(attachment, options), preload: 'metadata', muted: true, tabindex: -1})
    : h('img', {src: fileUrl(attachment, {...options, thumbnail: true}), alt: attachment.filename, loading: 'lazy'});
  return h('button.media-tile', {title: attachment.filename,
    'aria-label': t('attachments.open-preview', {name: attachment.filename}), onclick: onOpen},
  visual, video && h('span.play-badge', {'aria-hidden': true}, '▶'));
}

function audioRow(attachment, options) {
  return h('div.att-audio',
    h('div.att-line',
      h('span.att-name', attachment.filename),
      h('span.muted.small', fileMeta(attachment))),
    h('audio', {controls: true, preload: 'none', src: fileUrl(attachment, options),
      'aria-label': attachment.filename}));
}

export function documentRow(attachment, options, extra = null) {
  return h('div.att-doc',
    icon('paperclip'),
    h('a.att-name', {href: fileUrl(attachment, options), download: attachment.filename,
      title: t('attachments.download', {name: attachment.filename})}, attachment.filename),
    h('span.muted.small', fileMeta(attachment)),
    extra);
}

// The "Attachments" section under a memo's text: visual items first, then audio, then files.
export function attachmentSection(attachments = [], options = {}) {
  if (!attachments.length) return null;
  const only = (...kinds) => attachments.filter((item) => kinds.includes(kindOf(item.type)));
  const visual = only('image', 'video');
  const hidden = visual.length - GALLERY_TILES;
  const gallery = visual.length ? h('div', {class: `gallery gallery-${Math.min(visual.length, 5)}`},
    visual.slice(0, GALLERY_TILES).map((item, index) => {
      const tile = mediaTile(item, options, () => openPreview(visual, index, options));
      if (index === GALLERY_TILES - 1 && hidden > 0) tile.append(h('span.more-badge', `+${hidden}`));
      return tile;
    })) : null;
  return h('section.memo-attachments', {'aria-label': t('attachments.title')},
    h('div.section-label', `${t('attachments.title')} (${attachments.length})`),
    gallery, only('audio').map((item) => audioRow(item, options)), only('file').map((item) => documentRow(item, options)));
}

// The preview: one item at a time over a dark backdrop; Esc closes, arrows switch, zoom by
// buttons, wheel or double-click.
export function openPreview(items, start = 0, options = {}) {
  let at = start;
  let zoom = 0;
  const stage = h('div.preview-stage', {ondblclick: () => setZoom(zoom ? 0 : 2), onclick: (event) => {
    if (event.target === stage) dialog.close();
  }, onwheel: (event) => {
    event.preventDefault();
    setZoom(zoom + (event.deltaY < 0 ? 1 : -1));
  }});
  const counter = h('span.preview-count', {'aria-live': 'polite'});
  const button = (text, label, onclick, place = '') => iconButton(text, label, onclick, {class: 'icon-btn preview-btn' + place});
  const dialog = h('dialog.preview', {'aria-label': t('attachments.preview'),
    onkeydown: (event) => {
      const step = {ArrowLeft: -1, ArrowRight: 1}[event.key];
      if (!step) return;
      event.preventDefault();
      show(at + step);
    }},
    h('div.preview-bar', counter, h('span.grow'),
      button('−', t('attachments.zoom-out'), () => setZoom(zoom - 1)),
      button('+', t('attachments.zoom-in'), () => setZoom(zoom + 1)),
      button('close', t('dialog.close'), () => dialog.close())),
    stage,
    items.length > 1 && [
      button('‹', t('attachments.previous'), () => show(at - 1), ' preview-prev'),
      button('›', t('attachments.next'), () => show(at + 1), ' preview-next')]);

  function setZoom(level) {
    zoom = Math.max(0, Math.min(ZOOMS.length - 1, level));
    const img = stage.querySelector('img');
    if (img) img.style.transform = `scale(${ZOOMS[zoom]})`;
  }
  function show(index) {
    at = (index + items.length) % items.length;
    const item = items[at];
    const video = kindOf(item.type) === 'video';
    stage.replaceChildren(video
      ? h('video', {src: fileUrl(item, options), controls: true, autoplay: true})
      : h('img', {src: fileUrl(item, options), alt: item.filename}));
    counter.textContent = `${at + 1} / ${items.length} · ${item.filename}`;
    setZoom(0);
  }
  show(at);
  return showModal(dialog);
}

export function shortDate(value) {
  return value ? dateTime(new Date(value)) : '';
}

// Images in a memo's text open the preview, unless they are a link's content.
export function previewTextImages(body) {
  for (const img of body.querySelectorAll('img')) {
    if (img.closest('a')) continue;
    img.classList.add('zoomable');
    img.addEventListener('click', () => openPreview([{externalLink: img.src, filename: img.alt || img.src, type: 'image/'}]));
  }
}
