// The Map tab of a profile (/u/:username?view=map): the user's memos that carry a location, as pins
// on a plain latitude/longitude grid fitted around them (no tiles: nothing is fetched from other
// hosts). Memos within about a kilometre share one pin; each pin opens its memo and previews it.
import {allPages} from '../core/fields.js';
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {memoUid} from './memo-card.js';
import {snippet} from './link-memo.js';

const place = ({location}) => `${location.latitude.toFixed(2)},${location.longitude.toFixed(2)}`;

export async function memoMap(user) {
  // The filter language has no location field: all the user's memos, 1000 a page, filtered here.
  const memos = await allPages('MemoService', 'ListMemos',
    {pageSize: 1000, filter: `creator == "${user.name}"`, state: 'NORMAL'}, 'memos');
  const pins = Map.groupBy(memos.filter((memo) => memo.location), place);
  if (!pins.size) return h('p.empty-note.card', t('map.empty'));
  const spots = [...pins.values()].map((group) => group[0].location);
  const range = (key) => {
    const values = spots.map((spot) => spot[key]);
    const low = Math.min(...values);
    const span = Math.max(...values) - low;
    // Inset so that a pin's preview stays over the map; a lone pin sits in the middle.
    return (value) => span ? 15 + 70 * (value - low) / span : 50;
  };
  const x = range('longitude');
  const y = range('latitude');
  return h('div.card.memo-map', {role: 'group', 'aria-label': t('profile.map')},
    h('p.map-count', t('map.pinned', {count: pins.size})),
    [...pins.values()].map((group) => {
      const {location} = group[0];
      const pin = h('a.map-pin', {href: '/memos/' + memoUid(group[0])},
        h('span.pin-dot', group.length > 1 && group.length),
        h('span.pin-card', location.placeholder ? h('b', location.placeholder) : '',
          group.map((memo) => h('span', snippet(memo)))));
      pin.style.left = `${x(location.longitude)}%`;
      pin.style.top = `${100 - y(location.latitude)}%`;
      return pin;
    }));
}
