"""Who is calling: the ``Authorization: Bearer`` credential resolved to an active user.

Only the Authorization header counts for API calls (the refresh cookie is not
an API credential). Anything that does not resolve is anonymous, never an
error: the access policy decides afterwards whether anonymous may proceed.
"""
from __future__ import annotations

import logging

from memos.auth import tokens
from memos.auth.pat import is_personal_access_token, resolve_personal_access_token
from memos.call import CallContext
from memos.store import ROW_STATUS_NORMAL, FindUser, Store, User

logger = logging.getLogger("memos.auth")


def bearer_token(authorization: str | None) -> str | None:
    """The token of ``Bearer <token>`` (scheme case-insensitive, exactly two fields), else None."""
    if not authorization:
        return None
    fields = authorization.split()
    if len(fields) != 2 or fields[0].lower() != "bearer":
        return None
    return fields[1]


async def user_from_access_token(store: Store, token: str) -> User | None:
    """The NORMAL user a valid access token names, else None."""
    try:
        claims = tokens.parse_access_token(token, await tokens.signing_key(store))
    except tokens.InvalidToken:
        return None
    user = await store.users.get(FindUser(id=claims.user_id))
    if user is None or user.row_status != ROW_STATUS_NORMAL:
        return None
    return user


async def user_from_bearer(store: Store, authorization: str | None) -> User | None:
    """Resolve an Authorization header value: PATs by their prefix, anything else as an access token."""
    token = bearer_token(authorization)
    if token is None:
        return None
    if is_personal_access_token(token):
        return await resolve_personal_access_token(store, token)
    return await user_from_access_token(store, token)


class Authenticator:
    """The hook the AuthInterceptor calls for every RPC."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def __call__(self, ctx: CallContext) -> User | None:
        return await user_from_bearer(self._store, ctx.headers.get("authorization"))


def authenticated_with_pat(ctx: CallContext) -> bool:
    """Whether this call's credential is a personal access token (SignOut revokes nothing then)."""
    token = bearer_token(ctx.headers.get("authorization"))
    return token is not None and is_personal_access_token(token)
