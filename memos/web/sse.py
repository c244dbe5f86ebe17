"""`GET /api/v1/sse`: the live event stream (server spec §12), fed by ``memos.api.live.LiveHub``.

Only a bearer credential (access token or personal access token) in the
Authorization header opens a stream; anything else is 401
``{"error":"authentication required"}``. Past the hub's limits the answer is
429 (this user has too many streams) or 503 (the server has), both with
Retry-After.

A stream starts with the comment ``: connected``, carries each event as one
``data: <json>`` line and a blank line, and a ``: heartbeat`` comment every 30
seconds. It ends, with a complete HTTP response (a clean end of stream for the
client), when

- the client hangs up (a watcher task waits for ``http.disconnect``),
- the hub closes: the server's shutdown signal closes it before the HTTP
  server drains its connections, so open streams never hold shutdown up, or
- the client stops reading: a write that cannot be handed to the connection
  for ``STALL_SECONDS`` ends the stream, freeing its place under the limits.
  Until then its events wait in the hub's bounded buffer, then are dropped.

Nothing outlives a stream: its subscription leaves the hub and its watcher task
is cancelled and awaited in the same ``finally``.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence

from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive, Scope, Send

from memos.api.live import LiveHub, MemoEvent, Subscription, TooManyStreams
from memos.auth.authenticator import user_from_bearer
from memos.store import Store

SSE_PATH = "/api/v1/sse"
HEARTBEAT_SECONDS = 30.0
STALL_SECONDS = 60.0
FINISH_SECONDS = 1.0  # the end of the response, after which the stream is gone either way
RETRY_AFTER_SECONDS = "30"

CONNECTED = b": connected\n\n"
HEARTBEAT = b": heartbeat\n\n"
STREAM_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"connection", b"keep-alive"),
    (b"x-accel-buffering", b"no"),
]


def frame(event: MemoEvent) -> bytes:
    return f"data: {event.to_json()}\n\n".encode()


async def _json_error(send: Send, status: int, message: str, extra: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = (json.dumps({"error": message}, separators=(",", ":")) + "\n").encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Writer:
    """Writes body chunks; a write that stalls past ``within`` seconds, or is interrupted, raises TimeoutError."""

    def __init__(self, send: Send, stall_seconds: float) -> None:
        self._send = send
        self._stall_seconds = stall_seconds
        self._deadline: asyncio.Timeout | None = None

    async def write(self, chunk: bytes, *, last: bool = False, within: float | None = None) -> None:
        async with asyncio.timeout(self._stall_seconds if within is None else within) as deadline:
            self._deadline = deadline
            try:
                await self._send({"type": "http.response.body", "body": chunk, "more_body": not last})
            finally:
                self._deadline = None

    def interrupt(self) -> None:
        """Give up on the write in progress, if any (the stream is closing)."""
        if self._deadline is not None:
            self._deadline.reschedule(asyncio.get_running_loop().time())


class SseEndpoint:
    """The ASGI app of the route."""

    def __init__(
        self,
        store: Store,
        hub: LiveHub,
        *,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        stall_seconds: float = STALL_SECONDS,
    ) -> None:
        self.store = store
        self.hub = hub
        self.heartbeat_seconds = heartbeat_seconds
        self.stall_seconds = stall_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        viewer = await user_from_bearer(self.store, headers.get("authorization"))
        if viewer is None:
            await _json_error(send, 401, "authentication required")
            return
        try:
            subscription = self.hub.subscribe(viewer)
        except TooManyStreams as refused:
            status = 429 if refused.per_user else 503
            await _json_error(send, status, str(refused), [(b"retry-after", RETRY_AFTER_SECONDS.encode())])
            return
        await self._stream(subscription, receive, send)

    async def _stream(self, subscription: Subscription, receive: Receive, send: Send) -> None:
        writer = _Writer(send, self.stall_seconds)
        subscription.add_close_callback(lambda _: writer.interrupt())
        watcher = asyncio.create_task(_close_on_disconnect(receive, subscription))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
            await writer.write(CONNECTED)
            await self._pump(subscription, writer)
        except (TimeoutError, OSError):
            pass  # the client stopped reading, or the hub closed in the middle of a write
        finally:
            subscription.close()
            client_left = watcher.done() and not watcher.cancelled()
            watcher.cancel()
            # Whatever ended the watcher (a disconnect, a failed receive), the stream is over.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
            # Ending the response for a client that has left would make hypercorn keep the
            # connection for its keep-alive time; it is released at once without it.
            if not client_left:
                with contextlib.suppress(TimeoutError, OSError):
                    await writer.write(b"", last=True, within=FINISH_SECONDS)

    async def _pump(self, subscription: Subscription, writer: _Writer) -> None:
        loop = asyncio.get_running_loop()
        next_heartbeat = loop.time() + self.heartbeat_seconds
        while True:
            events = await subscription.next_events(max(0.0, next_heartbeat - loop.time()))
            if events is None:
                return
            if events:
                await writer.write(b"".join(frame(event) for event in events))
            if loop.time() >= next_heartbeat:
                await writer.write(HEARTBEAT)
                while next_heartbeat <= loop.time():  # a tick, not a timer reset by events
                    next_heartbeat += self.heartbeat_seconds


async def _close_on_disconnect(receive: Receive, subscription: Subscription) -> None:
    try:
        message: Message = {}
        while message.get("type") != "http.disconnect":
            message = await receive()
    finally:
        subscription.close()


def sse_routes(store: Store, hub: LiveHub) -> list[BaseRoute]:
    """The stream's route; register it before the REST gateway's ``/api/v1`` catch-all."""
    route = Route(SSE_PATH, SseEndpoint(store, hub), methods=["GET"])
    # Starlette serves HEAD with every GET route; a HEAD would open a stream with no body to
    # send. Like every other method, it goes on to the gateway.
    assert route.methods is not None
    route.methods.discard("HEAD")
    return [route]
