// Runs before the first paint (a classic script in <head>): the stored theme, so no flash.
(function () {
  var preference = localStorage.getItem('memos-theme') || 'system';
  var dark = matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = preference === 'system' ? (dark ? 'default-dark' : 'default') : preference;
})();
