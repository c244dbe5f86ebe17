from __future__ import annotations

import asyncio
import hashlib
import pathlib
import uuid

import pytest
from support import sqlite_rows as _rows

from memos.gen.store import instance_setting_pb2 as pb
from memos.gen.store import user_setting_pb2
from memos.store import Conflict, InvalidValue, NotFound, Store, StoreError

pytestmark = pytest.mark.anyio

UserSetting = user_setting_pb2.UserSetting


# --- opening ----------------------------------------------------------------------


async def test_first_start_leaves_exactly_one_basic_row_with_version_and_secret(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "memos_prod.db"
    store = await Store.open("sqlite", str(path))
    basic = await store.basic_setting()
    await store.close()
    assert basic.schema_version == "0.30.1"
    assert str(uuid.UUID(basic.secret_key, version=4)) == basic.secret_key
    assert [name for (name,) in _rows(path, "SELECT name FROM system_setting")] == ["BASIC"]
    assert _rows(path, "SELECT COUNT(*) FROM user") == [(0,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memos_prod.db"]


async def test_reopening_changes_nothing_and_keeps_the_secret(tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / "memos_prod.db")
    store = await Store.open("sqlite", path)
    secret = (await store.basic_setting()).secret_key
    await store.close()
    before = _rows(tmp_path / "memos_prod.db", "SELECT name, value, description FROM system_setting")
    store = await Store.open("sqlite", path)
    assert (await store.basic_setting()).secret_key == secret
    await store.close()
    assert _rows(tmp_path / "memos_prod.db", "SELECT name, value, description FROM system_setting") == before


async def test_unknown_and_unsupported_drivers_are_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(StoreError, match="unknown db driver: oracle"):
        await Store.open("oracle", str(tmp_path / "x.db"))
    with pytest.raises(StoreError, match="postgres"):
        await Store.open("postgres", "postgres://localhost/memos")


async def test_demo_mode_opens_and_is_marked(tmp_path: pathlib.Path) -> None:
    store = await Store.open("sqlite", str(tmp_path / "memos_demo.db"), demo=True)
    try:
        assert store.demo
        assert (await store.basic_setting()).schema_version == "0.30.1"
    finally:
        await store.close()


# --- an existing Memos v0.30 database ------------------------------------------------


async def test_memos_v030_database_reads_unchanged(v030_database: pathlib.Path) -> None:
    users_before = _rows(v030_database, "SELECT id, username, role, nickname, password_hash FROM user ORDER BY id")
    related_before = _rows(v030_database, "SELECT value FROM system_setting WHERE name = 'MEMO_RELATED'")
    store = await Store.open("sqlite", str(v030_database))
    try:
        users = await store.list_users()
        assert sorted((u.id, u.username, u.role, u.nickname, u.password_hash) for u in users) == users_before
        assert (await store.get_user(username="steven")).role == "ADMIN"
        assert await store.count_users(role="ADMIN") == 1

        related = (await store.get_instance_setting("MEMO_RELATED")).memo_related_setting
        assert related.content_length_limit == 8192
        assert list(related.reactions)[:3] == ["👍", "💛", "🔥"] and len(related.reactions) == 15

        tokens = await store.get_user_setting(1, "PERSONAL_ACCESS_TOKENS")
        assert [t.token_id for t in tokens.personal_access_tokens.tokens] == ["demo-access-token"]
        assert tokens.personal_access_tokens.tokens[0].created_at.seconds == 1704067200

        demo_hash = hashlib.sha256(b"memos_pat_demo").hexdigest()
        found = await store.find_personal_access_token(demo_hash)
        assert found is not None and found[0] == 1 and found[1].description == "Demo access token"
        assert await store.find_personal_access_token("0" * 64) is None

        basic = await store.basic_setting()
        assert basic.schema_version == "0.30.1" and basic.secret_key
    finally:
        await store.close()
    # Reading wrote nothing back: obsolete keys of the old row are still there.
    assert _rows(v030_database, "SELECT value FROM system_setting WHERE name = 'MEMO_RELATED'") == related_before


# --- instance settings ----------------------------------------------------------------


async def test_missing_settings_read_with_defaults_and_raw_is_none(store: Store) -> None:
    storage = await store.get_instance_setting("STORAGE")
    assert storage.key == pb.STORAGE
    assert storage.storage_setting.storage_type == pb.InstanceStorageSetting.LOCAL
    assert await store.get_instance_setting_raw("STORAGE") is None
    general = await store.get_instance_setting(pb.GENERAL)
    assert general.WhichOneof("value") == "general_setting"


async def test_instance_setting_read_your_writes_without_persisting_defaults(
    tmp_path: pathlib.Path, store: Store
) -> None:
    await store.get_instance_setting("MEMO_RELATED")  # warm the cache
    written = pb.InstanceSetting(
        key=pb.MEMO_RELATED,
        memo_related_setting=pb.InstanceMemoRelatedSetting(content_length_limit=100, reactions=["+1"]),
    )
    stored = await store.upsert_instance_setting(written)
    assert stored == written
    effective = (await store.get_instance_setting("MEMO_RELATED")).memo_related_setting
    assert (effective.content_length_limit, list(effective.reactions)) == (8192, ["+1"])
    assert (await store.get_instance_setting_raw("MEMO_RELATED")) == written
    value = _rows(tmp_path / "memos_prod.db", "SELECT value FROM system_setting WHERE name = 'MEMO_RELATED'")
    assert value == [('{"contentLengthLimit":100,"reactions":["+1"]}',)]


async def test_returned_settings_are_copies(store: Store) -> None:
    first = await store.get_instance_setting("STORAGE")
    first.storage_setting.s3_config.access_key_secret = "leaked"
    first.storage_setting.upload_size_limit_mb = 1
    again = await store.get_instance_setting("STORAGE")
    assert again.storage_setting.upload_size_limit_mb == 30
    assert not again.storage_setting.HasField("s3_config")


async def test_list_instance_settings_returns_stored_rows(store: Store) -> None:
    general = pb.InstanceSetting(key=pb.GENERAL, general_setting=pb.InstanceGeneralSetting())
    await store.upsert_instance_setting(general)
    names = [pb.InstanceSettingKey.Name(s.key) for s in await store.list_instance_settings()]
    assert names == ["BASIC", "GENERAL"]


async def test_bad_instance_setting_keys_are_invalid(store: Store) -> None:
    for key in ("general", "NOPE", 0):
        with pytest.raises(InvalidValue):
            await store.get_instance_setting(key)


# --- users --------------------------------------------------------------------------------


async def test_create_and_get_user(store: Store) -> None:
    user = await store.create_user(username="alice", password_hash="$2a$10$x", nickname="Alice", email="a@x.org")
    assert (user.id, user.role, user.row_status, user.description) == (1, "USER", "NORMAL", "")
    assert user.created_ts == user.updated_ts > 0
    assert await store.get_user(id=user.id) == user
    assert await store.get_user(username="alice") == user
    assert await store.get_user(username="bob") is None
    assert await store.get_user(id=99) is None
    with pytest.raises(InvalidValue):
        await store.get_user()


async def test_taken_username_is_a_conflict(store: Store) -> None:
    await store.create_user(username="alice", password_hash="x")
    with pytest.raises(Conflict):
        await store.create_user(username="alice", password_hash="y")
    assert await store.count_users() == 1


async def test_list_users_order_filters_and_paging(store: Store) -> None:
    await store.create_user(username="old", password_hash="x", created_ts=100)
    await store.create_user(username="archived", password_hash="x", created_ts=200, row_status="ARCHIVED")
    await store.create_user(username="same-a", password_hash="x", created_ts=300)
    await store.create_user(username="same-b", password_hash="x", created_ts=300, role="ADMIN")
    names = [u.username for u in await store.list_users()]
    assert names == ["same-b", "same-a", "archived", "old"]
    assert [u.username for u in await store.list_users(role="ADMIN")] == ["same-b"]
    assert [u.username for u in await store.list_users(row_status="ARCHIVED")] == ["archived"]
    assert [u.username for u in await store.list_users(limit=2, offset=1)] == ["same-a", "archived"]
    assert [u.username for u in await store.list_users(limit=1)] == ["same-b"]
    assert await store.count_users() == 4 and await store.count_users(role="ADMIN") == 1


async def test_update_user_touches_only_given_fields_and_is_read_back(store: Store) -> None:
    user = await store.create_user(username="alice", password_hash="x", created_ts=100)
    await store.get_user(id=user.id)  # cached
    updated = await store.update_user(user.id, nickname="Al", row_status="ARCHIVED")
    assert (updated.nickname, updated.row_status, updated.username) == ("Al", "ARCHIVED", "alice")
    assert updated.updated_ts == user.updated_ts
    assert await store.get_user(id=user.id) == updated
    with pytest.raises(NotFound):
        await store.update_user(42, nickname="x")
    with pytest.raises(InvalidValue):
        await store.update_user(user.id, id=5)
    await store.create_user(username="bob", password_hash="x")
    with pytest.raises(Conflict):
        await store.update_user(user.id, username="bob")


async def test_delete_user_forgets_it(store: Store) -> None:
    user = await store.create_user(username="alice", password_hash="x")
    assert await store.get_user(id=user.id) == user  # cached
    await store.delete_user(user.id)
    assert await store.get_user(id=user.id) is None
    with pytest.raises(NotFound):
        await store.delete_user(user.id)


async def test_first_user_creation_has_exactly_one_winner(store: Store) -> None:
    results = await asyncio.gather(
        *(store.create_first_user(username=f"user{i}", password_hash="x") for i in range(12))
    )
    winners = [user for user in results if user is not None]
    assert len(winners) == 1 and winners[0].role == "ADMIN"
    assert await store.count_users() == 1
    assert await store.create_first_user(username="late", password_hash="x") is None


# --- user settings -----------------------------------------------------------------------------


async def test_user_settings_read_your_writes(store: Store) -> None:
    user = await store.create_user(username="alice", password_hash="x")
    assert await store.get_user_setting(user.id, "GENERAL") is None
    general = UserSetting(
        user_id=user.id, key=UserSetting.GENERAL, general=user_setting_pb2.GeneralUserSetting(locale="de")
    )
    await store.upsert_user_setting(general)
    assert await store.get_user_setting(user.id, "GENERAL") == general
    general.general.theme = "dark"
    await store.upsert_user_setting(general)
    assert (await store.get_user_setting(user.id, UserSetting.GENERAL)).general.theme == "dark"
    tags = UserSetting(user_id=user.id, key=UserSetting.TAGS, tags=user_setting_pb2.TagsUserSetting())
    await store.upsert_user_setting(tags)
    assert [s.key for s in await store.list_user_settings(user.id)] == [UserSetting.GENERAL, UserSetting.TAGS]
    await store.delete_user_setting(user.id, "GENERAL")
    assert await store.get_user_setting(user.id, "GENERAL") is None
    assert [s.key for s in await store.list_user_settings(user.id)] == [UserSetting.TAGS]


async def test_user_settings_with_unknown_keys_are_skipped(store: Store) -> None:
    await store.driver.run_write(
        lambda conn: conn.execute("INSERT INTO user_setting VALUES (7, 'MEMO_COMMENT', '{}'), (7, 'TAGS', '{}')")
    )
    assert [s.key for s in await store.list_user_settings(7)] == [UserSetting.TAGS]
    with pytest.raises(InvalidValue):
        await store.get_user_setting(7, "MEMO_COMMENT")


async def test_user_setting_needs_a_user_and_a_matching_value(store: Store) -> None:
    with pytest.raises(InvalidValue):
        await store.upsert_user_setting(UserSetting(key=UserSetting.GENERAL))
    with pytest.raises(InvalidValue):
        await store.upsert_user_setting(
            UserSetting(user_id=1, key=UserSetting.TAGS, general=user_setting_pb2.GeneralUserSetting())
        )
