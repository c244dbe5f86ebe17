// Runs before the first paint (a classic script in <head>): the stored theme, so no flash.
(function () {
  var preference = localStorage.getItem('memos-theme') || 'system';
  var dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
  var theme = preference === 'system' ? (dark ? 'default-dark' : 'default') : preference;
  document.documentElement.setAttribute('data-theme', theme);
})();
