// The live-update status on the avatar button (G7): no dot while connected, a pulsing grey dot
// while connecting, a red one when the stream is down; its meaning is in the button's title.
import {h} from '../core/dom.js';
import {t} from '../core/i18n.js';
import {state, subscribe} from '../core/state.js';

export function withLiveDot(menu) {
  const button = menu.querySelector('button');
  const dot = h('span.live-dot', {'aria-hidden': true});
  button.append(dot);
  const label = button.getAttribute('aria-label');
  const show = (status) => {
    const down = status && status !== 'connected';
    dot.className = down ? 'live-dot live-' + status : 'live-dot';
    button.title = down ? `${label} (${t('live.' + status)})` : label;
  };
  show(state.liveStatus);
  const stop = subscribe('liveStatus', (status) => (menu.isConnected ? show(status) : stop()));
  return menu;
}
