// The explorer column of feed pages: search box and the tags of the current scope.
import {h, icon} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {state} from '../core/state.js';
import {view} from '../core/view.js';
import {calendarSection} from './calendar.js';
import {displaySettingsButton} from './display-settings.js';

// stats: a UserStats-like object ({tagCount}); chips: the active filter chips;
// onSearch(words), onTag(tag), onDay('YYYY-MM-DD'): what the feed does with them; shortcuts: a panel to show.
export function explorer({stats, chips, onSearch, onTag, onDay, shortcuts = null}) {
  const input = h('input.input.search-input', {type: 'search', placeholder: t('explorer.search'),
    'aria-label': t('explorer.search'), onkeydown: (event) => {
      if (event.key !== 'Enter') return;
      const words = input.value.split(/\s+/).filter(Boolean);
      input.value = '';
      if (words.length) onSearch(words);
    }});
  const chipValue = (factor) => chips.find((chip) => chip.factor === factor)?.value;
  const activeTag = chipValue('tagSearch');
  const counts = Object.entries(stats?.tagCount || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const tags = counts.length
    ? h('ul.tag-list', counts.map(([tag, count]) => h('li',
      h('button', {class: tag === activeTag ? 'tag-link active' : 'tag-link',
        'aria-pressed': tag === activeTag, onclick: () => onTag(tag)},
      h('span.hash', '#'), tag, count > 1 && h('span.count', ` (${count})`)))))
    : h('p.muted.small', t('explorer.no-tags'));
  return h('div.explorer-inner',
    h('div.search-box', icon('search'), input, displaySettingsButton()),
    shortcuts,
    onDay && calendarSection({stats, updated: view().time === 'update', weekStart: state.general?.weekStartDayOffset,
      selected: chipValue('displayTime') || '', onDay}),
    h('section.explorer-section', {'aria-labelledby': 'tags-label'},
      h('h2.section-label', {id: 'tags-label'}, t('explorer.tags')), tags));
}
