"""User settings: one JSON value per (user, key), decoded into ``memos.store.UserSetting``.

``store.user_settings`` keeps a read-your-writes cache per (user, key); defaults
for missing settings are the api layer's business.
"""
from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from memos.gen.store import user_setting_pb2
from memos.store import codec
from memos.store.cache import TTLCache
from memos.store.errors import StoreError

if TYPE_CHECKING:
    from memos.store.store import Store

log = logging.getLogger(__name__)

UserSetting = user_setting_pb2.UserSetting
PersonalAccessToken = user_setting_pb2.PersonalAccessTokensUserSetting.PersonalAccessToken

# Read-modify-write callback of a dialect: stored value (None: no row) -> value to write (None: leave it).
ValueChange = Callable[[str | None], str | None]


@dataclasses.dataclass(frozen=True, slots=True)
class UserSettingRow:
    user_id: int
    key: str
    value: str


@dataclasses.dataclass(frozen=True, slots=True)
class FindUserSetting:
    """Settings matching every given criterion (None: not given), in store order.

    ``key`` is the key's name ("GENERAL"); ``token_hash`` matches the
    PERSONAL_ACCESS_TOKENS setting holding a token with that SHA-256 hash.
    """

    user_id: int | None = None
    key: str | None = None
    token_hash: str | None = None


class UserSettingDriver(Protocol):
    async def find(self, find: FindUserSetting) -> list[UserSettingRow]: ...

    async def upsert(self, row: UserSettingRow) -> UserSettingRow: ...

    async def delete(self, user_id: int, key: str) -> bool: ...

    async def modify(self, user_id: int, key: str, change: ValueChange) -> str | None:
        """Read-modify-write of one setting in one write transaction; returns the value written."""
        ...


class UserSettings:
    """``store.user_settings``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.cache: TTLCache[tuple[int, str], UserSetting] = TTLCache()

    def forget_user(self, user_id: int) -> None:
        self.cache.delete_where(lambda key: key[0] == user_id)

    async def get(self, user_id: int, key: str | int) -> UserSetting | None:
        """The stored setting, or None."""
        name = codec.user_setting_name(key)
        cached = self.cache.get((user_id, name))
        if cached is None:
            rows = await self._store.driver.user_settings.find(FindUserSetting(user_id=user_id, key=name))
            if not rows:
                return None
            cached = codec.decode_user_setting(user_id, name, rows[0].value)
            self.cache.set((user_id, name), cached)
        return codec.clone(cached)

    async def find(self, find: FindUserSetting) -> list[UserSetting]:
        """Stored settings matching ``find``, in store order; rows with unknown keys are skipped."""
        settings = []
        for row in await self._store.driver.user_settings.find(find):
            if row.key in codec.USER_SETTING_FIELDS:
                setting = codec.decode_user_setting(row.user_id, row.key, row.value)
                self.cache.set((row.user_id, row.key), setting)
                settings.append(codec.clone(setting))
        return settings

    async def upsert(self, setting: UserSetting) -> UserSetting:
        user_id, key, value = codec.encode_user_setting(setting)
        await self._store.driver.user_settings.upsert(UserSettingRow(user_id, key, value))
        stored = codec.decode_user_setting(user_id, key, value)
        self.cache.set((user_id, key), stored)
        return codec.clone(stored)

    async def delete(self, user_id: int, key: str | int) -> None:
        name = codec.user_setting_name(key)
        await self._store.driver.user_settings.delete(user_id, name)
        self.cache.delete((user_id, name))

    async def modify(self, user_id: int, key: str | int, change: Callable[[UserSetting], bool]) -> UserSetting:
        """Read-modify-write of one user setting in one write transaction.

        ``change`` gets the stored setting (an empty one when there is no row), edits it
        in place and returns whether to write it. It runs on the writer thread, so it
        must not block; an exception it raises leaves the row alone and reaches the caller.
        Returns the setting as it now is.
        """
        name = codec.user_setting_name(key)
        outcome: list[UserSetting] = []

        def modify(value: str | None) -> str | None:
            setting = codec.decode_user_setting(user_id, name, value if value is not None else "{}")
            outcome.append(setting)
            return codec.encode_user_setting(setting)[2] if change(setting) else None

        written = await self._store.driver.user_settings.modify(user_id, name, modify)
        if written is not None:
            self.cache.set((user_id, name), codec.clone(outcome[0]))
        return codec.clone(outcome[0])

    async def find_personal_access_token(self, token_hash: str) -> tuple[int, PersonalAccessToken] | None:
        """(user id, token) of the personal access token with this SHA-256 hash, if any."""
        find = FindUserSetting(key="PERSONAL_ACCESS_TOKENS", token_hash=token_hash)
        for row in await self._store.driver.user_settings.find(find):
            setting = codec.decode_user_setting(row.user_id, row.key, row.value)
            for token in setting.personal_access_tokens.tokens:
                if token.token_hash == token_hash:
                    return row.user_id, token
        return None

    async def touch_personal_access_token(self, user_id: int, token_id: str, when: datetime.datetime) -> bool:
        """Record that a personal access token was used at ``when`` (timezone-aware).

        Never moves ``lastUsedAt`` backwards. Best effort: returns False (and logs)
        instead of raising when the token is gone or the write fails.
        """
        when = when.astimezone(datetime.UTC)
        touched: list[bool] = []

        def change(setting: UserSetting) -> bool:
            for token in setting.personal_access_tokens.tokens:
                if token.token_id != token_id:
                    continue
                last = token.last_used_at
                if token.HasField("last_used_at") and last.ToDatetime(datetime.UTC) >= when:
                    return False
                token.last_used_at.FromDatetime(when)
                touched.append(True)
                return True
            return False

        try:
            await self.modify(user_id, "PERSONAL_ACCESS_TOKENS", change)
        except StoreError as exc:
            log.warning("could not record the use of personal access token %s: %s", token_id, exc)
            return False
        return bool(touched)
