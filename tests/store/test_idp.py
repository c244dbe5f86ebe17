"""Identity providers through store.identity_providers: storage format, order, uid rule, guarded deletes."""
from __future__ import annotations

import asyncio
import json
import pathlib

import pytest
from support import sample_identity_provider as _provider
from support import sqlite_execute as _execute
from support import sqlite_rows as _rows

from memos.gen.store import instance_setting_pb2 as settings_pb
from memos.store import (
    Conflict,
    FindIdentityProvider,
    InvalidValue,
    NotFound,
    Store,
)

pytestmark = pytest.mark.anyio



async def test_provider_config_column_holds_the_oauth2_config_itself(store: Store, db_path: pathlib.Path) -> None:
    created = await store.identity_providers.create(_provider("corp-sso"))
    assert created.id > 0 and created.uid == "corp-sso"
    [(type_, config)] = _rows(db_path, "SELECT type, config FROM idp")
    assert type_ == "OAUTH2"
    stored = json.loads(config)
    assert stored["clientSecret"] == "s3cret"
    assert stored["fieldMapping"] == {"identifier": "email", "displayName": "name"}
    assert "oauth2Config" not in stored
    assert await store.identity_providers.get(FindIdentityProvider(uid="corp-sso")) == created


async def test_providers_are_listed_in_id_order_and_updated_and_deleted(store: Store) -> None:
    for uid in ("zeta", "alpha", "mid"):
        await store.identity_providers.create(_provider(uid))
    assert [p.uid for p in await store.identity_providers.all()] == ["zeta", "alpha", "mid"]

    changed = _provider("alpha", title="Renamed", secret="new")
    changed.identifier_filter = ""
    updated = await store.identity_providers.update(changed)
    assert (updated.name, updated.identifier_filter) == ("Renamed", "")
    alpha = await store.identity_providers.get(FindIdentityProvider(uid="alpha"))
    assert alpha.config.oauth2_config.client_secret == "new"

    await store.identity_providers.delete("alpha")
    assert await store.identity_providers.get(FindIdentityProvider(uid="alpha")) is None
    with pytest.raises(NotFound):
        await store.identity_providers.delete("alpha")
    with pytest.raises(NotFound):
        await store.identity_providers.update(_provider("alpha"))


async def test_provider_uids_follow_the_uid_rule_and_are_unique(store: Store) -> None:
    for bad in ("", "-lead", "trail-", "a" * 37, "with space", "ünï", "a_b"):
        with pytest.raises(InvalidValue, match="invalid uid"):
            await store.identity_providers.create(_provider(bad))
    for good in ("1", "12345", "a" * 36, "A-b-9"):
        await store.identity_providers.create(_provider(good))
    with pytest.raises(Conflict):
        await store.identity_providers.create(_provider("12345"))


async def test_legacy_provider_rows_read_leniently(store: Store, db_path: pathlib.Path) -> None:
    # A row without fieldMapping (Memos crashes on it), one wrapped in IdentityProviderConfig
    # with an unknown key and spaced JSON, as other writers leave them.
    _execute(
        db_path,
        "INSERT INTO idp (uid, name, type, config) VALUES"
        " ('bare', 'Bare', 'OAUTH2', '{\"clientId\":\"c\"}'),"
        " ('wrapped', 'Wrapped', 'OAUTH2', '{ \"oauth2Config\": {\"clientId\": \"w\", \"obsolete\": 1,"
        " \"fieldMapping\": {\"identifier\": \"sub\"}} }')",
    )
    bare, wrapped = await store.identity_providers.all()
    assert bare.config.oauth2_config.client_id == "c"
    assert bare.config.oauth2_config.HasField("field_mapping")
    assert bare.config.oauth2_config.field_mapping.identifier == ""
    assert wrapped.config.oauth2_config.client_id == "w"
    assert wrapped.config.oauth2_config.field_mapping.identifier == "sub"


async def test_concurrent_guarded_deletes_leave_one_provider(store: Store) -> None:
    await store.identity_providers.create(_provider("one"))
    await store.identity_providers.create(_provider("two"))
    await store.instance_settings.update_general_guarded(
        settings_pb.InstanceGeneralSetting(disallow_password_auth=True), lambda *_: True
    )

    def keep_a_provider(general, remaining) -> bool:
        return bool(remaining)

    results = await asyncio.gather(
        store.identity_providers.delete("one", is_safe=keep_a_provider),
        store.identity_providers.delete("two", is_safe=keep_a_provider),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["GuardRefused", "NoneType"]
    assert len(await store.identity_providers.all()) == 1
