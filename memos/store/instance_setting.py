"""Instance settings (the ``system_setting`` table), overlaid by the deployment's setting files.

``store.instance_settings.get`` answers the effective value: a deployment file's,
else the stored one (or an empty one), with read-time defaults. File values are
never cached nor written; stored values are cached (read-your-writes).
"""
from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from memos.gen.store import idp_pb2, instance_setting_pb2
from memos.store import codec
from memos.store.cache import TTLCache
from memos.store.errors import DeploymentManaged, GuardRefused
from memos.store.idp import AuthConfigCheck, IdpRow

if TYPE_CHECKING:
    from memos.store.store import Store

InstanceSetting = instance_setting_pb2.InstanceSetting
InstanceGeneralSetting = instance_setting_pb2.InstanceGeneralSetting

# is_safe(current effective GENERAL, proposed GENERAL, effective identity providers) -> bool
GeneralGuard = Callable[[InstanceGeneralSetting, InstanceGeneralSetting, list[idp_pb2.IdentityProvider]], bool]


@dataclasses.dataclass(frozen=True, slots=True)
class SystemSettingRow:
    name: str
    value: str
    description: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class FindInstanceSetting:
    """Stored settings with this name (None: every one)."""

    name: str | None = None


class InstanceSettingDriver(Protocol):
    async def find(self, find: FindInstanceSetting) -> list[SystemSettingRow]: ...

    async def upsert(self, row: SystemSettingRow) -> SystemSettingRow:
        """Insert, or replace the value of the row with this name (its description stays)."""
        ...

    async def upsert_checked(self, row: SystemSettingRow, check: AuthConfigCheck) -> SystemSettingRow:
        """``check(current value of row.name, providers)`` runs in the writing transaction."""
        ...


class InstanceSettings:
    """``store.instance_settings``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.cache: TTLCache[str, InstanceSetting] = TTLCache()

    def is_deployment(self, key: str | int) -> bool:
        """Whether a deployment file provides this setting (so the API must not change it)."""
        return codec.instance_setting_name(key) in self._store.deployment.instance_settings

    def _refuse_deployment(self, name: str) -> None:
        if name in self._store.deployment.instance_settings:
            raise DeploymentManaged(f'instance setting "{name}" is configured by the deployment')

    def effective_general(self, stored_value: str | None) -> InstanceGeneralSetting:
        """GENERAL as the deployment file pins it, else as ``stored_value`` (None: no row) holds it."""
        pinned = self._store.deployment.instance_settings.get("GENERAL")
        if pinned is not None:
            return codec.clone(pinned.general_setting)
        if stored_value is None:
            return InstanceGeneralSetting()
        return codec.decode_instance_setting("GENERAL", stored_value).general_setting

    async def get(self, key: str | int) -> InstanceSetting:
        """The effective setting (see the module's docstring)."""
        name = codec.instance_setting_name(key)
        pinned = self._store.deployment.instance_settings.get(name)
        if pinned is not None:
            return codec.with_read_defaults(pinned)
        cached = self.cache.get(name)
        if cached is None:
            stored = await self.get_stored(name)
            cached = codec.with_read_defaults(stored or codec.empty_instance_setting(name))
            self.cache.set(name, cached)
        return codec.clone(cached)

    async def basic(self) -> instance_setting_pb2.InstanceBasicSetting:
        return (await self.get("BASIC")).basic_setting

    async def get_stored(self, key: str | int) -> InstanceSetting | None:
        """The stored setting exactly as persisted (no defaults), None when there is no row."""
        name = codec.instance_setting_name(key)
        rows = await self._store.driver.instance_settings.find(FindInstanceSetting(name=name))
        return codec.decode_instance_setting(name, rows[0].value) if rows else None

    async def find(self, find: FindInstanceSetting) -> list[InstanceSetting]:
        """Stored settings as persisted; rows with names this version does not know are skipped."""
        settings = []
        for row in await self._store.driver.instance_settings.find(find):
            if row.name in codec.INSTANCE_SETTING_FIELDS:
                setting = codec.decode_instance_setting(row.name, row.value)
                self.cache.set(row.name, codec.with_read_defaults(setting))
                settings.append(setting)
        return settings

    async def upsert(self, setting: InstanceSetting) -> InstanceSetting:
        """Replace the whole stored group; returns the stored value (without defaults).

        Raises DeploymentManaged for a key that a deployment file provides.
        """
        name, value = codec.encode_instance_setting(setting)
        self._refuse_deployment(name)
        row = await self._store.driver.instance_settings.upsert(SystemSettingRow(name, value))
        return self._remember(row)

    async def update_general_guarded(self, general: InstanceGeneralSetting, is_safe: GeneralGuard) -> InstanceSetting:
        """Store GENERAL if ``is_safe(current effective, proposed, effective providers)`` agrees.

        The check and the write share one write transaction, so a concurrent provider
        delete cannot slip in between. GuardRefused (nothing written) on a refusal;
        DeploymentManaged when a deployment file provides GENERAL. Returns the stored value.
        """
        self._refuse_deployment("GENERAL")
        name, value = codec.encode_instance_setting(InstanceSetting(key="GENERAL", general_setting=general))
        providers = self._store.identity_providers

        def check(current_value: str | None, rows: list[IdpRow]) -> None:
            current = self.effective_general(current_value)
            if not is_safe(current, codec.clone(general), providers.effective(rows)):
                raise GuardRefused("the GENERAL setting update was refused by the guard")

        row = await self._store.driver.instance_settings.upsert_checked(SystemSettingRow(name, value), check)
        return self._remember(row)

    async def ensure_secret_key(self) -> None:
        """Give BASIC a signing secret when it has none (first start)."""
        stored = await self.get_stored("BASIC")
        setting = stored or codec.empty_instance_setting("BASIC")
        if not setting.basic_setting.secret_key:
            setting.basic_setting.secret_key = str(uuid.uuid4())
            await self.upsert(setting)

    def _remember(self, row: SystemSettingRow) -> InstanceSetting:
        stored = codec.decode_instance_setting(row.name, row.value)
        self.cache.set(row.name, codec.with_read_defaults(stored))
        return stored
