"""User settings through store.user_settings: read-your-writes, unknown keys, personal access tokens."""
from __future__ import annotations

import datetime
import json
import pathlib

import pytest
from support import sqlite_rows as _rows

from memos.gen.store import user_setting_pb2
from memos.store import (
    CreateUser,
    FindUserSetting,
    InvalidValue,
    Store,
)

pytestmark = pytest.mark.anyio

UserSetting = user_setting_pb2.UserSetting


async def test_user_settings_read_your_writes(store: Store) -> None:
    user = await store.users.create(CreateUser(username="alice", password_hash="x"))
    assert await store.user_settings.get(user.id, "GENERAL") is None
    general = UserSetting(
        user_id=user.id, key=UserSetting.GENERAL, general=user_setting_pb2.GeneralUserSetting(locale="de")
    )
    await store.user_settings.upsert(general)
    assert await store.user_settings.get(user.id, "GENERAL") == general
    general.general.theme = "dark"
    await store.user_settings.upsert(general)
    assert (await store.user_settings.get(user.id, UserSetting.GENERAL)).general.theme == "dark"
    tags = UserSetting(user_id=user.id, key=UserSetting.TAGS, tags=user_setting_pb2.TagsUserSetting())
    await store.user_settings.upsert(tags)
    stored = await store.user_settings.find(FindUserSetting(user_id=user.id))
    assert [s.key for s in stored] == [UserSetting.GENERAL, UserSetting.TAGS]
    await store.user_settings.delete(user.id, "GENERAL")
    assert await store.user_settings.get(user.id, "GENERAL") is None
    assert [s.key for s in await store.user_settings.find(FindUserSetting(user_id=user.id))] == [UserSetting.TAGS]


async def test_user_settings_with_unknown_keys_are_skipped(store: Store) -> None:
    await store.driver.run_write(
        lambda conn: conn.execute("INSERT INTO user_setting VALUES (7, 'MEMO_COMMENT', '{}'), (7, 'TAGS', '{}')")
    )
    assert [s.key for s in await store.user_settings.find(FindUserSetting(user_id=7))] == [UserSetting.TAGS]
    with pytest.raises(InvalidValue):
        await store.user_settings.get(7, "MEMO_COMMENT")


async def test_user_setting_needs_a_user_and_a_matching_value(store: Store) -> None:
    with pytest.raises(InvalidValue):
        await store.user_settings.upsert(UserSetting(key=UserSetting.GENERAL))
    with pytest.raises(InvalidValue):
        await store.user_settings.upsert(
            UserSetting(user_id=1, key=UserSetting.TAGS, general=user_setting_pb2.GeneralUserSetting())
        )


async def test_pat_last_used_only_moves_forward(store: Store, db_path: pathlib.Path) -> None:
    user = await store.users.create(CreateUser(username="alice", password_hash="x"))
    setting = user_setting_pb2.UserSetting(user_id=user.id, key=user_setting_pb2.UserSetting.PERSONAL_ACCESS_TOKENS)
    tokens = setting.personal_access_tokens.tokens
    tokens.add(token_id="t1", token_hash="h1", description="ci")
    tokens.add(token_id="t2", token_hash="h2")
    await store.user_settings.upsert(setting)
    await store.user_settings.get(user.id, "PERSONAL_ACCESS_TOKENS")  # cached before the touch

    later = datetime.datetime(2026, 5, 1, 12, 0, 0, 250000, tzinfo=datetime.UTC)
    earlier = later - datetime.timedelta(hours=1)
    assert await store.user_settings.touch_personal_access_token(user.id, "t1", later)
    assert not await store.user_settings.touch_personal_access_token(user.id, "t1", earlier)
    assert not await store.user_settings.touch_personal_access_token(user.id, "missing", later)
    assert not await store.user_settings.touch_personal_access_token(999, "t1", later)

    cached = await store.user_settings.get(user.id, "PERSONAL_ACCESS_TOKENS")
    first, second = cached.personal_access_tokens.tokens
    assert first.last_used_at.ToDatetime(datetime.UTC) == later and first.description == "ci"
    assert not second.HasField("last_used_at")
    [(value,)] = _rows(db_path, "SELECT value FROM user_setting WHERE key = 'PERSONAL_ACCESS_TOKENS'")
    assert json.loads(value)["tokens"][0]["lastUsedAt"] == "2026-05-01T12:00:00.250Z"
    assert (await store.user_settings.find_personal_access_token("h1"))[1].last_used_at == first.last_used_at
