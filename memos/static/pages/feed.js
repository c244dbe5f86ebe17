// The feeds: home (/), explore, archived and a user's profile (/u/:username).
import {call} from '../core/api.js';
import {clear, h, icon} from '../core/dom.js';
import {chipExpressions, readFilters, writeFilters} from '../core/filters.js';
import {t} from '../core/i18n.js';
import {set, state, subscribe} from '../core/state.js';
import {copyText, toastError} from '../core/ui.js';
import {memoMap} from '../components/memo-map.js';
import {compactCards, orderBy, view} from '../core/view.js';
import {createEditor} from '../components/editor.js';
import {explorer} from '../components/explorer.js';
import {PAGE_SIZE, memoList} from '../components/memo-list.js';
import {foldTallCards} from '../components/fold.js';
import {followLive} from '../components/live-feed.js';
import {shortcutFilters, shortcutsPanel} from '../components/shortcuts.js';

const visibleFilter = () => 'visibility in ' + (state.user ? '["PUBLIC", "PROTECTED"]' : '["PUBLIC"]');

// What each feed lists: its base filter, state and order (one person's feeds pin first).
function feedQuery(kind, profileUser) {
  const owner = kind === 'profile' ? profileUser : kind === 'explore' ? null : state.user;
  return {filters: [owner ? `creator == ${JSON.stringify(owner.name)}` : visibleFilter()],
    state: kind === 'archived' ? 'ARCHIVED' : 'NORMAL', pinnedFirst: Boolean(owner)};
}

async function loadStats(kind, profileUser) {
  if (kind === 'home' || kind === 'profile') {
    return call('UserService', 'GetUserStats', {name: (profileUser || state.user).name}).catch(() => null);
  }
  const all = await call('UserService', 'ListAllUserStats', kind === 'archived' ? {state: 'ARCHIVED'} : {filter: visibleFilter()})
    .catch(() => null);
  return mergeStats(all?.stats || []);
}

// One UserStats-like object of several users' statistics: tag counts added, memo times joined.
function mergeStats(list) {
  const tagCount = {};
  for (const stats of list) {
    for (const [tag, count] of Object.entries(stats.tagCount || {})) tagCount[tag] = (tagCount[tag] || 0) + count;
  }
  const joined = (key) => list.flatMap((stats) => stats[key] || []);
  return {tagCount, memoCreatedTimestamps: joined('memoCreatedTimestamps'), memoUpdatedTimestamps: joined('memoUpdatedTimestamps')};
}

const isChip = (factor, value) => (chip) => chip.factor === factor && chip.value === value;

function chipBar(chips, onRemove) {
  if (!chips.length) return h('div.chips', {hidden: true});
  return h('div.chips', {'aria-label': t('feed.filters')}, chips.map((chip) => h('span.chip',
    icon(chip.factor === 'tagSearch' ? 'tag' : chip.factor === 'displayTime' ? 'calendar' : 'search'),
    h('span.chip-value', chip.value || t(`filter.${chip.factor}`)),
    h('button.chip-remove', {'aria-label': t('feed.remove-filter', {value: chip.value}),
      onclick: () => onRemove(chip)}, icon('close')))));
}

function profileHeader(user) {
  return h('section.card.profile-header',
    h('div.avatar.avatar-large', {'aria-hidden': 'true'}, (user.displayName || user.username).slice(0, 1).toUpperCase()),
    h('div',
      h('h1.profile-name', user.displayName || user.username),
      user.displayName && h('p.muted', `@${user.username}`),
      user.description && h('p', user.description)),
    h('button.btn', {onclick: () => copyText(`${location.origin}/u/${encodeURIComponent(user.username)}`,
      t('profile.link-copied'))}, icon('share'), t('profile.share')));
}

export default {
  // The map of a profile takes the whole width.
  explorer: () => new URLSearchParams(location.search).get('view') !== 'map',

  async render({route, main, aside, params, query: search}) {
    const kind = route.feed;
    let profileUser = null;
    if (kind === 'profile') {
      try {
        profileUser = await call('UserService', 'GetUser', {name: `users/${params.username}`});
      } catch (error) {
        toastError(error);
        main.append(h('p.empty-note', t('feed.user-not-found')));
        return;
      }
      const onMap = search.get('view') === 'map';
      const tab = (label, href, selected) => h('a', {role: 'tab', href, class: selected ? 'active' : '',
        'aria-selected': selected}, label);
      main.append(profileHeader(profileUser), h('nav.segmented', {role: 'tablist', 'aria-label': t('nav.profile')},
        tab(t('profile.memos'), location.pathname, !onMap), tab(t('profile.map'), '?view=map', onMap)));
      if (onMap) return void main.append(await memoMap(profileUser).catch((error) => {
        toastError(error);
        return '';
      }));
    }
    if (kind === 'archived') main.append(h('h1.page-title', t('nav.archived')));
    const query = feedQuery(kind, profileUser);
    const chipsSlot = h('div');
    const listSlot = h('div');
    let list = null;

    const setChips = (chips) => {
      writeFilters(chips);
      refresh();
    };
    // A tag or a calendar day: its chip, or none when it was already chosen.
    const toggleChip = (factor, value) => {
      const chips = readFilters();
      const others = chips.filter((chip) => chip.factor !== factor);
      setChips(chips.some(isChip(factor, value)) ? others : [...others, {factor, value}]);
    };
    const onTag = (tag) => toggleChip('tagSearch', tag);
    const onDay = (day) => toggleChip('displayTime', day);
    const onSearch = (words) => {
      const chips = readFilters();
      for (const word of words) if (!chips.some(isChip('contentSearch', word))) chips.push({factor: 'contentSearch', value: word});
      setChips(chips);
    };

    const refreshExplorer = async () => {
      const stats = await loadStats(kind, profileUser);
      if (kind === 'home') set({stats});
      // Selecting a shortcut drops the word-search chips (F11).
      const shortcuts = kind === 'home' ? shortcutsPanel({onChange: ({selected}) => setChips(
        selected ? readFilters().filter((chip) => chip.factor !== 'contentSearch') : readFilters())}) : null;
      if (aside) clear(aside).append(explorer({stats, chips: readFilters(), onSearch, onTag, onDay, shortcuts}));
    };

    function refresh() {
      const chips = readFilters();
      clear(chipsSlot).append(chipBar(chips, (gone) => setChips(chips.filter((chip) => chip !== gone))));
      list?.dispose();
      const filter = [...query.filters, ...chipExpressions(chips), ...(kind === 'home' ? shortcutFilters() : [])].join(' && ');
      list = memoList({
        fetchPage: (pageToken) => call('MemoService', 'ListMemos', {
          pageSize: PAGE_SIZE, pageToken, state: query.state, orderBy: orderBy(query), filter,
        }),
        cardOptions: {
          showAuthor: kind === 'explore',
          archived: kind === 'archived',
          pinnedFirst: query.pinnedFirst,
          keep: (memo) => memo.state === query.state,
          onTag,
        },
        onChange: refreshExplorer,
      });
      const settings = view();
      listSlot.className = 'feed-list layout-' + settings.layout + (compactCards(settings) ? ' compact' : '');
      clear(listSlot).append(list.root);
      // Statistics after the first page: on a big instance they take the server longer than the
      // cards, and asked together they would hold the first screen back.
      list.loadMore().finally(() => refreshExplorer());
      editor?.setDay(chips.find((chip) => chip.factor === 'displayTime')?.value || '');
    }

    let editor = null;
    if (kind === 'home') {
      editor = createEditor({draftKey: 'home-memo-editor', onSaved: (memo) => list.prepend(memo)});
      main.append(editor.root);
    }
    main.append(chipsSlot, listSlot);
    refresh();
    const stops = [
      foldTallCards(listSlot),
      subscribe('view', () => refresh()),
      ...followLive({list: () => list, refresh, refreshExplorer}),
    ];
    return () => {
      list?.dispose();
      for (const stop of stops) stop();
    };
  },
};
