// Messages: one catalog per locale in i18n/<locale>.js, a default export grouped by the key's first part
// ({memo: {deleted: ...}}). t('memo.deleted') or t('feed.remove-filter', {value: 'x'}) with {name}
// placeholders; English fills any gap.
import en from '../i18n/en.js';
import {emit} from './state.js';

// The locales shipped: code -> native name (the picker lists these).
export const LOCALES = {en: 'English', de: 'Deutsch'};
const LOCALE_KEY = 'memos-locale';
const RTL = new Set(['ar', 'fa']);

let current = 'en';
let messages = en;

const lookup = (catalog, key) => {
  const dot = key.indexOf('.');
  return catalog[key.slice(0, dot)]?.[key.slice(dot + 1)];
};

export function t(key, params) {
  let text = lookup(messages, key) ?? lookup(en, key) ?? key;
  if (params) text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  return text;
}

export function locale() {
  return current;
}

// The best shipped locale for a language tag (exact, then its language).
export function match(tag) {
  if (!tag) return null;
  if (LOCALES[tag]) return tag;
  const language = tag.toLowerCase().split('-')[0];
  return Object.keys(LOCALES).find((code) => code.split('-')[0] === language) || null;
}

export function preferredLocale(userLocale) {
  return (
    match(userLocale) ||
    match(localStorage.getItem(LOCALE_KEY)) ||
    (navigator.languages || []).map(match).find(Boolean) ||
    'en'
  );
}

export async function setLocale(code, {remember = false} = {}) {
  const chosen = match(code) || 'en';
  if (remember) localStorage.setItem(LOCALE_KEY, chosen);
  if (chosen === current && messages) return;
  messages = chosen === 'en' ? en : (await import(`../i18n/${chosen}.js`)).default;
  current = chosen;
  document.documentElement.lang = chosen;
  document.documentElement.dir = RTL.has(chosen.split('-')[0]) ? 'rtl' : 'ltr';
  emit('locale', chosen);
}

// "3 minutes ago" within a day, the locale's date and time beyond.
export function relativeTime(date) {
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const size = Math.abs(seconds);
  if (size >= 86400) return dateTime(date);
  const format = new Intl.RelativeTimeFormat(current, {numeric: 'auto'});
  if (size < 60) return format.format(seconds, 'second');
  if (size < 3600) return format.format(Math.round(seconds / 60), 'minute');
  return format.format(Math.round(seconds / 3600), 'hour');
}

export function dateTime(date) {
  return new Intl.DateTimeFormat(current, {dateStyle: 'medium', timeStyle: 'short'}).format(date);
}
