"""The authentication step of the call chain: resolve the caller, then apply the ACL."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from google.protobuf.message import Message

from memos.auth.acl import anonymous_may_call
from memos.call import AccessRefused, CallContext, Handler

# Resolves the caller from the request metadata (the Authorization header); None = anonymous.
Authenticator = Callable[[CallContext], Awaitable[Any]]


class AuthInterceptor:
    """Sets ``ctx.principal`` and turns away anonymous callers of protected procedures."""

    def __init__(self, authenticate: Authenticator, *, instance_is_public: bool) -> None:
        self._authenticate = authenticate
        self._instance_is_public = instance_is_public

    async def __call__(self, request: Message, ctx: CallContext, call_next: Handler) -> Message:
        ctx.principal = await self._authenticate(ctx)
        if ctx.principal is None and not anonymous_may_call(
            ctx.procedure, instance_is_public=self._instance_is_public
        ):
            raise AccessRefused()
        return await call_next(request, ctx)
