// Live updates for a signed-in user: GET /api/v1/sse read with fetch (EventSource cannot send the
// Authorization header). Each `data:` line is an event {type, name, parent?}, published as
// emit('live', event); after a reconnect emit('live-reconnected') so pages refetch what they show.
// The connection status ('connecting', 'connected', 'down') is state.liveStatus.
import * as api from './api.js';
import {emit, set, state} from './state.js';

const SSE_PATH = '/api/v1/sse';
const FIRST_DELAY_MS = 1000;
const LAST_DELAY_MS = 30_000;

let controller = null;
let delay = FIRST_DELAY_MS;
let connectedBefore = false;
let timer = 0;

export function startLive() {
  if (controller || !state.user) return;
  connect();
}

export function stopLive() {
  clearTimeout(timer);
  controller?.abort();
  controller = null;
  set({liveStatus: ''});
}

// Splits the stream into lines and hands each complete `data:` line on; `:` lines are heartbeats.
function reader(onEvent) {
  let pending = '';
  return (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (!line.startsWith('data:')) continue;
      try {
        onEvent(JSON.parse(line.slice(5).trim()));
      } catch {
        // A line that is not JSON carries nothing the UI could act on.
      }
    }
  };
}

async function open(signal) {
  const request = async () => fetch(SSE_PATH, {
    headers: {Authorization: await api.bearer(), Accept: 'text/event-stream'}, signal, cache: 'no-store',
  });
  let response = await request();
  // An expired access token: refresh once and try again.
  if (response.status === 401 && (await api.refresh())) response = await request();
  if (!response.ok || !response.body) throw new Error(`live updates: HTTP ${response.status}`);
  return response.body.pipeThrough(new TextDecoderStream()).getReader();
}

async function connect() {
  controller = new AbortController();
  const {signal} = controller;
  set({liveStatus: 'connecting'});
  try {
    const stream = await open(signal);
    set({liveStatus: 'connected'});
    delay = FIRST_DELAY_MS;
    if (connectedBefore) emit('live-reconnected');
    connectedBefore = true;
    const feed = reader((event) => emit('live', event));
    for (;;) {
      const {value, done} = await stream.read();
      if (done) break;
      feed(value);
    }
  } catch {
    if (signal.aborted) return;
  }
  if (signal.aborted || !state.user) return;
  set({liveStatus: 'down'});
  controller = null;
  timer = setTimeout(() => {
    if (state.user) connect();
  }, delay);
  delay = Math.min(delay * 2, LAST_DELAY_MS);
}
