"""What the Connect and REST transports share: body limits and running one call."""
from __future__ import annotations

import dataclasses
import logging
import zlib
from collections.abc import Callable, Sequence

import anyio
from google.protobuf.message import Message
from starlette.requests import Request

from memos.call import CallContext, Code, Interceptor, RpcError
from memos.rpc.forwarding import TrustedProxies
from memos.rpc.interceptors import build_chain
from memos.rpc.methods import Method, MethodTable

logger = logging.getLogger("memos.rpc")

MAX_BODY_BYTES = 256 * 1024 * 1024

PeerIpOf = Callable[[Request], "str | None"]


class BodyTooLarge(Exception):
    """The request body (possibly once decompressed) exceeds the cap."""


def default_peer_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@dataclasses.dataclass
class Endpoint:
    """What both transports hold: the method table, the call chain, how to tell the
    client's address (the TCP peer, and which peers are trusted proxies), and the
    request body cap."""

    table: MethodTable
    interceptors: Sequence[Interceptor]
    peer_ip_of: PeerIpOf = default_peer_ip
    max_body_bytes: int = MAX_BODY_BYTES
    proxies: TrustedProxies = dataclasses.field(default_factory=TrustedProxies)

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


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole request body, refusing to buffer more than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"request body of {declared} bytes exceeds the {limit} byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body exceeds the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def gunzip(data: bytes, limit: int = MAX_BODY_BYTES) -> bytes:
    """Decompress a gzip body without letting it expand past ``limit``."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"invalid gzip request body: {exc}") from None
    if len(out) > limit:
        raise BodyTooLarge(f"decompressed request body exceeds the {limit} byte limit")
    if not inflater.eof:
        raise RpcError(Code.INVALID_ARGUMENT, "invalid gzip request body: truncated stream")
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
