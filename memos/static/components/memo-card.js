// One memo as a card: header (time, author, markers, menu), the server-rendered body with its
// behaviour (tasks, tags, mentions, code copy), and inline editing.
import {call} from '../core/api.js';
import {h, icon, iconButton, serverHtml} from '../core/dom.js';
import {dateTime, relativeTime, t} from '../core/i18n.js';
import {canWrite, state} from '../core/state.js';
import {copyText, menuButton, toast, toastError} from '../core/ui.js';
import {confirmThen} from '../core/attempt.js';
import {createEditor} from './editor.js';
import {attachmentSection, previewTextImages} from './attachments.js';
import {reactionParts} from './reactions.js';
import {relationsSection} from './relations.js';
import {linkPreviews} from './link-preview.js';
import {view} from '../core/view.js';
import {creatorName, usersNamed} from '../core/users.js';
import {ruleFor, toHex} from '../core/tag-rules.js';
import {shieldIfSensitive} from './sensitive.js';

// The memo's address on this instance, for copying.
export function memoLink(memo) {
  return (state.profile.instanceUrl || location.origin).replace(/\/$/, '') + '/memos/' + memoUid(memo);
}

export function memoUid(memo) {
  return memo.name.split('/')[1];
}

const VISIBILITY_ICONS = {PUBLIC: 'globe', PROTECTED: 'people'};

function visibilityMarker({visibility}) {
  const name = VISIBILITY_ICONS[visibility];
  return name && icon(name, t(`visibility.${visibility.toLowerCase()}`));
}

// Flips the task marker on a content line: '[ ]' <-> '[x]'.
function toggleTaskLine(content, lineIndex) {
  const lines = content.split('\n');
  const line = lines[lineIndex];
  if (line === undefined) return content;
  lines[lineIndex] = line.replace(/\[([ xX])\]/, (_, mark) => (mark === ' ' ? '[x]' : '[ ]'));
  return lines.join('\n');
}

// html: the memo's rendered body; archived (inArchive): shown in the archive; readOnly: no menu, no reaction
// picker; shareToken: file addresses for a shared-memo page; strip: the comment strip below it (blurred with
// the rest of a sensitive memo); onChanged(memo, mask), onRemoved(memo), onTag(tag).
export function memoCard(memo, {html, showAuthor, isNew, archived: inArchive, author, onChanged, onRemoved, onTag, readOnly, shareToken, strip}) {
  const writable = canWrite(memo);
  const archived = memo.state === 'ARCHIVED';

  // The updated memo, or undefined once the error is shown.
  const update = (patch, mask, message) => call('MemoService', 'UpdateMemo', {memo: {name: memo.name, ...patch}, updateMask: mask})
    .then((updated) => {
      if (message) toast(message);
      onChanged?.(updated, mask);
      return updated;
    }, toastError);
  const pin = (pinned) => update({pinned}, 'pinned', t(pinned ? 'memo.pinned' : 'memo.unpinned'));

  const reactions = reactionParts(memo, {readOnly});
  const created = new Date(memo.createTime);
  const updated = new Date(memo.updateTime);
  const edited = Math.abs(updated - created) > 1000;
  const tooltip = `${t('memo.created-at')}: ${dateTime(created)}` + (edited ? `\n${t('memo.updated-at')}: ${dateTime(updated)}` : '');
  const username = creatorName(memo);
  const header = h('header.memo-header',
    h('div.memo-meta',
      showAuthor && h('a.memo-author', {href: `/u/${encodeURIComponent(username)}`},
        author?.displayName || username),
      h('a.memo-time', {href: `/memos/${memoUid(memo)}`, title: tooltip},
        inArchive ? dateTime(created) : edited && view().time === 'update'
          ? `${t('view.updated')} ${relativeTime(updated)}` : relativeTime(created)),
      isNew && h('span.pill.pill-new', t('memo.new'))),
    h('div.memo-actions',
      reactions.trigger,
      visibilityMarker(memo),
      memo.pinned && iconButton('bookmark', t('memo.unpin'), () => pin(false),
        {class: 'icon-btn pinned-marker', disabled: !writable}),
      !readOnly && menuButton({label: t('memo.actions'), items: menuItems})));

  const body = h('div.memo-content', {hidden: html === undefined});
  if (html !== undefined) serverHtml(body, html);
  enhance(body, memo, writable && !archived, update, onTag);
  previewTextImages(body);
  linkPreviews(body);
  const card = h('article.card.memo-card', {dataset: {name: memo.name}}, header, body,
    attachmentSection(memo.attachments, {shareToken}),
    !readOnly && relationsSection(memo), reactions.row, strip);
  shieldIfSensitive(card, memo);

  // The items this reader may use (each guarded by its condition).
  function menuItems() {
    const editable = writable && !archived;
    return [
      editable && {label: t('memo.edit'), onSelect: edit},
      editable && !memo.parent && {label: t(memo.pinned ? 'memo.unpin' : 'memo.pin'), onSelect: () => pin(!memo.pinned)},
      !archived && {label: t('memo.copy-link'), onSelect: () => copyText(memoLink(memo), t('memo.link-copied'))},
      !archived && {label: t('memo.copy-content'), onSelect: () => copyText(memo.content, t('memo.content-copied'))},
      writable && !memo.parent && {label: t(archived ? 'memo.restore' : 'memo.archive'),
        onSelect: () => update({state: archived ? 'NORMAL' : 'ARCHIVED'}, 'state', t(archived ? 'memo.restored' : 'memo.archived'))},
      writable && 'separator',
      writable && {label: t('memo.delete'), danger: true, onSelect: remove},
    ].filter(Boolean);
  }

  function remove() {
    confirmThen({title: t('memo.delete-title'), message: t('memo.delete-message'), confirm: t('memo.delete')},
      () => call('MemoService', 'DeleteMemo', {name: memo.name}), t('memo.deleted'), () => onRemoved?.(memo));
  }

  function edit() {
    const editor = createEditor({
      memo,
      onSaved: (saved) => onChanged?.(saved, 'content'),
      onCancel: () => editor.root.replaceWith(card),
    });
    editor.root.dataset.name = memo.name;
    card.replaceWith(editor.root);
    editor.focus();
  }

  return card;
}

// Behaviour on the server's HTML: tasks toggle (writers only), tags filter, mentions link, code copies.
function enhance(body, memo, writable, update, onTag) {
  for (const box of body.querySelectorAll('li.task-list-item > input[type="checkbox"]')) {
    const item = box.parentElement;
    box.disabled = !writable;
    box.setAttribute('aria-label', item.textContent.trim() || t('memo.task'));
    box.addEventListener('change', async () => {
      const saved = await update({content: toggleTaskLine(memo.content, Number(item.dataset.taskLine))}, 'content,updateTime');
      if (!saved) box.checked = !box.checked;
    });
  }
  for (const tag of body.querySelectorAll('span.tag[data-tag]')) {
    const name = tag.dataset.tag;
    const link = h('a.tag', {href: `/?filter=tagSearch:${encodeURIComponent(name)}`, onclick: (event) => {
      if (!onTag) return;
      event.preventDefault();
      onTag(name);
    }}, tag.textContent);
    const color = ruleFor(name)?.backgroundColor;
    if (color) link.style.setProperty('--tag', toHex(color));
    tag.replaceWith(link);
  }
  // A mention links only when it names a user; the others stay text.
  const mentions = [...body.querySelectorAll('span.mention[data-mention]')];
  if (mentions.length) usersNamed(mentions.map((mention) => mention.dataset.mention)).then((users) => {
    for (const mention of mentions) {
      const name = mention.dataset.mention;
      if (users.get(name)) mention.replaceWith(h('a.mention', {href: '/u/' + encodeURIComponent(name)}, mention.textContent));
    }
  });
  for (const block of body.querySelectorAll('pre.code-block')) {
    // "Copied" only once the clipboard took it.
    const copy = h('button.code-copy', {'aria-label': t('memo.copy-code'), onclick: () =>
      navigator.clipboard.writeText(block.querySelector('code')?.textContent || '').then(() => {
        copy.textContent = t('memo.copied');
        setTimeout(() => (copy.textContent = t('memo.copy')), 2000);
      }, () => {})}, t('memo.copy'));
    block.before(h('div.code-header', h('span', block.dataset.language || 'text'), copy));
  }
}
