"""Refresh-token sessions, kept in the user's REFRESH_TOKENS setting as Memos keeps them.

Every change is a read-modify-write of the whole list, done inside one store
write transaction (otherwise a sign-in racing a revocation could write revoked
entries back). Safer than Memos: every write also drops entries whose expiry
has passed, and keeps at most MAX_SESSIONS entries (the oldest sessions end
first), so the list cannot grow without bound.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Callable

from google.protobuf.timestamp_pb2 import Timestamp

from memos.auth import tokens
from memos.gen.store import user_setting_pb2
from memos.store import ROW_STATUS_ARCHIVED, FindUser, Store, User

UserSetting = user_setting_pb2.UserSetting
RefreshToken = user_setting_pb2.RefreshTokensUserSetting.RefreshToken
ClientInfo = user_setting_pb2.RefreshTokensUserSetting.ClientInfo

REFRESH_TOKENS_KEY = "REFRESH_TOKENS"
# About one sign-in a day over a refresh token's 30-day life; more sessions than
# this and the oldest (the longest since signing in or refreshing) are signed out.
MAX_SESSIONS = 30

logger = logging.getLogger("memos.auth")


class InvalidRefreshToken(Exception):
    """A refresh token that cannot start or continue a session; the message is the reason."""


@dataclasses.dataclass(frozen=True)
class Session:
    user: User
    refresh: tokens.IssuedToken
    token_id: str


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def to_timestamp(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _expired(entry: RefreshToken, now: dt.datetime) -> bool:
    return entry.HasField("expires_at") and entry.expires_at.ToDatetime(tzinfo=dt.UTC) < now


async def list_refresh_tokens(store: Store, user_id: int) -> list[RefreshToken]:
    setting = await store.user_settings.get(user_id, REFRESH_TOKENS_KEY)
    return list(setting.refresh_tokens.refresh_tokens) if setting is not None else []


async def _rewrite(store: Store, user_id: int, change: Callable[[list[RefreshToken]], list[RefreshToken]]) -> None:
    """Apply ``change`` to the stored list, pruning expired entries, in one write transaction."""
    now = _utc_now()

    def rewrite(setting: UserSetting) -> bool:
        entries = setting.refresh_tokens.refresh_tokens
        current = [RefreshToken() for _ in entries]
        for copy, entry in zip(current, entries, strict=False):
            copy.CopyFrom(entry)  # detached: the repeated field is cleared below
        # Entries are appended as sessions start or rotate: the oldest come first.
        kept = [entry for entry in change(current) if not _expired(entry, now)][-MAX_SESSIONS:]
        del entries[:]
        entries.extend(kept)
        return True

    await store.user_settings.modify(user_id, REFRESH_TOKENS_KEY, rewrite)


def _entry(token_id: str, expires_at: dt.datetime, client_info: ClientInfo) -> RefreshToken:
    return RefreshToken(
        token_id=token_id,
        expires_at=to_timestamp(expires_at),
        created_at=to_timestamp(_utc_now()),
        client_info=client_info,
    )


async def add_refresh_token(
    store: Store, user_id: int, token_id: str, expires_at: dt.datetime, client_info: ClientInfo
) -> None:
    entry = _entry(token_id, expires_at, client_info)
    await _rewrite(store, user_id, lambda entries: [*entries, entry])


async def remove_refresh_token(store: Store, user_id: int, token_id: str) -> None:
    await _rewrite(store, user_id, lambda entries: [e for e in entries if e.token_id != token_id])


async def revoke_other_refresh_tokens(store: Store, user_id: int, keep_tid: str | None) -> None:
    """End every session of the user except ``keep_tid`` (None: all), e.g. after a password change."""
    await _rewrite(store, user_id, lambda entries: [e for e in entries if keep_tid and e.token_id == keep_tid])


def new_refresh_token(user: User, key: bytes) -> tuple[str, tokens.IssuedToken]:
    """A fresh token id and the refresh JWT naming it (not recorded yet)."""
    token_id = str(uuid.uuid4())
    return token_id, tokens.issue_refresh_token(user.id, token_id, key)


async def start_session(store: Store, user: User, client_info: ClientInfo) -> Session:
    """Issue a refresh token and record it; the caller sets the cookie.

    As in Memos a failed write does not fail the sign-in: it is logged, and
    refreshing with the token later reports it revoked.
    """
    token_id, refresh = new_refresh_token(user, await tokens.signing_key(store))
    try:
        await add_refresh_token(store, user.id, token_id, refresh.expires_at, client_info)
    except Exception:
        logger.exception("failed to store the refresh token of user %s", user.id)
    return Session(user, refresh, token_id)


async def validate_refresh_token(store: Store, token: str) -> tuple[User, tokens.RefreshClaims]:
    """The user and claims of a usable refresh token; InvalidRefreshToken(reason) otherwise."""
    try:
        claims = tokens.parse_refresh_token(token, await tokens.signing_key(store))
    except tokens.InvalidToken as exc:
        raise InvalidRefreshToken(str(exc)) from None
    _check_entry(await list_refresh_tokens(store, claims.user_id), claims.token_id)
    user = await store.users.get(FindUser(id=claims.user_id))
    if user is None:
        raise InvalidRefreshToken("user not found")
    if user.row_status == ROW_STATUS_ARCHIVED:
        raise InvalidRefreshToken("user is archived")
    return user, claims


def _check_entry(entries: list[RefreshToken], token_id: str) -> None:
    entry = next((e for e in entries if e.token_id == token_id), None)
    if entry is None:
        raise InvalidRefreshToken("refresh token revoked")
    if _expired(entry, _utc_now()):
        raise InvalidRefreshToken("refresh token expired")


async def rotate_session(store: Store, token: str, client_info: ClientInfo) -> Session:
    """Swap a valid refresh token for a new one.

    The old entry is replaced by the new one in a single write transaction, so two
    concurrent refreshes with the same token cannot both succeed.
    """
    user, claims = await validate_refresh_token(store, token)
    token_id, refresh = new_refresh_token(user, await tokens.signing_key(store))
    new_entry = _entry(token_id, refresh.expires_at, client_info)

    def replace(entries: list[RefreshToken]) -> list[RefreshToken]:
        _check_entry(entries, claims.token_id)  # again, now inside the write transaction
        return [*(e for e in entries if e.token_id != claims.token_id), new_entry]

    await _rewrite(store, user.id, replace)
    return Session(user, refresh, token_id)


async def refresh_claims(store: Store, token: str | None) -> tokens.RefreshClaims | None:
    """The claims of a refresh token signed by this instance, else None (revocation not checked)."""
    if not token:
        return None
    try:
        return tokens.parse_refresh_token(token, await tokens.signing_key(store))
    except tokens.InvalidToken:
        return None
