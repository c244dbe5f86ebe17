"""Identity storage through the Store facade on real SQLite files: identity providers, linked
identities, inbox, memo reads for statistics, the cascading user delete, PAT use and guarded writes."""
from __future__ import annotations

import asyncio
import datetime
import json
import pathlib

import apsw
import pytest
from support import sqlite_rows as _rows

from memos.gen.store import idp_pb2, inbox_pb2, user_setting_pb2
from memos.gen.store import instance_setting_pb2 as settings_pb
from memos.store import Conflict, GuardRefused, InvalidValue, NotFound, Store

pytestmark = pytest.mark.anyio

IdentityProvider = idp_pb2.IdentityProvider
InboxMessage = inbox_pb2.InboxMessage


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


# --- linked identities -----------------------------------------------------------------------


async def test_identities_link_once_per_account_and_per_user_and_provider(store: Store) -> None:
    alice = await store.create_user(username="alice", password_hash="x")
    bob = await store.create_user(username="bob", password_hash="x")
    link = await store.create_user_identity(user_id=alice.id, provider="corp", extern_uid="alice@corp")
    assert (link.user_id, link.provider, link.extern_uid) == (alice.id, "corp", "alice@corp")
    assert link.created_ts > 0 and link.updated_ts > 0

    with pytest.raises(Conflict) as taken_account:
        await store.create_user_identity(user_id=bob.id, provider="corp", extern_uid="alice@corp")
    assert "user_identity.extern_uid" in taken_account.value.columns
    with pytest.raises(Conflict) as second_account:
        await store.create_user_identity(user_id=alice.id, provider="corp", extern_uid="other@corp")
    assert "user_identity.user_id" in second_account.value.columns

    same_subject_elsewhere = await store.create_user_identity(user_id=bob.id, provider="other", extern_uid="alice@corp")
    assert await store.get_user_identity(provider="corp", extern_uid="alice@corp") == link
    assert await store.list_user_identities(extern_uid="alice@corp") == [link, same_subject_elsewhere]
    assert await store.list_user_identities(user_id=alice.id) == [link]

    await store.delete_user_identity(user_id=alice.id, provider="corp")
    assert await store.list_user_identities(user_id=alice.id) == []
    with pytest.raises(NotFound):
        await store.delete_user_identity(user_id=alice.id, provider="corp")
    await store.delete_user_identity(id=same_subject_elsewhere.id)
    assert await store.get_user_identity(user_id=bob.id) is None


async def test_user_with_identity_is_all_or_nothing(store: Store, db_path: pathlib.Path) -> None:
    user = await store.create_user_with_identity(
        {"username": "alice", "password_hash": "h", "nickname": "Alice", "email": "a@x"}, "corp", "sub-1"
    )
    assert (user.username, user.role, user.nickname, user.email) == ("alice", "USER", "Alice", "a@x")
    assert (await store.get_user_identity(provider="corp", extern_uid="sub-1")).user_id == user.id

    with pytest.raises(Conflict) as taken_name:
        await store.create_user_with_identity({"username": "alice", "password_hash": "h"}, "corp", "sub-2")
    assert "user.username" in taken_name.value.columns
    assert await store.get_user_identity(provider="corp", extern_uid="sub-2") is None

    with pytest.raises(Conflict) as linked_meanwhile:
        await store.create_user_with_identity({"username": "alice2", "password_hash": "h"}, "corp", "sub-1")
    assert "user_identity.extern_uid" in linked_meanwhile.value.columns
    assert await store.get_user(username="alice2") is None
    assert _rows(db_path, "SELECT COUNT(*) FROM user") == [(1,)]


async def test_concurrent_first_logins_converge_on_one_link(store: Store) -> None:
    async def sign_in(attempt: int):
        try:
            return await store.create_user_with_identity(
                {"username": f"alice{attempt}", "password_hash": "h"}, "corp", "alice"
            )
        except Conflict:
            link = await store.get_user_identity(provider="corp", extern_uid="alice")
            return await store.get_user(id=link.user_id)

    users = await asyncio.gather(*(sign_in(i) for i in range(8)))
    assert len({user.id for user in users}) == 1
    assert await store.count_users() == 1


# --- inbox ---------------------------------------------------------------------------------------


def _comment(memo_id: int, related_memo_id: int) -> InboxMessage:
    return InboxMessage(
        type=InboxMessage.MEMO_COMMENT,
        memo_comment=InboxMessage.MemoCommentPayload(memo_id=memo_id, related_memo_id=related_memo_id),
    )


async def test_inbox_round_trip_newest_first(store: Store, db_path: pathlib.Path) -> None:
    first = await store.create_inbox(sender_id=2, receiver_id=1, message=_comment(5, 4), created_ts=100)
    second = await store.create_inbox(
        sender_id=3, receiver_id=1, created_ts=200,
        message=InboxMessage(type=InboxMessage.MEMO_MENTION, memo_mention=InboxMessage.MemoMentionPayload(memo_id=6)),
    )
    await store.create_inbox(sender_id=1, receiver_id=2, message=_comment(7, 6))
    assert first.status == "UNREAD" and first.message == _comment(5, 4)
    assert _rows(db_path, "SELECT message FROM inbox WHERE id = ?", (first.id,)) == [
        ('{"type":"MEMO_COMMENT","memoComment":{"memoId":5,"relatedMemoId":4}}',)
    ]
    assert [m.id for m in await store.list_inboxes(receiver_id=1)] == [second.id, first.id]

    archived = await store.update_inbox(first.id, status="ARCHIVED")
    assert archived.status == "ARCHIVED" and (await store.get_inbox(first.id)).status == "ARCHIVED"
    await store.delete_inbox(first.id)
    assert await store.get_inbox(first.id) is None
    with pytest.raises(NotFound):
        await store.delete_inbox(first.id)
    with pytest.raises(NotFound):
        await store.update_inbox(first.id, status="UNREAD")


async def test_inbox_rows_written_by_memos_read_back(store: Store, db_path: pathlib.Path) -> None:
    # Spaced JSON, ids as strings and obsolete keys, as older writers leave them.
    _execute(
        db_path,
        "INSERT INTO inbox (sender_id, receiver_id, status, message) VALUES"
        " (2, 1, 'UNREAD', '{ \"type\": \"MEMO_COMMENT\", \"memoComment\": {\"memoId\": \"9\","
        " \"relatedMemoId\": 8}, \"activityId\": 3 }')",
    )
    [message] = await store.list_inboxes(receiver_id=1)
    assert message.message == _comment(9, 8)


# --- memos for statistics -----------------------------------------------------------------------


async def _insert_memo(store: Store, uid: str, creator_id: int, *, created_ts: int, visibility: str = "PUBLIC",
                       row_status: str = "NORMAL", pinned: int = 0, payload: str = "{}",
                       comment_on: int | None = None) -> int:
    def insert(conn: apsw.Connection) -> int:
        conn.execute(
            "INSERT INTO memo (uid, creator_id, created_ts, updated_ts, visibility, row_status, pinned,"
            " payload, content) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'text')",
            (uid, creator_id, created_ts, created_ts + 5, visibility, row_status, pinned, payload),
        )
        memo_id = conn.last_insert_rowid()
        if comment_on is not None:
            conn.execute("INSERT INTO memo_relation VALUES (?, ?, 'COMMENT')", (memo_id, comment_on))
        return memo_id

    return await store.driver.run_write(insert)


async def test_stat_rows_are_newest_first_without_comments(store: Store) -> None:
    base = await _insert_memo(store, "base", 1, created_ts=100, pinned=1,
                              payload='{"tags":["go"],"property":{"hasCode":true}, "old": 1}')
    await _insert_memo(store, "same-time", 1, created_ts=100, visibility="PRIVATE")
    await _insert_memo(store, "newest", 1, created_ts=300, visibility="PROTECTED")
    await _insert_memo(store, "archived", 1, created_ts=400, row_status="ARCHIVED")
    await _insert_memo(store, "comment", 1, created_ts=500, comment_on=base)
    await _insert_memo(store, "other", 2, created_ts=200, visibility="PROTECTED")

    rows = await store.list_memo_summaries(creator_id=1)
    assert [row.uid for row in rows] == ["newest", "same-time", "base"]
    base_row = rows[-1]
    assert (base_row.created_ts, base_row.updated_ts) == (100, 105)
    assert (base_row.pinned, base_row.visibility) == (True, "PUBLIC")
    assert list(base_row.payload.tags) == ["go"] and base_row.payload.property.has_code

    public = await store.list_memo_summaries(creator_id=1, visibilities=["PUBLIC"])
    assert [row.uid for row in public] == ["base"]
    mine_and_shared = await store.list_memo_summaries(visibilities=["PUBLIC", "PROTECTED"], or_creator_id=1)
    assert [row.uid for row in mine_and_shared] == ["newest", "other", "same-time", "base"]
    assert [row.uid for row in await store.list_memo_summaries(creator_id=1, row_status="ARCHIVED")] == ["archived"]
    with_comments = await store.list_memo_summaries(creator_id=1, exclude_comments=False)
    assert with_comments[0].uid == "comment"


async def test_summaries_by_id_include_archived_memos_and_comments(store: Store) -> None:
    base = await _insert_memo(store, "base", 1, created_ts=100)
    archived = await _insert_memo(store, "archived", 2, created_ts=200, row_status="ARCHIVED")
    comment = await _insert_memo(store, "comment", 2, created_ts=300, comment_on=base)
    await _insert_memo(store, "not-asked", 1, created_ts=400)

    rows = await store.list_memo_summaries(ids=[base, archived, comment, 999], row_status=None, exclude_comments=False)
    assert [row.uid for row in rows] == ["comment", "archived", "base"]
    assert await store.list_memo_summaries(ids=[]) == []

async def test_stat_rows_of_the_demo_database(v030_database: pathlib.Path, tmp_path: pathlib.Path) -> None:
    expected = _rows(
        v030_database,
        "SELECT uid FROM memo WHERE creator_id = 2 AND row_status = 'NORMAL' AND id NOT IN"
        " (SELECT memo_id FROM memo_relation WHERE type = 'COMMENT') ORDER BY created_ts DESC, id DESC",
    )
    store = await Store.open("sqlite", str(v030_database), deployment_dir=None)
    try:
        rows = await store.list_memo_summaries(creator_id=2)
        plan = await store.driver.run_read(
            lambda conn: conn.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM memo WHERE creator_id = 2 AND NOT EXISTS (SELECT 1 FROM"
                " memo_relation AS relation WHERE relation.memo_id = memo.id AND relation.type = 'COMMENT')"
            ).fetchall()
        )
    finally:
        await store.close()
    assert [row.uid for row in rows] == [uid for (uid,) in expected] and len(rows) == 7
    assert any(row.payload.tags for row in rows)
    details = " ".join(str(step[-1]) for step in plan)
    assert "idx_memo_creator_id" in details and "SCAN memo_relation" not in details


# --- deleting a user -----------------------------------------------------------------------------


async def test_user_delete_removes_their_memos_comment_trees_and_dependent_rows(store: Store, db_path) -> None:
    alice = await store.create_user(username="alice", password_hash="x")
    bob = await store.create_user(username="bob", password_hash="x")
    carol = await store.create_user(username="carol", password_hash="x")
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
        await store.upsert_user_setting(user_setting_pb2.UserSetting(
            user_id=user.id, key=user_setting_pb2.UserSetting.GENERAL,
            general=user_setting_pb2.GeneralUserSetting(locale="fr"),
        ))
    assert await store.get_user_setting(alice.id, "GENERAL") is not None  # cached now

    removed = await store.delete_user(alice.id)

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
    assert await store.get_user(id=alice.id) is None
    assert await store.get_user_setting(alice.id, "GENERAL") is None
    with pytest.raises(NotFound):
        await store.delete_user(alice.id)


async def test_deleting_a_demo_user_keeps_the_others_data(v030_database: pathlib.Path) -> None:
    # Ben (id 3) owns the golden-hour memo with its attachment; Zoe and Ben commented on it.
    memos_before = _rows(v030_database, "SELECT COUNT(*) FROM memo")[0][0]
    bens = _rows(v030_database, "SELECT COUNT(*) FROM memo WHERE creator_id = 3")[0][0]
    store = await Store.open("sqlite", str(v030_database), deployment_dir=None)
    try:
        removed = await store.delete_user(3)
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


# --- personal access token use -----------------------------------------------------------------------


async def test_pat_last_used_only_moves_forward(store: Store, db_path: pathlib.Path) -> None:
    user = await store.create_user(username="alice", password_hash="x")
    setting = user_setting_pb2.UserSetting(user_id=user.id, key=user_setting_pb2.UserSetting.PERSONAL_ACCESS_TOKENS)
    tokens = setting.personal_access_tokens.tokens
    tokens.add(token_id="t1", token_hash="h1", description="ci")
    tokens.add(token_id="t2", token_hash="h2")
    await store.upsert_user_setting(setting)
    await store.get_user_setting(user.id, "PERSONAL_ACCESS_TOKENS")  # cached before the touch

    later = datetime.datetime(2026, 5, 1, 12, 0, 0, 250000, tzinfo=datetime.UTC)
    earlier = later - datetime.timedelta(hours=1)
    assert await store.touch_personal_access_token(user.id, "t1", later)
    assert not await store.touch_personal_access_token(user.id, "t1", earlier)
    assert not await store.touch_personal_access_token(user.id, "missing", later)
    assert not await store.touch_personal_access_token(999, "t1", later)

    cached = await store.get_user_setting(user.id, "PERSONAL_ACCESS_TOKENS")
    first, second = cached.personal_access_tokens.tokens
    assert first.last_used_at.ToDatetime(datetime.UTC) == later and first.description == "ci"
    assert not second.HasField("last_used_at")
    [(value,)] = _rows(db_path, "SELECT value FROM user_setting WHERE key = 'PERSONAL_ACCESS_TOKENS'")
    assert json.loads(value)["tokens"][0]["lastUsedAt"] == "2026-05-01T12:00:00.250Z"
    assert (await store.find_personal_access_token("h1"))[1].last_used_at == first.last_used_at
