"""What every layer shares about a call: status codes, the one error type, the call context.

It sits below every other part of the server (services, auth, notify, transports),
so a service can raise an error or read its caller without importing a transport.
"""
from __future__ import annotations

import dataclasses
import enum
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from google.protobuf.message import Message


class Code(enum.IntEnum):
    """gRPC status codes; Connect and the REST gateway render the same code."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16

    @property
    def connect_name(self) -> str:
        # Connect spells CANCELLED with one L; every other name is the lower-cased enum name.
        return "canceled" if self is Code.CANCELLED else self.name.lower()

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self]

    @classmethod
    def from_connect_name(cls, name: str) -> Code:
        for code in cls:
            if code.connect_name == name:
                return code
        raise ValueError(f"unknown Connect code {name!r}")


_HTTP_STATUS = {
    Code.OK: 200,
    Code.CANCELLED: 499,
    Code.UNKNOWN: 500,
    Code.INVALID_ARGUMENT: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.FAILED_PRECONDITION: 400,
    Code.ABORTED: 409,
    Code.OUT_OF_RANGE: 400,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.DATA_LOSS: 500,
    Code.UNAUTHENTICATED: 401,
}

# Client errors are logged at INFO; everything else is a server error.
CLIENT_ERROR_CODES = frozenset(
    {
        Code.CANCELLED,
        Code.INVALID_ARGUMENT,
        Code.NOT_FOUND,
        Code.ALREADY_EXISTS,
        Code.PERMISSION_DENIED,
        Code.UNAUTHENTICATED,
        Code.RESOURCE_EXHAUSTED,
        Code.FAILED_PRECONDITION,
        Code.ABORTED,
        Code.OUT_OF_RANGE,
    }
)


class RpcError(Exception):
    """A failed call: a status code and a message meant for the client."""

    def __init__(self, code: Code, message: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"RpcError({self.code.name}, {self.message!r})"


class AccessRefused(RpcError):
    """The access policy turned an anonymous caller away before the service ran.

    The REST gateway renders this one differently from a service's own
    UNAUTHENTICATED (Memos answers it with a fixed plain-text body).
    """

    def __init__(self) -> None:
        super().__init__(Code.UNAUTHENTICATED, "authentication required")


@dataclasses.dataclass
class CallContext:
    """Per-call state shared by the interceptors and the service method.

    ``headers`` holds the request metadata the services may read, with
    lower-case names. ``principal`` is whatever the authentication hook
    resolved (None: anonymous) and ``credential`` how it was proven.
    ``response_headers`` are emitted only when the call succeeds (Memos
    drops headers set by a call that then fails).

    What only the transport can know, it states here, so no service needs
    to know which transport carried the call: the client's address and
    scheme (forwarding headers count only from trusted proxies), the Cookie
    header values to read cookies from (most preferred first), and whether a
    Set-Cookie reaches the browser as a real cookie that scripts cannot read.
    """

    procedure: str  # "/memos.api.v1.InstanceService/GetInstanceProfile"
    transport: str  # "connect" or "rest"
    headers: dict[str, str]
    peer: str | None = None  # the client's address: the TCP peer, or the client a trusted proxy names
    principal: Any = None
    response_headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    secure: bool = False  # the client reached us over HTTPS
    cookie_headers: tuple[str, ...] = ()
    can_set_cookies: bool = False
    credential: str | None = None  # e.g. "access_token" or "personal_access_token"
    # Where an answer cache (memos.api.answer_cache) meets the transport: the transport names the
    # encoding it will send ("rest-json", "connect-json", "connect-proto"; None: no cache may serve
    # the call); a cache holding the answer in that encoding puts its bytes in ``encoded_answer``, and
    # one that wants the bytes once they are made sets ``keep_encoded``. See ``encode_answer``.
    encoding: str | None = None
    encoded_answer: bytes | None = None
    keep_encoded: Callable[[bytes], None] | None = None

    @property
    def service_name(self) -> str:
        return self.procedure.rsplit("/", 2)[1]

    @property
    def method_name(self) -> str:
        return self.procedure.rsplit("/", 1)[1]


Handler = Callable[[Message, CallContext], Awaitable[Message]]


class Interceptor(Protocol):
    """Wraps a call: may inspect or replace the request, context and response."""

    async def __call__(self, request: Message, ctx: CallContext, call_next: Handler) -> Message: ...


def encode_answer(ctx: CallContext, response: Message, encode: Callable[[Message], bytes]) -> bytes:
    """The bytes a transport sends for ``response``: a cache's copy when it has one, else ``encode``'s
    (handed to the cache that asked for them)."""
    if ctx.encoded_answer is not None:
        return ctx.encoded_answer
    payload = encode(response)
    if ctx.keep_encoded is not None:
        ctx.keep_encoded(payload)
    return payload
