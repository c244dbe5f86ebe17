"""Who is calling: the ``Authorization: Bearer`` credential resolved to an active user.

Only the Authorization header counts for API calls (the refresh cookie is not
an API credential). Anything that does not resolve is anonymous, never an
error: the access policy decides afterwards whether anonymous may proceed.

The kind of credential is recorded on the call (``ctx.credential``): a
personal access token is a script's key, so what would let its holder keep
the account (minting tokens, changing the password) asks for a real sign-in.
"""
from __future__ import annotations

import logging

from memos.auth import tokens
from memos.auth.pat import is_personal_access_token, resolve_personal_access_token
from memos.call import CallContext, Code, RpcError
from memos.store import ROW_STATUS_NORMAL, FindUser, Store, User

logger = logging.getLogger("memos.auth")

ACCESS_TOKEN = "access_token"
PERSONAL_ACCESS_TOKEN = "personal_access_token"


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
    user: User | None = await store.users.get(FindUser(id=claims.user_id))
    if user is None or user.row_status != ROW_STATUS_NORMAL:
        return None
    return user


async def credential_user(store: Store, authorization: str | None) -> tuple[User, str] | None:
    """Resolve an Authorization header value to the user and the kind of credential that proved it.

    PATs are told by their prefix; anything else is tried as an access token.
    """
    token = bearer_token(authorization)
    if token is None:
        return None
    if is_personal_access_token(token):
        owner = await resolve_personal_access_token(store, token)
        return (owner, PERSONAL_ACCESS_TOKEN) if owner is not None else None
    user = await user_from_access_token(store, token)
    return (user, ACCESS_TOKEN) if user is not None else None


async def user_from_bearer(store: Store, authorization: str | None) -> User | None:
    """The user an Authorization header value names, whatever the credential."""
    found = await credential_user(store, authorization)
    return found[0] if found is not None else None


class Authenticator:
    """The hook the AuthInterceptor calls for every RPC; records how the caller authenticated."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def __call__(self, ctx: CallContext) -> User | None:
        found = await credential_user(self._store, ctx.headers.get("authorization"))
        ctx.credential = found[1] if found is not None else None
        return found[0] if found is not None else None


def authenticated_with_pat(ctx: CallContext) -> bool:
    """Whether this call's caller proved itself with a personal access token."""
    return ctx.credential == PERSONAL_ACCESS_TOKEN


def refuse_personal_access_token(ctx: CallContext, action: str) -> None:
    """PERMISSION_DENIED when a personal access token tries ``action`` (e.g. "change the password").

    A leaked script token must not be able to take the account over.
    """
    if authenticated_with_pat(ctx):
        raise RpcError(
            Code.PERMISSION_DENIED,
            f"a personal access token cannot {action}; sign in with your password or single sign-on",
        )
