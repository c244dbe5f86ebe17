"""Instance settings through store.instance_settings: defaults, read-your-writes, the guarded GENERAL write."""
from __future__ import annotations

import pathlib

import pytest
from support import sample_identity_provider as _provider
from support import sqlite_rows as _rows

from memos.gen.store import instance_setting_pb2 as pb
from memos.store import (
    FindIdentityProvider,
    FindInstanceSetting,
    GuardRefused,
    InvalidValue,
    Store,
)

pytestmark = pytest.mark.anyio



async def test_missing_settings_read_with_defaults_and_raw_is_none(store: Store) -> None:
    storage = await store.instance_settings.get("STORAGE")
    assert storage.key == pb.STORAGE
    assert storage.storage_setting.storage_type == pb.InstanceStorageSetting.LOCAL
    assert await store.instance_settings.get_stored("STORAGE") is None
    general = await store.instance_settings.get(pb.GENERAL)
    assert general.WhichOneof("value") == "general_setting"


async def test_instance_setting_read_your_writes_without_persisting_defaults(
    tmp_path: pathlib.Path, store: Store
) -> None:
    await store.instance_settings.get("MEMO_RELATED")  # warm the cache
    written = pb.InstanceSetting(
        key=pb.MEMO_RELATED,
        memo_related_setting=pb.InstanceMemoRelatedSetting(content_length_limit=100, reactions=["+1"]),
    )
    stored = await store.instance_settings.upsert(written)
    assert stored == written
    effective = (await store.instance_settings.get("MEMO_RELATED")).memo_related_setting
    assert (effective.content_length_limit, list(effective.reactions)) == (8192, ["+1"])
    assert (await store.instance_settings.get_stored("MEMO_RELATED")) == written
    value = _rows(tmp_path / "memos_prod.db", "SELECT value FROM system_setting WHERE name = 'MEMO_RELATED'")
    assert value == [('{"contentLengthLimit":100,"reactions":["+1"]}',)]


async def test_returned_settings_are_copies(store: Store) -> None:
    first = await store.instance_settings.get("STORAGE")
    first.storage_setting.s3_config.access_key_secret = "leaked"
    first.storage_setting.upload_size_limit_mb = 1
    again = await store.instance_settings.get("STORAGE")
    assert again.storage_setting.upload_size_limit_mb == 30
    assert not again.storage_setting.HasField("s3_config")


async def test_list_instance_settings_returns_stored_rows(store: Store) -> None:
    general = pb.InstanceSetting(key=pb.GENERAL, general_setting=pb.InstanceGeneralSetting())
    await store.instance_settings.upsert(general)
    names = [pb.InstanceSettingKey.Name(s.key) for s in await store.instance_settings.find(FindInstanceSetting())]
    assert names == ["BASIC", "GENERAL"]


async def test_bad_instance_setting_keys_are_invalid(store: Store) -> None:
    for key in ("general", "NOPE", 0):
        with pytest.raises(InvalidValue):
            await store.instance_settings.get(key)


def _refuse_unsafe_transition(current, proposed, providers) -> bool:
    """The rule of the auth spec: refuse moving from safe to 'no password and no provider'."""
    unsafe = lambda general: general.disallow_password_auth and not providers  # noqa: E731
    return not unsafe(proposed) or unsafe(current)


async def test_guarded_general_update_checks_and_writes_atomically(store: Store) -> None:
    locked = pb.InstanceGeneralSetting(disallow_password_auth=True)
    with pytest.raises(GuardRefused):
        await store.instance_settings.update_general_guarded(locked, _refuse_unsafe_transition)
    assert not (await store.instance_settings.get("GENERAL")).general_setting.disallow_password_auth

    await store.identity_providers.create(_provider("corp"))
    stored = await store.instance_settings.update_general_guarded(locked, _refuse_unsafe_transition)
    assert stored.general_setting.disallow_password_auth
    assert (await store.instance_settings.get("GENERAL")).general_setting.disallow_password_auth

    def keep_a_provider(general, remaining) -> bool:
        return not general.disallow_password_auth or bool(remaining)

    with pytest.raises(GuardRefused):
        await store.identity_providers.delete("corp", is_safe=keep_a_provider)
    assert await store.identity_providers.get(FindIdentityProvider(uid="corp")) is not None
    await store.identity_providers.create(_provider("backup"))
    await store.identity_providers.delete("corp", is_safe=keep_a_provider)
    assert [p.uid for p in await store.identity_providers.all()] == ["backup"]
