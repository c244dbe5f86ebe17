// Themes: the preference is 'system', 'default', 'default-dark' or 'paper'; the resolved theme
// is <html data-theme>. theme-boot.js applies the device preference before the first paint.
import {emit} from './state.js';

export const THEMES = ['system', 'default', 'default-dark', 'paper'];
const THEME_KEY = 'memos-theme';
const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');
let preference = localStorage.getItem(THEME_KEY) || 'system';

export function themePreference() {
  return preference;
}

function resolve() {
  if (preference === 'system' || !THEMES.includes(preference)) return darkQuery.matches ? 'default-dark' : 'default';
  return preference;
}

export function applyTheme() {
  const theme = resolve();
  document.documentElement.dataset.theme = theme;
  document.querySelector('meta[name="theme-color"]')?.setAttribute('content', theme === 'default-dark' ? '#1d1f23' : '#faf9f5');
}

export function setTheme(value, {remember = true} = {}) {
  preference = THEMES.includes(value) ? value : 'system';
  if (remember) localStorage.setItem(THEME_KEY, preference);
  applyTheme();
  emit('theme', preference);
}

darkQuery.addEventListener('change', () => {
  if (preference === 'system') applyTheme();
});
