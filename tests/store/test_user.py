"""Users through store.users: lookups, changes, the first-user race, SSO provisioning and the cascading delete."""
from __future__ import annotations

import asyncio
import json
import pathlib

import apsw
import pytest
from support import insert_memo as _insert_memo
from support import sqlite_rows as _rows

from memos.gen.store import user_setting_pb2
from memos.store import (
    Conflict,
    CreateUser,
    FindUser,
    FindUserIdentity,
    InvalidValue,
    NotFound,
    Store,
    UpdateUser,
    User,
)

pytestmark = pytest.mark.anyio

UserSetting = user_setting_pb2.UserSetting


async def test_create_and_get_user(store: Store) -> None:
    create = CreateUser(username="alice", password_hash="$2a$10$x", nickname="Alice", email="a@x.org")
    user = await store.users.create(create)
    assert (user.id, user.role, user.row_status, user.description) == (1, "USER", "NORMAL", "")
    assert user.created_ts == user.updated_ts > 0
    assert await store.users.get(FindUser(id=user.id)) == user
    assert await store.users.get(FindUser(username="alice")) == user
    assert await store.users.get(FindUser(username="bob")) is None
    assert await store.users.get(FindUser(id=99)) is None
    with pytest.raises(InvalidValue):
        await store.users.get(FindUser())


async def test_taken_username_is_a_conflict(store: Store) -> None:
    await store.users.create(CreateUser(username="alice", password_hash="x"))
    with pytest.raises(Conflict):
        await store.users.create(CreateUser(username="alice", password_hash="y"))
    assert await store.users.count(FindUser()) == 1


async def test_list_users_order_filters_and_paging(store: Store) -> None:
    await store.users.create(CreateUser(username="old", password_hash="x", created_ts=100))
    await store.users.create(CreateUser(username="archived", password_hash="x", created_ts=200, row_status="ARCHIVED"))
    await store.users.create(CreateUser(username="same-a", password_hash="x", created_ts=300))
    await store.users.create(CreateUser(username="same-b", password_hash="x", created_ts=300, role="ADMIN"))
    names = [u.username for u in await store.users.find(FindUser())]
    assert names == ["same-b", "same-a", "archived", "old"]
    assert [u.username for u in await store.users.find(FindUser(role="ADMIN"))] == ["same-b"]
    assert [u.username for u in await store.users.find(FindUser(row_status="ARCHIVED"))] == ["archived"]
    assert [u.username for u in await store.users.find(FindUser(limit=2, offset=1))] == ["same-a", "archived"]
    assert [u.username for u in await store.users.find(FindUser(limit=1))] == ["same-b"]
    assert await store.users.count(FindUser()) == 4 and await store.users.count(FindUser(role="ADMIN")) == 1


async def test_update_user_touches_only_given_fields_and_is_read_back(store: Store) -> None:
    user = await store.users.create(CreateUser(username="alice", password_hash="x", created_ts=100))
    await store.users.get(FindUser(id=user.id))  # cached
    updated = await store.users.update(UpdateUser(user.id, nickname="Al", row_status="ARCHIVED"))
    assert (updated.nickname, updated.row_status, updated.username) == ("Al", "ARCHIVED", "alice")
    assert updated.updated_ts == user.updated_ts
    assert await store.users.get(FindUser(id=user.id)) == updated
    with pytest.raises(NotFound):
        await store.users.update(UpdateUser(42, nickname="x"))
    with pytest.raises(TypeError):  # a change object has no field for a column that is never written
        UpdateUser(user.id, created_ts=5)  # type: ignore[call-arg]
    with pytest.raises(InvalidValue):
        await store.users.create(CreateUser(username="", password_hash="x"))
    await store.users.create(CreateUser(username="bob", password_hash="x"))
    with pytest.raises(Conflict):
        await store.users.update(UpdateUser(user.id, username="bob"))


async def test_delete_user_forgets_it(store: Store) -> None:
    user = await store.users.create(CreateUser(username="alice", password_hash="x"))
    assert await store.users.get(FindUser(id=user.id)) == user  # cached
    await store.users.delete(user.id)
    assert await store.users.get(FindUser(id=user.id)) is None
    with pytest.raises(NotFound):
        await store.users.delete(user.id)


async def test_first_user_creation_has_exactly_one_winner(store: Store) -> None:
    results = await asyncio.gather(
        *(store.users.create_first(CreateUser(username=f"user{i}", password_hash="x")) for i in range(12))
    )
    winners = [user for user in results if user is not None]
    assert len(winners) == 1 and winners[0].role == "ADMIN"
    assert await store.users.count(FindUser()) == 1
    assert await store.users.create_first(CreateUser(username="late", password_hash="x")) is None


async def test_user_with_identity_is_all_or_nothing(store: Store, db_path: pathlib.Path) -> None:
    user = await store.users.create_with_identity(
        CreateUser("alice", "h", nickname="Alice", email="a@x"), provider="corp", extern_uid="sub-1"
    )
    assert (user.username, user.role, user.nickname, user.email) == ("alice", "USER", "Alice", "a@x")
    assert (await store.user_identities.get(FindUserIdentity(provider="corp", extern_uid="sub-1"))).user_id == user.id

    with pytest.raises(Conflict) as taken_name:
        await store.users.create_with_identity(CreateUser("alice", "h"), provider="corp", extern_uid="sub-2")
    assert "user.username" in taken_name.value.columns
    assert await store.user_identities.get(FindUserIdentity(provider="corp", extern_uid="sub-2")) is None

    with pytest.raises(Conflict) as linked_meanwhile:
        await store.users.create_with_identity(CreateUser("alice2", "h"), provider="corp", extern_uid="sub-1")
    assert "user_identity.extern_uid" in linked_meanwhile.value.columns
    assert await store.users.get(FindUser(username="alice2")) is None
    assert _rows(db_path, "SELECT COUNT(*) FROM user") == [(1,)]


async def test_concurrent_first_logins_converge_on_one_link(store: Store) -> None:
    async def sign_in(attempt: int):
        try:
            return await store.users.create_with_identity(
                CreateUser(f"alice{attempt}", "h"), provider="corp", extern_uid="alice"
            )
        except Conflict:
            link = await store.user_identities.get(FindUserIdentity(provider="corp", extern_uid="alice"))
            return await store.users.get(FindUser(id=link.user_id))

    users = await asyncio.gather(*(sign_in(i) for i in range(8)))
    assert len({user.id for user in users}) == 1
    assert await store.users.count(FindUser()) == 1


async def test_user_delete_removes_their_memos_comment_trees_and_dependent_rows(store: Store, db_path) -> None:
    alice = await store.users.create(CreateUser(username="alice", password_hash="x"))
    bob = await store.users.create(CreateUser(username="bob", password_hash="x"))
    carol = await store.users.create(CreateUser(username="carol", password_hash="x"))
    a1 = await _insert_memo(store, "a1", alice.id, created_ts=1)
    a2 = await _insert_memo(store, "a2", alice.id, created_ts=2)
    b1 = await _insert_memo(store, "b1", bob.id, created_ts=3)
    b2 = await _insert_memo(store, "b2", bob.id, created_ts=4, comment_on=a1)
    c1 = await _insert_memo(store, "c1", carol.id, created_ts=5, comment_on=b2)
    c2 = await _insert_memo(store, "c2", carol.id, created_ts=6, comment_on=b1)
    c3 = await _insert_memo(store, "c3", carol.id, created_ts=7)

    def rows(conn: apsw.Connection) -> None:
        conn.execute(
            "INSERT INTO memo_relation VALUES (?, ?, 'REFERENCE'), (?, ?, 'REFERENCE')", (c3, a1, b1, c3)
        )
        conn.execute(
            "INSERT INTO attachment (uid, creator_id, memo_id, storage_type, reference, payload) VALUES"
            " ('att1', ?, NULL, 'LOCAL', '/data/assets/a.png', '{}'),"
            " ('att2', ?, ?, 'S3', 'https://s3/b', '{\"s3Object\":{\"key\":\"assets/b\"}}'),"
            " ('att3', ?, ?, 'LOCAL', '/data/assets/c.png', '{}'),"
            " ('att4', ?, ?, '', '', '{}')",
            (alice.id, bob.id, b2, bob.id, b1, carol.id, c1),
        )
        conn.execute(
            "INSERT INTO reaction (creator_id, content_id, reaction_type) VALUES"
            " (?, 'memos/a1', '👍'), (?, 'memos/b1', '🎉'), (?, 'memos/b1', '👍'), (?, 'memos/c1', '👍')",
            (bob.id, alice.id, bob.id, bob.id),
        )
        conn.execute(
            "INSERT INTO memo_share (uid, memo_id, creator_id) VALUES"
            " ('s1', ?, ?), ('s2', ?, ?), ('s3', ?, ?)",
            (b1, alice.id, a2, bob.id, b1, bob.id),
        )
        conn.execute(
            "INSERT INTO inbox (sender_id, receiver_id, status, message) VALUES"
            " (?, ?, 'UNREAD', '{}'),"
            " (?, ?, 'UNREAD', ?), (?, ?, 'UNREAD', ?), (?, ?, 'UNREAD', ?), (?, ?, 'UNREAD', 'not json')",
            (alice.id, bob.id,
             bob.id, carol.id, json.dumps({"type": "MEMO_COMMENT", "memoComment": {"memoId": c1, "relatedMemoId": b2}}),
             bob.id, carol.id, json.dumps({"type": "MEMO_MENTION", "memoMention": {"memoId": b1}}),
             carol.id, bob.id, json.dumps({"type": "MEMO_COMMENT", "memoComment": {"memoId": str(c2),
                                                                                   "relatedMemoId": b1}}),
             carol.id, bob.id),
        )
        conn.execute(
            "INSERT INTO user_identity (user_id, provider, extern_uid) VALUES (?, 'corp', 'a'), (?, 'corp', 'b')",
            (alice.id, bob.id),
        )

    await store.driver.run_write(rows)
    for user in (alice, bob):
        await store.user_settings.upsert(user_setting_pb2.UserSetting(
            user_id=user.id, key=user_setting_pb2.UserSetting.GENERAL,
            general=user_setting_pb2.GeneralUserSetting(locale="fr"),
        ))
    assert await store.user_settings.get(alice.id, "GENERAL") is not None  # cached now

    removed = await store.users.delete(alice.id)

    assert [(a.uid, a.storage_type, a.reference) for a in removed] == [
        ("att1", "LOCAL", "/data/assets/a.png"), ("att2", "S3", "https://s3/b"), ("att4", "", "")
    ]
    assert removed[1].payload.s3_object.key == "assets/b"
    assert _rows(db_path, "SELECT uid FROM memo ORDER BY id") == [("b1",), ("c2",), ("c3",)]
    assert _rows(db_path, "SELECT memo_id, related_memo_id, type FROM memo_relation ORDER BY memo_id") == [
        (b1, c3, "REFERENCE"), (c2, b1, "COMMENT")
    ]
    assert _rows(db_path, "SELECT uid FROM attachment") == [("att3",)]
    assert _rows(db_path, "SELECT creator_id, content_id, reaction_type FROM reaction") == [
        (bob.id, "memos/b1", "👍")
    ]
    assert _rows(db_path, "SELECT uid FROM memo_share") == [("s3",)]
    assert len(_rows(db_path, "SELECT id FROM inbox")) == 3  # the mention of b1, c2's comment, the malformed row
    assert _rows(db_path, "SELECT user_id FROM user_identity") == [(bob.id,)]
    assert _rows(db_path, "SELECT user_id FROM user_setting") == [(bob.id,)]
    assert await store.users.get(FindUser(id=alice.id)) is None
    assert await store.user_settings.get(alice.id, "GENERAL") is None
    with pytest.raises(NotFound):
        await store.users.delete(alice.id)


async def test_deleting_a_demo_user_keeps_the_others_data(v030_database: pathlib.Path) -> None:
    # Ben (id 3) owns the golden-hour memo with its attachment; Zoe and Ben commented on it.
    memos_before = _rows(v030_database, "SELECT COUNT(*) FROM memo")[0][0]
    bens = _rows(v030_database, "SELECT COUNT(*) FROM memo WHERE creator_id = 3")[0][0]
    store = await Store.open("sqlite", str(v030_database), deployment_dir=None)
    try:
        removed = await store.users.delete(3)
    finally:
        await store.close()
    assert [a.uid for a in removed] == ["goldenhourart1"]
    # Ben's memos go, plus Zoe's comment on his golden-hour memo (memo 23).
    assert _rows(v030_database, "SELECT COUNT(*) FROM memo")[0][0] == memos_before - bens - 1
    assert _rows(v030_database, "SELECT COUNT(*) FROM memo WHERE id IN (1, 14, 20, 22)") == [(4,)]
    assert _rows(v030_database, "SELECT COUNT(*) FROM reaction WHERE creator_id = 3"
                                " OR content_id = 'memos/goldenhour0001'") == [(0,)]
    assert _rows(v030_database, "SELECT COUNT(*) FROM reaction WHERE content_id = 'memos/welcome0000001'") == [(2,)]
    assert _rows(v030_database, "SELECT username FROM user ORDER BY id") == [("steven",), ("alice",), ("zoe",)]


async def test_a_find_object_reaches_the_dialect_unchanged(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # FindUser.email was added as one field of the Find object; the SQLite dialect
    # turns every given field into a condition, so it filters with no other edit.
    await store.users.create(CreateUser("alice", "x", email="alice@example.com"))
    await store.users.create(CreateUser("bob", "x", email="bob@example.com"))
    dialect = store.driver.users
    received: list[FindUser] = []
    real_find = dialect.find

    async def recording_find(find: FindUser) -> list[User]:
        received.append(find)
        return await real_find(find)

    monkeypatch.setattr(dialect, "find", recording_find)
    find = FindUser(email="bob@example.com", row_status="NORMAL")
    assert [user.username for user in await store.users.find(find)] == ["bob"]
    assert received == [find] and received[0] is find
    assert await store.users.count(FindUser(email="carol@example.com")) == 0
    assert (await store.users.get(FindUser(email="alice@example.com"))).username == "alice"
