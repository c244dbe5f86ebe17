// What a feed does with live events (G7): a new memo refetches the list and the statistics, a
// changed memo shown here is redrawn, a deleted one dropped; after a reconnect everything reloads.
//   followLive({list: () => currentList, refresh, refreshExplorer}) -> unsubscribe functions
import {call} from '../core/api.js';
import {subscribe} from '../core/state.js';

// A memo this tab has just created usually reaches the list through its own composer; waiting a
// moment first keeps that card (with its "New" pill) instead of reloading over it.
const SETTLE_MS = 600;

export function followLive({list, refresh, refreshExplorer}) {
  let timer = 0;
  const later = (work) => {
    clearTimeout(timer);
    timer = setTimeout(work, SETTLE_MS);
  };
  const redraw = async (name) => {
    if (!list()?.shows(name)) return;
    try {
      list().replace(await call('MemoService', 'GetMemo', {name}));
    } catch {
      list()?.drop(name);
    }
  };
  const onEvent = (event) => {
    switch (event.type) {
      case 'memo.created':
        later(() => (list()?.shows(event.name) ? refreshExplorer() : refresh()));
        break;
      case 'memo.deleted':
        list()?.drop(event.name);
        refreshExplorer();
        break;
      case 'memo.updated':
        redraw(event.name);
        if (event.parent) redraw(event.parent);
        break;
      default:
        redraw(event.type === 'memo.comment.created' ? event.name : event.parent || event.name);
    }
  };
  return [
    subscribe('live', onEvent),
    subscribe('live-reconnected', refresh),
    () => clearTimeout(timer),
  ];
}
