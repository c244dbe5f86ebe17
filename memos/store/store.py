"""The Store facade: the one object the rest of the server talks to for persistence.

It owns the caches (read-your-writes within this process), turns JSON columns
into memos.store messages, applies read-time defaults, and delegates SQL to a
driver. Every method is async; the driver keeps blocking work off the event loop.
"""
from __future__ import annotations

import datetime
import importlib.resources
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from memos.gen.store import idp_pb2, inbox_pb2, instance_setting_pb2, user_setting_pb2
from memos.store import codec, deployment, migrator
from memos.store.cache import TTLCache
from memos.store.driver import Driver
from memos.store.errors import (
    DeploymentError,
    DeploymentManaged,
    GuardRefused,
    InvalidValue,
    NotFound,
    StoreError,
)
from memos.store.models import (
    INBOX_UNREAD,
    ROLE_ADMIN,
    ROLE_USER,
    AttachmentRef,
    IdpRow,
    InboxMessage,
    InboxRow,
    MemoSummary,
    SystemSettingRow,
    User,
    UserIdentity,
    UserSettingRow,
)

log = logging.getLogger(__name__)

InstanceSetting = instance_setting_pb2.InstanceSetting
UserSetting = user_setting_pb2.UserSetting
PersonalAccessToken = user_setting_pb2.PersonalAccessTokensUserSetting.PersonalAccessToken
IdentityProvider = idp_pb2.IdentityProvider
InstanceGeneralSetting = instance_setting_pb2.InstanceGeneralSetting

DEFAULT_DEPLOYMENT_DIR = "/etc/secrets"

# is_safe(current effective GENERAL, proposed GENERAL, effective identity providers) -> bool
GeneralGuard = Callable[[InstanceGeneralSetting, InstanceGeneralSetting, list[IdentityProvider]], bool]
# is_safe(effective GENERAL, effective identity providers left after the delete) -> bool
IdpDeleteGuard = Callable[[InstanceGeneralSetting, list[IdentityProvider]], bool]


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
    def __init__(
        self,
        driver: str,
        dsn: str,
        *,
        demo: bool = False,
        deployment_dir: str | os.PathLike[str] | None = DEFAULT_DEPLOYMENT_DIR,
    ) -> None:
        """Describe the database; nothing is opened until ``await start()`` (or use ``Store.open``).

        ``deployment_dir`` is where deployment configuration files are read at start
        (None: no overlay).
        """
        self.driver_name = driver
        self.dsn = dsn
        self.demo = demo
        self.deployment_dir = deployment_dir
        self._deployment = deployment.DeploymentConfig()
        self._driver: Driver | None = None
        self._instance_settings: TTLCache[str, InstanceSetting] = TTLCache()
        self._users: TTLCache[int, User] = TTLCache()
        self._user_settings: TTLCache[str, UserSetting] = TTLCache()

    @classmethod
    async def open(
        cls,
        driver: str,
        dsn: str,
        *,
        demo: bool = False,
        deployment_dir: str | os.PathLike[str] | None = DEFAULT_DEPLOYMENT_DIR,
    ) -> Store:
        """A started store: opened, migrated, seeded in demo mode, BASIC with a secret."""
        store = cls(driver, dsn, demo=demo, deployment_dir=deployment_dir)
        await store.start()
        return store

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            raise StoreError("the store is closed (or not started yet)")
        return self._driver

    async def start(self) -> None:
        """Open the database, migrate it, seed it in demo mode and make sure BASIC has a secret.

        Raises MigrationError (nothing written) when the schema cannot be used, and
        DeploymentError when a deployment file is invalid (checked before the
        database is touched) or the configuration they produce locks everyone out.
        """
        self._deployment = deployment.load(self.deployment_dir)
        opened = await open_driver(self.driver_name, self.dsn)
        try:
            await migrator.migrate(opened)
            if self.demo:
                for script in _demo_seed_scripts(opened.name):
                    await opened.execute_script(script)
            self._driver = opened
            await self._ensure_secret_key()
            await self._check_auth_lockout()
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
        """The effective setting: a deployment file's value, else the stored value (or an empty
        one), with read-time defaults. File values are never cached."""
        name = codec.instance_setting_name(key)
        pinned = self._deployment.instance_settings.get(name)
        if pinned is not None:
            return codec.with_read_defaults(pinned)
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
        """Replace the whole stored group; returns the stored value (without defaults).

        Raises DeploymentManaged for a key that a deployment file provides.
        """
        name, value = codec.encode_instance_setting(setting)
        self._refuse_deployment_setting(name)
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

    async def delete_user(self, id: int) -> list[AttachmentRef]:
        """Delete the user and everything that belongs to them, in one transaction.

        Removed: the user's memos and every memo in their comment subtrees (other
        users' comments included); attachments created by the user or attached to a
        removed memo; reactions on removed memos or by the user; shares by the user or
        of removed memos; inbox rows the user sent or received or that name a removed
        memo; linked identities; settings; relations touching removed memos; the user.
        Returns the removed attachments so the caller can delete their files after the
        commit. NotFound (nothing written) if there is no such user.
        """
        attachments = await self.driver.delete_user_cascade(id)
        self._users.delete(id)
        prefix = f"{id}-"
        self._user_settings.delete_where(lambda key: key.startswith(prefix))
        if attachments is None:
            raise NotFound(f"user {id} not found")
        return [
            AttachmentRef(
                ref.id, ref.uid, ref.storage_type, ref.reference,
                codec.decode_attachment_payload(ref.payload, where=f"attachment {ref.uid}"),
            )
            for ref in attachments
        ]

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

    async def modify_user_setting(
        self, user_id: int, key: str | int, change: Callable[[UserSetting], bool]
    ) -> UserSetting:
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

        written = await self.driver.modify_user_setting(user_id, name, modify)
        if written is not None:
            self._user_settings.set(f"{user_id}-{name}", codec.clone(outcome[0]))
        return codec.clone(outcome[0])

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
            await self.modify_user_setting(user_id, "PERSONAL_ACCESS_TOKENS", change)
        except StoreError as exc:
            log.warning("could not record the use of personal access token %s: %s", token_id, exc)
            return False
        return bool(touched)

    # --- deployment configuration ---------------------------------------------------------

    def is_deployment_setting(self, key: str | int) -> bool:
        """Whether a deployment file provides this instance setting (so the API must not change it)."""
        return codec.instance_setting_name(key) in self._deployment.instance_settings

    def is_deployment_idp(self, uid: str) -> bool:
        """Whether a deployment file provides the identity provider with this uid."""
        return uid in self._deployment.identity_providers

    def _refuse_deployment_setting(self, name: str) -> None:
        if name in self._deployment.instance_settings:
            raise DeploymentManaged(f'instance setting "{name}" is configured by the deployment')

    def _refuse_deployment_idp(self, uid: str) -> None:
        if uid in self._deployment.identity_providers:
            raise DeploymentManaged(f'identity provider "{uid}" is configured by the deployment')

    def _effective_idps(self, stored: Sequence[IdpRow]) -> list[IdentityProvider]:
        """Stored providers in id order (a file-backed one takes the place of the stored uid it
        shadows), then providers only the files have, by uid."""
        files = self._deployment.identity_providers
        providers = [codec.clone(files[row.uid]) if row.uid in files else codec.decode_idp(row) for row in stored]
        stored_uids = {row.uid for row in stored}
        providers.extend(codec.clone(p) for uid, p in files.items() if uid not in stored_uids)
        return providers

    def _effective_general(self, stored_value: str | None) -> InstanceGeneralSetting:
        pinned = self._deployment.instance_settings.get("GENERAL")
        if pinned is not None:
            return codec.clone(pinned.general_setting)
        if stored_value is None:
            return InstanceGeneralSetting()
        return codec.decode_instance_setting("GENERAL", stored_value).general_setting

    async def _check_auth_lockout(self) -> None:
        """Refuse to start when deployment files leave password sign-in off and no identity provider."""
        general = (await self.get_instance_setting("GENERAL")).general_setting
        if not general.disallow_password_auth or await self.list_identity_providers():
            return
        if "GENERAL" in self._deployment.instance_settings or self._deployment.identity_providers:
            raise DeploymentError(
                "deployment configuration disables password sign-in but leaves no identity provider;"
                " nobody but an admin could sign in"
            )
        log.warning("password sign-in is disabled and there is no identity provider; only admins can sign in")

    # --- identity providers -------------------------------------------------------------------

    async def create_identity_provider(self, provider: IdentityProvider) -> IdentityProvider:
        """Insert a provider (its ``id`` is ignored); Conflict when the uid is taken,
        DeploymentManaged when a deployment file owns the uid."""
        fields = codec.encode_idp(provider)
        self._refuse_deployment_idp(provider.uid)
        return codec.decode_idp(await self.driver.create_idp(fields))

    async def list_identity_providers(self) -> list[IdentityProvider]:
        """The effective providers: stored ones by id, file-backed ones in place or appended."""
        return self._effective_idps(await self.driver.list_idps())

    async def list_stored_identity_providers(self) -> list[IdentityProvider]:
        """Only the database's providers, ignoring deployment files."""
        return [codec.decode_idp(row) for row in await self.driver.list_idps()]

    async def get_identity_provider(self, *, uid: str | None = None, id: int | None = None) -> IdentityProvider | None:
        """The effective provider with this uid (or stored id), None if there is none."""
        if uid is None and id is None:
            raise InvalidValue("get_identity_provider needs a uid or an id")
        if uid is not None and id is None and uid in self._deployment.identity_providers:
            return codec.clone(self._deployment.identity_providers[uid])
        rows = await self.driver.list_idps(id=id, uid=uid)
        return self._effective_idps(rows)[0] if rows else None

    async def update_identity_provider(self, provider: IdentityProvider) -> IdentityProvider:
        """Replace name, type, identifier filter and config of the stored provider ``provider.uid``.

        The caller merges (e.g. keeps a secret the request left empty). NotFound when
        absent, DeploymentManaged when a deployment file owns the uid.
        """
        self._refuse_deployment_idp(provider.uid)
        fields = codec.encode_idp(provider)
        row = await self.driver.update_idp(provider.uid, {k: v for k, v in fields.items() if k != "uid"})
        if row is None:
            raise NotFound(f"identity provider {provider.uid} not found")
        return codec.decode_idp(row)

    async def delete_identity_provider(self, uid: str, *, is_safe: IdpDeleteGuard | None = None) -> None:
        """Delete the stored provider; linked identities stay (a re-created uid resumes them).

        With ``is_safe``, ``is_safe(effective GENERAL, effective providers left)`` is asked
        inside the deleting transaction and GuardRefused is raised (nothing deleted)
        when it answers False. NotFound when absent; DeploymentManaged for a file-backed uid.
        """
        self._refuse_deployment_idp(uid)

        def check(general_value: str | None, remaining: list[IdpRow]) -> None:
            assert is_safe is not None
            if not is_safe(self._effective_general(general_value), self._effective_idps(remaining)):
                raise GuardRefused(f"deleting identity provider {uid} was refused by the guard")

        if not await self.driver.delete_idp_checked(uid, check if is_safe else None):
            raise NotFound(f"identity provider {uid} not found")

    async def update_general_setting_guarded(
        self, general: InstanceGeneralSetting, is_safe: GeneralGuard
    ) -> InstanceSetting:
        """Store GENERAL if ``is_safe(current effective, proposed, effective providers)`` agrees.

        The check and the write share one write transaction, so a concurrent provider
        delete cannot slip in between. GuardRefused (nothing written) on a refusal;
        DeploymentManaged when a deployment file provides GENERAL. Returns the stored value.
        """
        self._refuse_deployment_setting("GENERAL")
        setting = InstanceSetting(key=instance_setting_pb2.GENERAL, general_setting=general)
        name, value = codec.encode_instance_setting(setting)

        def check(current_value: str | None, providers: list[IdpRow]) -> None:
            current = self._effective_general(current_value)
            if not is_safe(current, codec.clone(general), self._effective_idps(providers)):
                raise GuardRefused("the GENERAL setting update was refused by the guard")

        row = await self.driver.upsert_system_setting_checked(SystemSettingRow(name, value), check)
        stored = codec.decode_instance_setting(name, row.value)
        self._instance_settings.set(name, codec.with_read_defaults(stored))
        return stored

    # --- linked identities -----------------------------------------------------------------------

    async def create_user_identity(self, *, user_id: int, provider: str, extern_uid: str) -> UserIdentity:
        """Link a user to an account at a provider; Conflict when the account or the
        (user, provider) pair is already linked (see ``Conflict.columns``)."""
        return await self.driver.create_user_identity(user_id, provider, extern_uid)

    async def list_user_identities(
        self,
        *,
        id: int | None = None,
        user_id: int | None = None,
        provider: str | None = None,
        extern_uid: str | None = None,
    ) -> list[UserIdentity]:
        """Links matching every given criterion, in id order."""
        return await self.driver.list_user_identities(
            id=id, user_id=user_id, provider=provider, extern_uid=extern_uid
        )

    async def get_user_identity(
        self,
        *,
        id: int | None = None,
        user_id: int | None = None,
        provider: str | None = None,
        extern_uid: str | None = None,
    ) -> UserIdentity | None:
        if id is None and user_id is None and provider is None and extern_uid is None:
            raise InvalidValue("get_user_identity needs at least one criterion")
        found = await self.list_user_identities(id=id, user_id=user_id, provider=provider, extern_uid=extern_uid)
        return found[0] if found else None

    async def delete_user_identity(
        self, *, id: int | None = None, user_id: int | None = None, provider: str | None = None
    ) -> None:
        """Delete the link with this id, or the user's link to this provider; NotFound if none."""
        if id is None and (user_id is None or provider is None):
            raise InvalidValue("delete_user_identity needs an id, or a user id and a provider")
        if not await self.driver.delete_user_identities(id=id, user_id=user_id, provider=provider):
            raise NotFound("linked identity not found")

    async def create_user_with_identity(
        self, user_fields: dict[str, Any], provider: str, extern_uid: str
    ) -> User:
        """Create a user and its link in one transaction.

        ``user_fields``: username, password_hash, role (default USER), and optionally
        email, nickname, avatar_url, description. Conflict when the username is taken
        (``"user.username" in exc.columns``) or the account was linked meanwhile
        (``"user_identity.extern_uid"``); then nothing is written.
        """
        extra = {k: v for k, v in user_fields.items() if k not in ("username", "password_hash", "role")}
        fields = self._user_fields(
            user_fields.get("username", ""), user_fields.get("password_hash", ""),
            user_fields.get("role", ROLE_USER), extra,
        )
        user, _ = await self.driver.create_user_with_identity(fields, provider, extern_uid)
        self._users.set(user.id, user)
        return user

    # --- inbox -------------------------------------------------------------------------------------

    @staticmethod
    def _inbox(row: InboxRow) -> InboxMessage:
        message = codec.decode_inbox_message(row.message, where=f"inbox {row.id}")
        return InboxMessage(row.id, row.created_ts, row.sender_id, row.receiver_id, row.status, message)

    async def create_inbox(
        self,
        *,
        sender_id: int,
        receiver_id: int,
        message: inbox_pb2.InboxMessage,
        status: str = INBOX_UNREAD,
        created_ts: int | None = None,
    ) -> InboxMessage:
        fields: dict[str, Any] = {
            "sender_id": sender_id, "receiver_id": receiver_id, "status": status,
            "message": codec.to_json(message),
        }
        if created_ts is not None:
            fields["created_ts"] = created_ts
        return self._inbox(await self.driver.create_inbox(fields))

    async def list_inboxes(
        self,
        *,
        id: int | None = None,
        receiver_id: int | None = None,
        sender_id: int | None = None,
        status: str | None = None,
    ) -> list[InboxMessage]:
        """Inbox rows matching every given criterion, newest first (created_ts DESC, id DESC)."""
        rows = await self.driver.list_inboxes(id=id, receiver_id=receiver_id, sender_id=sender_id, status=status)
        return [self._inbox(row) for row in rows]

    async def get_inbox(self, id: int) -> InboxMessage | None:
        found = await self.list_inboxes(id=id)
        return found[0] if found else None

    async def update_inbox(self, id: int, *, status: str) -> InboxMessage:
        row = await self.driver.update_inbox(id, status)
        if row is None:
            raise NotFound(f"inbox {id} not found")
        return self._inbox(row)

    async def delete_inbox(self, id: int) -> None:
        if not await self.driver.delete_inbox(id):
            raise NotFound(f"inbox {id} not found")

    # --- memo reads for user statistics ----------------------------------------------------------

    async def list_memo_summaries(
        self,
        *,
        ids: Sequence[int] | None = None,
        creator_id: int | None = None,
        row_status: str | None = "NORMAL",
        visibilities: Sequence[str] | None = None,
        or_creator_id: int | None = None,
        exclude_comments: bool = True,
    ) -> list[MemoSummary]:
        """Memos (without content) newest first: created_ts DESC, id DESC.

        ``ids`` narrows the list to those memo ids. ``visibilities`` limits the visibilities counted,
        except for memos of
        ``or_creator_id`` (the caller's own memos count whatever their visibility).
        ``exclude_comments`` drops memos that are a COMMENT on another memo. Payloads come decoded.
        """
        rows = await self.driver.list_memo_summary_rows(
            ids=ids,
            creator_id=creator_id,
            row_status=row_status,
            visibilities=visibilities,
            or_creator_id=or_creator_id,
            exclude_comments=exclude_comments,
        )
        return [
            MemoSummary(
                row.id,
                row.uid,
                row.creator_id,
                row.created_ts,
                row.updated_ts,
                row.pinned,
                row.visibility,
                codec.decode_memo_payload(row.payload, where=f"memo {row.uid}"),
            )
            for row in rows
        ]
