"""The Store facade: the one object the rest of the server talks to for persistence.

It owns the caches (read-your-writes within this process), turns JSON columns
into memos.store messages, applies read-time defaults, and delegates SQL to a
driver. Every method is async; the driver keeps blocking work off the event loop.
"""
from __future__ import annotations

import importlib.resources
import uuid
from typing import Any

from memos.gen.store import instance_setting_pb2, user_setting_pb2
from memos.store import codec, migrator
from memos.store.cache import TTLCache
from memos.store.driver import Driver
from memos.store.errors import InvalidValue, NotFound, StoreError
from memos.store.models import ROLE_ADMIN, ROLE_USER, SystemSettingRow, User, UserSettingRow

InstanceSetting = instance_setting_pb2.InstanceSetting
UserSetting = user_setting_pb2.UserSetting
PersonalAccessToken = user_setting_pb2.PersonalAccessTokensUserSetting.PersonalAccessToken


async def open_driver(name: str, dsn: str) -> Driver:
    if name == "sqlite":
        from memos.store.sqlite import SqliteDriver

        return await SqliteDriver.open(dsn)
    if name in ("mysql", "postgres"):
        raise StoreError(f"the {name} driver is not supported yet")
    raise StoreError(f"unknown db driver: {name}")


def _demo_seed_scripts(driver_name: str) -> list[str]:
    """SQL files of ``migration/<driver>/seed/``, in name order (none are shipped yet)."""
    folder = importlib.resources.files("memos.store").joinpath("migration", driver_name, "seed")
    if not folder.is_dir():
        return []
    files = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".sql")), key=lambda e: e.name)
    return [entry.read_text(encoding="utf-8") for entry in files]


class Store:
    def __init__(self, driver: str, dsn: str, *, demo: bool = False) -> None:
        """Describe the database; nothing is opened until ``await start()`` (or use ``Store.open``)."""
        self.driver_name = driver
        self.dsn = dsn
        self.demo = demo
        self._driver: Driver | None = None
        self._instance_settings: TTLCache[str, InstanceSetting] = TTLCache()
        self._users: TTLCache[int, User] = TTLCache()
        self._user_settings: TTLCache[str, UserSetting] = TTLCache()

    @classmethod
    async def open(cls, driver: str, dsn: str, *, demo: bool = False) -> Store:
        """A started store: opened, migrated, seeded in demo mode, BASIC with a secret."""
        store = cls(driver, dsn, demo=demo)
        await store.start()
        return store

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            raise StoreError("the store is closed (or not started yet)")
        return self._driver

    async def start(self) -> None:
        """Open the database, migrate it, seed it in demo mode and make sure BASIC has a secret.

        Raises MigrationError (nothing written) when the schema cannot be used.
        """
        opened = await open_driver(self.driver_name, self.dsn)
        try:
            await migrator.migrate(opened)
            if self.demo:
                for script in _demo_seed_scripts(opened.name):
                    await opened.execute_script(script)
            self._driver = opened
            await self._ensure_secret_key()
        except BaseException:
            self._driver = None
            await opened.close()
            raise

    async def close(self) -> None:
        self._instance_settings.clear()
        self._users.clear()
        self._user_settings.clear()
        if self._driver is not None:
            driver, self._driver = self._driver, None
            await driver.close()

    async def database_size(self) -> int:
        return await self.driver.database_size()

    # --- instance settings -------------------------------------------------------

    async def _ensure_secret_key(self) -> None:
        stored = await self.get_instance_setting_raw("BASIC")
        setting = stored or codec.empty_instance_setting("BASIC")
        if not setting.basic_setting.secret_key:
            setting.basic_setting.secret_key = str(uuid.uuid4())
            await self.upsert_instance_setting(setting)

    async def basic_setting(self) -> instance_setting_pb2.InstanceBasicSetting:
        return (await self.get_instance_setting("BASIC")).basic_setting

    async def get_instance_setting(self, key: str | int) -> InstanceSetting:
        """The effective setting: the stored value (or an empty one) with read-time defaults."""
        name = codec.instance_setting_name(key)
        cached = self._instance_settings.get(name)
        if cached is None:
            stored = await self.get_instance_setting_raw(name)
            cached = codec.with_read_defaults(stored or codec.empty_instance_setting(name))
            self._instance_settings.set(name, cached)
        return codec.clone(cached)

    async def get_instance_setting_raw(self, key: str | int) -> InstanceSetting | None:
        """The stored setting exactly as persisted (no defaults), None when there is no row."""
        name = codec.instance_setting_name(key)
        rows = await self.driver.list_system_settings(name)
        return codec.decode_instance_setting(name, rows[0].value) if rows else None

    async def list_instance_settings(self) -> list[InstanceSetting]:
        """Every stored setting as persisted; rows with names this version does not know are skipped."""
        settings = []
        for row in await self.driver.list_system_settings():
            if row.name in codec.INSTANCE_SETTING_FIELDS:
                setting = codec.decode_instance_setting(row.name, row.value)
                self._instance_settings.set(row.name, codec.with_read_defaults(setting))
                settings.append(setting)
        return settings

    async def upsert_instance_setting(self, setting: InstanceSetting) -> InstanceSetting:
        """Replace the whole stored group; returns the stored value (without defaults)."""
        name, value = codec.encode_instance_setting(setting)
        row = await self.driver.upsert_system_setting(SystemSettingRow(name, value))
        stored = codec.decode_instance_setting(name, row.value)
        self._instance_settings.set(name, codec.with_read_defaults(stored))
        return stored

    # --- users ---------------------------------------------------------------------

    @staticmethod
    def _user_fields(
        username: str, password_hash: str, role: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        if not username:
            raise InvalidValue("a user needs a username")
        fields = {"username": username, "password_hash": password_hash, "role": role}
        fields.update({column: value for column, value in extra.items() if value is not None})
        return fields

    async def create_user(
        self,
        *,
        username: str,
        password_hash: str,
        role: str = ROLE_USER,
        email: str | None = None,
        nickname: str | None = None,
        avatar_url: str | None = None,
        description: str | None = None,
        row_status: str | None = None,
        created_ts: int | None = None,
    ) -> User:
        """Insert a user; raises Conflict when the username is taken."""
        extra = dict(
            email=email, nickname=nickname, avatar_url=avatar_url, description=description,
            row_status=row_status, created_ts=created_ts,
        )
        user = await self.driver.create_user(self._user_fields(username, password_hash, role, extra))
        self._users.set(user.id, user)
        return user

    async def create_first_user(
        self,
        *,
        username: str,
        password_hash: str,
        role: str = ROLE_ADMIN,
        email: str | None = None,
        nickname: str | None = None,
        avatar_url: str | None = None,
        description: str | None = None,
    ) -> User | None:
        """Create the user only if there are no users yet, as one atomic step.

        Returns None when another user already exists (the caller then goes on
        with an ordinary registration). Concurrent callers get exactly one winner.
        """
        extra = dict(email=email, nickname=nickname, avatar_url=avatar_url, description=description)
        user = await self.driver.create_user_if_none(self._user_fields(username, password_hash, role, extra))
        if user is not None:
            self._users.set(user.id, user)
        return user

    async def get_user(self, *, id: int | None = None, username: str | None = None) -> User | None:
        """By id (served from the cache when possible) or by username (always read)."""
        if id is None and username is None:
            raise InvalidValue("get_user needs an id or a username")
        if id is not None and username is None:
            cached = self._users.get(id)
            if cached is not None:
                return cached
        users = await self.list_users(id=id, username=username, limit=1)
        return users[0] if users else None

    async def list_users(
        self,
        *,
        id: int | None = None,
        username: str | None = None,
        role: str | None = None,
        row_status: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[User]:
        """Users newest first (created_ts DESC, row_status DESC, id DESC)."""
        users = await self.driver.list_users(
            id=id, username=username, role=role, row_status=row_status, limit=limit, offset=offset
        )
        for user in users:
            self._users.set(user.id, user)
        return users

    async def count_users(self, *, role: str | None = None) -> int:
        return await self.driver.count_users(role=role)

    async def update_user(self, id: int, /, **fields: Any) -> User:
        """Set only the given columns (updated_ts is not bumped implicitly); NotFound if absent."""
        user = await self.driver.update_user(id, fields)
        if user is None:
            self._users.delete(id)
            raise NotFound(f"user {id} not found")
        self._users.set(user.id, user)
        return user

    async def delete_user(self, id: int) -> None:
        """Delete the user row; its settings' cache entries go too. NotFound if absent."""
        deleted = await self.driver.delete_user(id)
        self._users.delete(id)
        prefix = f"{id}-"
        self._user_settings.delete_where(lambda key: key.startswith(prefix))
        if not deleted:
            raise NotFound(f"user {id} not found")

    # --- user settings -----------------------------------------------------------------

    async def get_user_setting(self, user_id: int, key: str | int) -> UserSetting | None:
        """The stored setting, or None; defaults are the api layer's business."""
        name = codec.user_setting_name(key)
        cache_key = f"{user_id}-{name}"
        cached = self._user_settings.get(cache_key)
        if cached is None:
            rows = await self.driver.list_user_settings(user_id=user_id, key=name)
            if not rows:
                return None
            cached = codec.decode_user_setting(user_id, name, rows[0].value)
            self._user_settings.set(cache_key, cached)
        return codec.clone(cached)

    async def list_user_settings(self, user_id: int) -> list[UserSetting]:
        """Stored settings of a user, in store order; rows with unknown keys are skipped."""
        settings = []
        for row in await self.driver.list_user_settings(user_id=user_id):
            if row.key in codec.USER_SETTING_FIELDS:
                setting = codec.decode_user_setting(row.user_id, row.key, row.value)
                self._user_settings.set(f"{row.user_id}-{row.key}", setting)
                settings.append(codec.clone(setting))
        return settings

    async def upsert_user_setting(self, setting: UserSetting) -> UserSetting:
        user_id, key, value = codec.encode_user_setting(setting)
        await self.driver.upsert_user_setting(UserSettingRow(user_id, key, value))
        stored = codec.decode_user_setting(user_id, key, value)
        self._user_settings.set(f"{user_id}-{key}", stored)
        return codec.clone(stored)

    async def delete_user_setting(self, user_id: int, key: str | int) -> None:
        name = codec.user_setting_name(key)
        await self.driver.delete_user_setting(user_id, name)
        self._user_settings.delete(f"{user_id}-{name}")

    async def find_personal_access_token(self, token_hash: str) -> tuple[int, PersonalAccessToken] | None:
        """(user id, token) of the personal access token with this SHA-256 hash, if any."""
        row = await self.driver.find_personal_access_token(token_hash)
        if row is None:
            return None
        setting = codec.decode_user_setting(row.user_id, row.key, row.value)
        for token in setting.personal_access_tokens.tokens:
            if token.token_hash == token_hash:
                return row.user_id, token
        return None
