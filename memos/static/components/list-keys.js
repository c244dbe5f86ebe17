// List editing keys of the composer (E4): Enter continues a bullet, number, task or quote marker
// (Enter on an empty item ends the list); Tab / Shift+Tab nest and outdent list items and indent
// other text by two spaces. Each function takes the text and the caret and returns the edit to
// make, {start, end, insert, caret}, or null when the key should do what it normally does.

const ITEM = /^(\s*)([-*+]|(\d+)([.)]))(\s+)(\[[ xX]\]\s+)?/;
const QUOTE = /^(\s*>\s?)/;
const INDENT = '  ';

// The edit that inserts `insert` at `at`, the caret moving by its length.
const insertAt = (at, insert, caret) => ({start: at, end: at, insert, caret: caret + insert.length});

function lineAt(text, caret) {
  const start = text.lastIndexOf('\n', caret - 1) + 1;
  let end = text.indexOf('\n', caret);
  if (end < 0) end = text.length;
  return {start, end, line: text.slice(start, end)};
}

function enterEdit(text, caret) {
  const {start, end, line} = lineAt(text, caret);
  const item = ITEM.exec(line);
  const marker = item ? item[0] : QUOTE.exec(line)?.[0];
  if (!marker || caret < start + marker.length) return null;
  if (!line.slice(marker.length).trim() && caret === end) {
    return {start, end, insert: '', caret: start};  // an empty item ends the list
  }
  let next = marker;
  if (item) {
    const [, indent, bullet, number, dot, space, task] = item;
    next = indent + (number ? Number(number) + 1 + dot : bullet) + space + (task ? '[ ] ' : '');
  }
  return insertAt(caret, `\n${next}`, caret);
}

// The closest item of the list above `lineStart` whose indent width `fits`: with a smaller indent the
// parent, with at most the same indent the item a nested item goes under.
function itemAbove(text, lineStart, fits) {
  for (const line of text.slice(0, Math.max(0, lineStart - 1)).split('\n').reverse()) {
    const item = ITEM.exec(line);
    if (!item || fits(item[1].length)) return item;
  }
  return null;
}

function tabEdit(text, caret, outdent) {
  const {start, line} = lineAt(text, caret);
  const item = ITEM.exec(line);
  if (!item) {
    if (!outdent) return insertAt(caret, INDENT, caret);
    const spaces = /^ {1,2}/.exec(line)?.[0].length || 0;
    return spaces ? {start, end: start + spaces, insert: '', caret: Math.max(start, caret - spaces)} : null;
  }
  const [whole, indent, , number, dot, space, task = ''] = item;
  let nextIndent = outdent ? indent.slice(2) : indent + INDENT;
  let nextMarker = whole.slice(indent.length);
  if (number && !outdent) {
    // An ordered item nests under the text column of the item above, numbered from 1.
    const above = itemAbove(text, start, (width) => width <= indent.length);
    if (!above) return insertAt(start, INDENT, caret);
    nextIndent = ' '.repeat(above[1].length + above[2].length + above[5].length);
    nextMarker = '1' + dot + space + task;
  } else if (number) {
    if (!indent) return null;
    const parent = itemAbove(text, start, (width) => width < indent.length);
    nextIndent = parent ? parent[1] : '';
    nextMarker = (parent?.[3] ? Number(parent[3]) + 1 : 1) + dot + space + task;
  }
  const insert = nextIndent + nextMarker;
  return {start, end: start + whole.length, insert, caret: Math.max(start + insert.length, caret + insert.length - whole.length)};
}

// Makes the edit through the browser's editing commands, so undo and redo keep working.
function applyEdit(textarea, edit) {
  textarea.setSelectionRange(edit.start, edit.end);
  if ((edit.insert || edit.start !== edit.end)
    && !document.execCommand(edit.insert ? 'insertText' : 'delete', false, edit.insert)) {
    textarea.setRangeText(edit.insert, edit.start, edit.end, 'end');
    textarea.dispatchEvent(new Event('input'));
  }
  textarea.setSelectionRange(edit.caret, edit.caret);
}

// The keydown handler: true when it handled the key.
export function listKey(textarea, event) {
  if (event.isComposing || event.altKey || event.ctrlKey || event.metaKey
    || textarea.selectionStart !== textarea.selectionEnd) return false;
  const caret = textarea.selectionStart;
  let edit;
  if (event.key === 'Enter' && !event.shiftKey) edit = enterEdit(textarea.value, caret);
  else if (event.key === 'Tab') edit = tabEdit(textarea.value, caret, event.shiftKey);
  else return false;
  // Tab always stays in the editor (Esc is the way out), even when there is nothing to outdent.
  if (!edit) return event.key === 'Tab' && (event.preventDefault(), true);
  event.preventDefault();
  applyEdit(textarea, edit);
  return true;
}
