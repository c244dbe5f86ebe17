// The attachments library (/attachments): the user's files that belong to a memo, in tabs
// Media / Audio / Documents (pages of 50, newest first, "Load more"), and a panel for unused
// files (in no memo) that can all be deleted at once.
import {call} from '../core/api.js';
import {h, icon} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {confirmDialog, toastError} from '../core/ui.js';
import {attempt} from '../core/attempt.js';
import {allPages} from '../core/fields.js';
import {documentRow, fileUrl, kindOf, mediaTile, openPreview, shortDate, typeLabel} from '../components/attachments.js';

const PAGE_SIZE = 50;
const UNUSED_PAGE = 1000;
const DELETE_BATCH = 100;
const TABS = ['media', 'audio', 'documents'];

function tabOf(attachment) {
  const kind = kindOf(attachment.type);
  return kind === 'image' || kind === 'video' ? 'media' : kind === 'audio' ? kind : 'documents';
}

function memoChip(attachment) {
  return attachment.memo && h('a.pill.memo-chip', {href: `/${attachment.memo}`}, t('attachments.memo'));
}

function openLink(attachment) {
  const label = t('attachments.open', {name: attachment.filename});
  return h('a.icon-btn', {href: fileUrl(attachment), target: '_blank', rel: 'noopener', 'aria-label': label, title: label}, icon('share'));
}

function mediaGrid(items) {
  const groups = new Map();
  const monthOf = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {year: 'numeric', month: 'long'});
  for (const item of items) {
    const month = monthOf.format(new Date(item.createTime));
    if (!groups.has(month)) groups.set(month, []);
    groups.get(month).push(item);
  }
  return [...groups].map(([month, group]) => h('section.library-month',
    h('div.section-label', month),
    h('div.library-grid', group.map((item) => h('div.library-card',
      mediaTile(item, {}, () => openPreview(items, items.indexOf(item))),
      h('div.library-info',
        h('div.att-name', item.filename),
        h('div.muted.small', `${typeLabel(item.type)} · ${shortDate(item.createTime)}`)),
      openLink(item))))));
}

function audioList(items) {
  return items.map((item) => h('div.library-row',
    h('div.library-info', h('div.att-name', item.filename),
      h('div.muted.small', shortDate(item.createTime))),
    h('audio', {controls: true, preload: 'none', src: fileUrl(item), 'aria-label': item.filename}),
    memoChip(item), openLink(item)));
}

function documentList(items) {
  return items.map((item) => h('div.library-row',
    documentRow(item, {}, h('span.muted.small', shortDate(item.createTime))), memoChip(item)));
}

const TAB_VIEWS = {media: mediaGrid, audio: audioList, documents: documentList};

function unusedPanel() {
  const panel = h('section.unused-panel', {hidden: true, 'aria-label': t('attachments.unused')});
  let unused = [];
  async function load() {
    try {
      unused = await allPages('AttachmentService', 'ListAttachments',
        {pageSize: UNUSED_PAGE, filter: 'memo_id == null', orderBy: 'create_time desc'}, 'attachments');
    } catch (error) {
      toastError(error);
    }
    render();
  }
  function render() {
    const names = h('ul.unused-list', {hidden: true}, unused.map((item) => h('li', item.filename)));
    panel.replaceChildren(
      h('span', t('attachments.unused-count', {count: unused.length})),
      h('span.grow'),
      h('button.btn', {'aria-expanded': 'false', onclick: (event) => {
        names.hidden = !names.hidden;
        event.currentTarget.setAttribute('aria-expanded', !names.hidden);
      }}, t('attachments.show-unused')),
      h('button.btn.btn-danger', {onclick: removeAll}, t('attachments.delete-unused')),
      names);
    panel.hidden = !unused.length;
  }
  // Reloads the list also after a failure (some batches may be gone).
  async function removeAll() {
    if (!(await confirmDialog({title: t('attachments.delete-unused-title'),
      message: t('attachments.delete-unused-message', {count: unused.length}), confirm: t('attachments.delete-unused')}))) return;
    await attempt(async () => {
      const names = unused.map((item) => item.name);
      for (let at = 0; at < names.length; at += DELETE_BATCH) {
        await call('AttachmentService', 'BatchDeleteAttachments', {names: names.slice(at, at + DELETE_BATCH)});
      }
    }, t('attachments.unused-deleted'));
    load();
  }
  return {panel, load};
}

export default {
  async render({main}) {
    const loaded = [];
    let token = '';
    let active = 'media';
    const tabs = h('div.tabs', {role: 'tablist', 'aria-label': t('nav.attachments'), onkeydown: (event) => {
      if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
      const at = TABS.indexOf(active) + (event.key === 'ArrowRight' ? 1 : TABS.length - 1);
      active = TABS[at % TABS.length];
      render();
      tabs.querySelector('.tab.active')?.focus();
    }});
    const body = h('div.library', {role: 'tabpanel'});
    const more = h('button.btn', {hidden: true, onclick: load}, t('comments.load-more'));
    const unused = unusedPanel();
    main.append(h('h1.page-title', t('nav.attachments')), unused.panel, tabs, body, more);

    function render() {
      const inTab = (tab) => loaded.filter((item) => item.memo && tabOf(item) === tab);
      tabs.replaceChildren(...TABS.map((tab) => h('button', {
        class: tab === active ? 'tab active' : 'tab', role: 'tab', id: `tab-${tab}`,
        'aria-selected': tab === active, tabindex: tab === active ? 0 : -1,
        onclick: () => {
          active = tab;
          render();
        },
      }, t('attachments.tab-' + tab) + ` (${inTab(tab).length})`)));
      body.setAttribute('aria-labelledby', `tab-${active}`);
      const shown = inTab(active);
      body.replaceChildren(...(shown.length ? TAB_VIEWS[active](shown) : [h('p.empty-note.muted', t(`attachments.empty-${active}`))]));
    }

    async function load() {
      more.disabled = true;
      body.classList.add('loading');
      try {
        const page = await call('AttachmentService', 'ListAttachments', {pageSize: PAGE_SIZE, pageToken: token, orderBy: 'create_time desc'});
        loaded.push(...(page.attachments || []));
        token = page.nextPageToken || '';
        more.hidden = !token;
        render();
      } catch (error) {
        body.replaceChildren(h('div.error-box', h('p', error.message),
          h('button.btn', {onclick: load}, t('attachments.retry'))));
      } finally {
        more.disabled = false;
        body.classList.remove('loading');
      }
    }
    render();
    // Skeleton tiles until the first page arrives (an empty tab would say "nothing here" too early).
    body.replaceChildren(h('div.library-grid', {'aria-busy': 'true'},
      Array.from({length: 6}, () => h('div.skeleton.skeleton-tile'))));
    await Promise.all([load(), unused.load()]);
  },
};
