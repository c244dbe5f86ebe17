"""Personal access tokens: ``memos_pat_`` + 32 random characters, stored only as a SHA-256 hash."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets

from memos.gen.store import user_setting_pb2
from memos.store import ROW_STATUS_NORMAL, FindUser, Store, User

logger = logging.getLogger("memos.auth")

PAT_PREFIX = "memos_pat_"
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_RANDOM_LENGTH = 32

# Keeps the fire-and-forget "last used" updates alive until they finish.
_pending_touches: set[asyncio.Task[None]] = set()


def generate_personal_access_token() -> str:
    """A fresh token; its plaintext is shown to the owner once and never stored."""
    return PAT_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))


def hash_personal_access_token(token: str) -> str:
    """Lower-case hex SHA-256 of the whole token, prefix included (what Memos stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_personal_access_token(token: str) -> bool:
    return token.startswith(PAT_PREFIX)


StoredToken = user_setting_pb2.PersonalAccessTokensUserSetting.PersonalAccessToken


def _expired(token: StoredToken, now: dt.datetime) -> bool:
    if not token.HasField("expires_at"):
        return False  # no expiry: valid until deleted
    return token.expires_at.ToDatetime(tzinfo=dt.UTC) < now


async def find_live_personal_access_token(
    store: Store, token: str, now: dt.datetime
) -> tuple[int, StoredToken] | None:
    """(owner's user id, stored entry) of this PAT when it exists and has not expired at ``now``; else None."""
    found = await store.user_settings.find_personal_access_token(hash_personal_access_token(token))
    if found is None or _expired(found[1], now):
        return None
    return found


async def resolve_personal_access_token(store: Store, token: str) -> User | None:
    """The NORMAL user owning this unexpired PAT, or None; records the use in the background."""
    if not is_personal_access_token(token):
        return None
    now = dt.datetime.now(dt.UTC)
    found = await find_live_personal_access_token(store, token, now)
    if found is None:
        return None
    user_id, stored = found
    user: User | None = await store.users.get(FindUser(id=user_id))
    if user is None or user.row_status != ROW_STATUS_NORMAL:
        return None
    _touch_later(store, user_id, stored.token_id, now)
    return user


def _touch_later(store: Store, user_id: int, token_id: str, used_at: dt.datetime) -> None:
    """Record the use without making the request wait for the write."""

    async def run() -> None:
        try:
            await store.user_settings.touch_personal_access_token(user_id, token_id, used_at)
        except Exception:  # best effort: never affects the request that used the token
            logger.warning("failed to record the last use of a personal access token", exc_info=True)

    task = asyncio.get_running_loop().create_task(run())
    _pending_touches.add(task)
    task.add_done_callback(_pending_touches.discard)
