"""What the Connect and REST transports share: request body limits and running one call.

A request body is read into memory whole (both transports decode it in one
piece), so how much is read is bounded twice: per request, by a cap the
application chooses from the request's headers before any byte of the body is
read (``BodyLimitOf``), and across all requests, by one ``BodyBudget`` for the
bytes being held at once.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

import anyio
from google.protobuf.message import Message
from starlette.requests import Request

from memos.call import CallContext, Code, Interceptor, RpcError
from memos.rpc.forwarding import TrustedProxies
from memos.rpc.interceptors import build_chain
from memos.rpc.methods import Method, MethodTable

logger = logging.getLogger("memos.rpc")

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
BODY_BUDGET_BYTES = 64 * 1024 * 1024
BODY_BUDGET_WAIT_SECONDS = 5.0
BUSY_RETRY_AFTER_SECONDS = 1
# A client that stops sending halfway would otherwise hold its connection and its share of
# the body budget for ever (hypercorn has no read timeout that spares streaming responses).
BODY_IDLE_SECONDS = 30.0

PeerIpOf = Callable[[Request], "str | None"]
# The largest body (in bytes) a request may send, judged from its headers alone.
BodyLimitOf = Callable[[Mapping[str, str]], Awaitable[int]]


class BodyTooLarge(Exception):
    """The request body (possibly once decompressed) exceeds the request's cap; the message states the cap."""

    def __init__(self, limit: int, *, declared: int | None = None, what: str = "request body") -> None:
        sent = f" of {declared} bytes" if declared is not None else ""
        super().__init__(f"{what}{sent} is too large: the limit is {describe_size(limit)}")
        self.limit = limit


class ServerBusy(Exception):
    """No room in the body budget: other requests' bodies fill it. Worth retrying shortly."""

    def __init__(self) -> None:
        super().__init__("the server is busy receiving other requests; retry in a moment")


def describe_size(size: int) -> str:
    """``65536 bytes (64 KiB)``: exact, and readable."""
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            amount = size / factor
            text = f"{amount:.0f}" if amount == int(amount) else f"{amount:.1f}"
            return f"{size} bytes ({text} {unit})"
    return f"{size} bytes"


def fixed_body_limit(max_bytes: int) -> BodyLimitOf:
    """The same cap for every request."""

    async def limit_of(headers: Mapping[str, str]) -> int:
        return max_bytes

    return limit_of


def default_peer_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


class BodyBudget:
    """The bytes of request bodies held in memory at once, across all requests.

    A request whose length is declared reserves it before reading and waits up
    to ``wait_seconds`` for room: uploads that overlap for a moment go through
    one after the other instead of failing. Then it gives up with ServerBusy
    (UNAVAILABLE, retry) rather than letting memory grow. A body of unknown
    length (chunked) reserves chunk by chunk and never waits in the middle: two
    half-read bodies waiting for each other would never finish. A request is
    always let in when nothing else is held, so the largest allowed body
    passes even if it alone exceeds the budget.
    """

    def __init__(self, total: int = BODY_BUDGET_BYTES, wait_seconds: float = BODY_BUDGET_WAIT_SECONDS) -> None:
        self.total = total
        self.wait_seconds = wait_seconds
        self.in_use = 0
        self._freed: anyio.Event | None = None  # created inside the event loop, on first wait

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[BodyHold]:
        """A reservation for one request, released when the block ends (the call is done with the body)."""
        held = BodyHold(self)
        try:
            yield held
        finally:
            held.release()

    def _fits(self, size: int, already_held: int) -> bool:
        """Room for ``size`` more bytes, or nobody but the asking request holds any."""
        return self.in_use == already_held or self.in_use + size <= self.total

    async def _wait_for_room(self, size: int, already_held: int) -> None:
        with anyio.move_on_after(self.wait_seconds):
            while not self._fits(size, already_held):
                if self._freed is None:
                    self._freed = anyio.Event()
                await self._freed.wait()
        if not self._fits(size, already_held):
            raise ServerBusy()

    def _give_back(self, size: int) -> None:
        self.in_use -= size
        if self._freed is not None:
            self._freed.set()
            self._freed = None


class BodyHold:
    """The part of the budget one request holds."""

    def __init__(self, budget: BodyBudget) -> None:
        self._budget = budget
        self.size = 0

    async def reserve(self, size: int) -> None:
        """Take ``size`` more bytes, waiting briefly for room; ServerBusy if none comes."""
        if not self._budget._fits(size, self.size):  # the usual case needs no wait (nor its timer)
            await self._budget._wait_for_room(size, self.size)
        self._take(size)

    def grow(self, size: int) -> None:
        """Take ``size`` more bytes now; ServerBusy if they do not fit."""
        if not self._budget._fits(size, self.size):
            raise ServerBusy()
        self._take(size)

    def _take(self, size: int) -> None:
        self._budget.in_use += size
        self.size += size

    def release(self) -> None:
        if self.size:
            self._budget._give_back(self.size)
            self.size = 0


@dataclasses.dataclass
class Endpoint:
    """What both transports hold: the method table, the call chain, how to tell the
    client's address (the TCP peer, and which peers are trusted proxies), the
    per-request body cap and the shared body budget."""

    table: MethodTable
    interceptors: Sequence[Interceptor]
    peer_ip_of: PeerIpOf = default_peer_ip
    body_limit_of: BodyLimitOf = dataclasses.field(default_factory=lambda: fixed_body_limit(DEFAULT_MAX_BODY_BYTES))
    body_budget: BodyBudget = dataclasses.field(default_factory=BodyBudget)
    proxies: TrustedProxies = dataclasses.field(default_factory=TrustedProxies)

    async def read_body(self, request: Request, held: BodyHold) -> tuple[bytearray, int]:
        """(the body, the cap it was read under); BodyTooLarge or ServerBusy when it may not be read."""
        declared = declared_length(request)
        if declared == 0:
            return bytearray(), 0
        limit = await self.body_limit_of(request.headers)
        return await read_body(request, limit, held, declared=declared), limit

    def client_address(self, request: Request) -> str | None:
        return self.proxies.client_address(self.peer_ip_of(request), request.headers.getlist("x-forwarded-for"))

    def is_https(self, request: Request) -> bool:
        headers = request.headers
        return self.proxies.is_https(
            request.scope.get("scheme", "http"),
            self.peer_ip_of(request),
            headers.getlist("x-forwarded-proto"),
            headers.getlist("forwarded"),
        )


def declared_length(request: Request) -> int | None:
    """The Content-Length the client declared; None when it declared none (or nothing readable)."""
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


async def read_body(
    request: Request,
    limit: int,
    held: BodyHold,
    *,
    declared: int | None = None,
    idle_seconds: float = BODY_IDLE_SECONDS,
) -> bytearray:
    """The whole request body, refusing to buffer more than ``limit`` bytes.

    A declared length over the limit is refused before anything is read; a body
    without one is read until it passes the limit. A client that sends nothing for
    ``idle_seconds`` gets DEADLINE_EXCEEDED.

    The body lands in one buffer: sized up front when the length is declared, grown in
    place otherwise. Collecting chunks and joining them would hold the body twice at the
    end of the read. The buffer is mutable so a decoder may empty it (``clear()``) once it
    has taken what it needs, freeing the body even while callers still name it.
    """
    if declared is not None:
        if declared > limit:
            raise BodyTooLarge(limit, declared=declared)
        await held.reserve(declared)
    body = bytearray(declared or 0)  # untouched pages of a large buffer cost no memory yet
    size = 0
    chunks = aiter(request.stream())
    loop = asyncio.get_running_loop()
    # One timeout for the whole read, moved on at each chunk: a fresh (anyio) scope per chunk
    # cost more than the read of a small body itself.
    try:
        async with asyncio.timeout(None) as idle:
            while (chunk := await _next_chunk(chunks, idle, loop.time() + idle_seconds)) is not None:
                end = size + len(chunk)
                if end > limit:
                    raise BodyTooLarge(limit)
                if end > held.size:
                    held.grow(end - held.size)
                _put(body, size, chunk)
                size = end
    except TimeoutError:
        if not idle.expired():
            raise
        message = f"the request body stalled: nothing arrived for {idle_seconds:g} seconds"
        raise RpcError(Code.DEADLINE_EXCEEDED, message) from None
    del body[size:]  # a body shorter than declared (the server stops it; this is only a guard)
    return body


async def _next_chunk(chunks: AsyncIterator[bytes], idle: asyncio.Timeout, deadline: float) -> bytes | None:
    """The next chunk of the body (None at its end), to arrive before ``deadline`` (loop time)."""
    idle.reschedule(deadline)
    return await anext(chunks, None)


def _put(body: bytearray, offset: int, chunk: bytes) -> None:
    """Copy ``chunk`` into ``body`` at ``offset``, growing the buffer past its end if needed."""
    fits = max(0, min(len(chunk), len(body) - offset))
    if fits:
        body[offset : offset + fits] = chunk[:fits] if fits < len(chunk) else chunk
    if fits < len(chunk):
        body += chunk[fits:]


def gunzip(data: bytes | bytearray, limit: int = DEFAULT_MAX_BODY_BYTES, held: BodyHold | None = None) -> bytes:
    """Decompress a gzip body without letting it expand past ``limit``."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid gzip request body: {exc}") from None
    if len(out) > limit:
        raise BodyTooLarge(limit, what="decompressed request body")
    if not inflater.eof:
        raise RpcError(Code.INVALID_ARGUMENT, "invalid gzip request body: truncated stream")
    if held is not None:
        held.grow(len(out))
    return out


async def run_call(
    method: Method,
    request: Message,
    ctx: CallContext,
    interceptors: Sequence[Interceptor],
    timeout_seconds: float | None = None,
) -> Message:
    """Run the interceptor chain and the service; any failure comes out as RpcError."""

    async def service(message: Message, call: CallContext) -> Message:
        if timeout_seconds is None:
            return await method.invoke(message, call)
        # The deadline sits inside the chain so the logging layer records it.
        with anyio.move_on_after(timeout_seconds):
            return await method.invoke(message, call)
        # Only reached when the deadline cancelled the call.
        raise RpcError(Code.DEADLINE_EXCEEDED, "the call exceeded its deadline")

    try:
        return await build_chain(interceptors, service)(request, ctx)
    except RpcError:
        raise
    except Exception:
        # Only reached when the chain has no recovery layer; never show the text.
        logger.exception("unhandled exception in RPC call method=%s", ctx.procedure)
        raise RpcError(Code.INTERNAL, "internal server error") from None
