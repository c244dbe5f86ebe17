"""What one RPC call carries besides its request message, on either transport."""
from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from google.protobuf.message import Message


@dataclasses.dataclass
class CallContext:
    """Per-call state shared by the interceptors and the service method.

    ``headers`` holds the request metadata the services may read, with
    lower-case names. ``principal`` is whatever the authentication hook
    resolved (None: anonymous). ``response_headers`` are emitted only when
    the call succeeds (Memos drops headers set by a call that then fails).
    """

    procedure: str  # "/memos.api.v1.InstanceService/GetInstanceProfile"
    transport: str  # "connect" or "rest"
    headers: dict[str, str]
    peer: str | None = None
    principal: Any = None
    response_headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)

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
