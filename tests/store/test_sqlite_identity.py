"""Identity storage through the Store facade on real SQLite files: identity providers, linked
identities, inbox, memo reads for statistics, the cascading user delete, PAT use and guarded writes."""
from __future__ import annotations

import asyncio
import datetime
import json
import pathlib

import apsw
import pytest

from memos.gen.store import idp_pb2, inbox_pb2
from memos.gen.store import instance_setting_pb2 as settings_pb
from memos.gen.store import user_setting_pb2
from memos.store import Conflict, GuardRefused, InvalidValue, NotFound, Store

pytestmark = pytest.mark.anyio

IdentityProvider = idp_pb2.IdentityProvider
InboxMessage = inbox_pb2.InboxMessage


def _rows(path: pathlib.Path, sql: str, args: tuple = ()) -> list[tuple]:
    conn = apsw.Connection(str(path))
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _execute(path: pathlib.Path, sql: str) -> None:
    conn = apsw.Connection(str(path))
    try:
        with conn:
            conn.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def db_path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "memos_prod.db"


@pytest.fixture
async def store(db_path: pathlib.Path, tmp_path: pathlib.Path):
    opened = await Store.open("sqlite", str(db_path), deployment_dir=tmp_path / "no-secrets")
    yield opened
    await opened.close()


def _provider(uid: str, title: str = "Example SSO", secret: str = "s3cret") -> IdentityProvider:
    return IdentityProvider(
        uid=uid,
        name=title,
        type=IdentityProvider.OAUTH2,
        identifier_filter="@example\\.com$",
        config=idp_pb2.IdentityProviderConfig(
            oauth2_config=idp_pb2.OAuth2Config(
                client_id="client",
                client_secret=secret,
                auth_url="https://sso.example.com/auth",
                token_url="https://sso.example.com/token",
                user_info_url="https://sso.example.com/userinfo",
                scopes=["openid", "email"],
                field_mapping=idp_pb2.FieldMapping(identifier="email", display_name="name"),
            )
        ),
    )


# --- identity providers ----------------------------------------------------------------


async def test_provider_config_column_holds_the_oauth2_config_itself(store: Store, db_path: pathlib.Path) -> None:
    created = await store.create_identity_provider(_provider("corp-sso"))
    assert created.id > 0 and created.uid == "corp-sso"
    [(type_, config)] = _rows(db_path, "SELECT type, config FROM idp")
    assert type_ == "OAUTH2"
    stored = json.loads(config)
    assert stored["clientSecret"] == "s3cret"
    assert stored["fieldMapping"] == {"identifier": "email", "displayName": "name"}
    assert "oauth2Config" not in stored
    assert await store.get_identity_provider(uid="corp-sso") == created


async def test_providers_are_listed_in_id_order_and_updated_and_deleted(store: Store) -> None:
    for uid in ("zeta", "alpha", "mid"):
        await store.create_identity_provider(_provider(uid))
    assert [p.uid for p in await store.list_identity_providers()] == ["zeta", "alpha", "mid"]

    changed = _provider("alpha", title="Renamed", secret="new")
    changed.identifier_filter = ""
    updated = await store.update_identity_provider(changed)
    assert (updated.name, updated.identifier_filter) == ("Renamed", "")
    assert (await store.get_identity_provider(uid="alpha")).config.oauth2_config.client_secret == "new"

    await store.delete_identity_provider("alpha")
    assert await store.get_identity_provider(uid="alpha") is None
    with pytest.raises(NotFound):
        await store.delete_identity_provider("alpha")
    with pytest.raises(NotFound):
        await store.update_identity_provider(_provider("alpha"))


async def test_provider_uids_follow_the_uid_rule_and_are_unique(store: Store) -> None:
    for bad in ("", "-lead", "trail-", "a" * 37, "with space", "ünï", "a_b"):
        with pytest.raises(InvalidValue, match="invalid uid"):
            await store.create_identity_provider(_provider(bad))
    for good in ("1", "12345", "a" * 36, "A-b-9"):
        await store.create_identity_provider(_provider(good))
    with pytest.raises(Conflict):
        await store.create_identity_provider(_provider("12345"))


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
    bare, wrapped = await store.list_identity_providers()
    assert bare.config.oauth2_config.client_id == "c"
    assert bare.config.oauth2_config.HasField("field_mapping")
    assert bare.config.oauth2_config.field_mapping.identifier == ""
    assert wrapped.config.oauth2_config.client_id == "w"
    assert wrapped.config.oauth2_config.field_mapping.identifier == "sub"


# --- lock-out guards -----------------------------------------------------------------------


def _refuse_unsafe_transition(current, proposed, providers) -> bool:
    """The rule of the auth spec: refuse moving from safe to 'no password and no provider'."""
    unsafe = lambda general: general.disallow_password_auth and not providers  # noqa: E731
    return not unsafe(proposed) or unsafe(current)


async def test_guarded_general_update_checks_and_writes_atomically(store: Store) -> None:
    locked = settings_pb.InstanceGeneralSetting(disallow_password_auth=True)
    with pytest.raises(GuardRefused):
        await store.update_general_setting_guarded(locked, _refuse_unsafe_transition)
    assert not (await store.get_instance_setting("GENERAL")).general_setting.disallow_password_auth

    await store.create_identity_provider(_provider("corp"))
    stored = await store.update_general_setting_guarded(locked, _refuse_unsafe_transition)
    assert stored.general_setting.disallow_password_auth
    assert (await store.get_instance_setting("GENERAL")).general_setting.disallow_password_auth

    def keep_a_provider(general, remaining) -> bool:
        return not general.disallow_password_auth or bool(remaining)

    with pytest.raises(GuardRefused):
        await store.delete_identity_provider("corp", is_safe=keep_a_provider)
    assert await store.get_identity_provider(uid="corp") is not None
    await store.create_identity_provider(_provider("backup"))
    await store.delete_identity_provider("corp", is_safe=keep_a_provider)
    assert [p.uid for p in await store.list_identity_providers()] == ["backup"]


async def test_concurrent_guarded_deletes_leave_one_provider(store: Store) -> None:
    await store.create_identity_provider(_provider("one"))
    await store.create_identity_provider(_provider("two"))
    await store.update_general_setting_guarded(
        settings_pb.InstanceGeneralSetting(disallow_password_auth=True), _refuse_unsafe_transition
    )

    def keep_a_provider(general, remaining) -> bool:
        return bool(remaining)

    results = await asyncio.gather(
        store.delete_identity_provider("one", is_safe=keep_a_provider),
        store.delete_identity_provider("two", is_safe=keep_a_provider),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["GuardRefused", "NoneType"]
    assert len(await store.list_identity_providers()) == 1
