"""The side effects of memo writes (MemoEffects) against the real app: inbox rows listed through
ListUserNotifications, e-mails received by a real SMTP server, webhooks received by a real
HTTP endpoint, and a write that never waits for either."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import pathlib
import socket
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import apsw
import pytest
from notify.smtp_server import smtp_server
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from support import bearer, create_user_row, make_profile, serve_on_loopback, sign_in

from memos.api.memo_effects import MemoEffects, ParentMemo
from memos.app import create_app
from memos.call import Code, RpcError
from memos.gen.api.v1 import common_pb2
from memos.gen.api.v1 import memo_service_pb2 as memo_api
from memos.gen.store import instance_setting_pb2, user_setting_pb2
from memos.store import FindUser, User

INSTANCE_URL = "http://memos.test"
SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def app(tmp_path: pathlib.Path) -> Iterator[TestClient]:
    """A public instance (notification links need its URL) whose webhooks may point at loopback."""
    profile = make_profile(tmp_path / "data", instance_url=INSTANCE_URL, allow_private_webhooks=True)
    with TestClient(create_app(profile)) as client:
        create_user_row(client, "alice", email="alice@example.com", nickname="Alice A.")
        create_user_row(client, "bob", email="bob@example.com", nickname="Bobby")
        create_user_row(client, "carol", email="carol@example.com")
        create_user_row(client, "dave", email="dave@example.com", row_status="ARCHIVED")
        create_user_row(client, "Eve", email="eve@example.com")  # "@eve" can never match an uppercase name
        yield client


def effects(client: TestClient) -> MemoEffects:
    return client.app.state.memo_effects  # type: ignore[no-any-return]


def run(client: TestClient, make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    async def call() -> Any:
        return await make()

    return client.portal.call(call)


def user(client: TestClient, username: str) -> User:
    found = run(client, lambda: client.app.state.store.users.get(FindUser(username=username)))
    assert found is not None
    return found  # type: ignore[no-any-return]


def insert_memo(client: TestClient, creator: str, uid: str, content: str, visibility: str = "PUBLIC") -> int:
    """The memo row as the memo store will have written it before the effects run."""
    connection = apsw.Connection(client.app.state.profile.dsn)
    try:
        with connection:
            connection.execute(
                "INSERT INTO memo (uid, creator_id, content, visibility) VALUES (?, ?, ?, ?)",
                (uid, user(client, creator).id, content, visibility),
            )
        return connection.last_insert_rowid()
    finally:
        connection.close()


def api_memo(creator: str, uid: str, content: str, visibility: str = "PUBLIC", parent: str = "") -> memo_api.Memo:
    memo = memo_api.Memo(
        name=f"memos/{uid}",
        creator=f"users/{creator}",
        content=content,
        visibility=memo_api.Visibility.Value(visibility),
        state=common_pb2.NORMAL,
    )
    memo.create_time.FromSeconds(1_700_000_000)
    if parent:
        memo.parent = f"memos/{parent}"
        memo.relations.add(
            memo=memo_api.MemoRelation.Memo(name=f"memos/{uid}"),
            related_memo=memo_api.MemoRelation.Memo(name=f"memos/{parent}"),
            type=memo_api.MemoRelation.COMMENT,
        )
    return memo


def create(client: TestClient, creator: str, uid: str, content: str, visibility: str = "PUBLIC") -> memo_api.Memo:
    memo_id = insert_memo(client, creator, uid, content, visibility)
    memo, author = api_memo(creator, uid, content, visibility), user(client, creator)
    run(client, lambda: effects(client).memo_created(memo, memo_id=memo_id, creator=author))
    return memo


def comment(client: TestClient, commenter: str, uid: str, content: str, parent_uid: str) -> memo_api.Memo:
    """A comment as CreateMemoComment writes it: the parent's visibility, a COMMENT relation."""
    row = run(client, lambda: client.app.state.store.memos.find_summaries(_by_uid(client, parent_uid)))[0]
    visibility = row.visibility
    comment_id = insert_memo(client, commenter, uid, content, visibility)
    parent_creator = run(client, lambda: client.app.state.store.users.get(FindUser(id=row.creator_id)))
    parent = ParentMemo(api_memo(parent_creator.username, parent_uid, "", visibility), row.id, row.creator_id)
    message, author = api_memo(commenter, uid, content, visibility, parent=parent_uid), user(client, commenter)
    created = effects(client).comment_created
    run(client, lambda: created(message, comment_id=comment_id, commenter=author, parent=parent))
    return message


def _by_uid(client: TestClient, uid: str) -> Any:
    from memos.store import FindMemo

    connection = apsw.Connection(client.app.state.profile.dsn)
    try:
        memo_id = connection.execute("SELECT id FROM memo WHERE uid = ?", (uid,)).fetchall()[0][0]
    finally:
        connection.close()
    return FindMemo(ids=[memo_id], row_status=None, exclude_comments=False)


def inbox_rows(client: TestClient) -> list[tuple[str, str, dict]]:
    """(sender, receiver, message) of every inbox row as stored."""
    connection = apsw.Connection(client.app.state.profile.dsn)
    try:
        found = connection.execute(
            "SELECT s.username, r.username, i.status, i.message FROM inbox i"
            " JOIN user s ON s.id = i.sender_id JOIN user r ON r.id = i.receiver_id ORDER BY i.id"
        ).fetchall()
    finally:
        connection.close()
    assert all(status == "UNREAD" for _, _, status, _ in found)
    return [(sender, receiver, json.loads(message)) for sender, receiver, _, message in found]


def memo_id(client: TestClient, uid: str) -> int:
    return _by_uid(client, uid).ids[0]  # type: ignore[no-any-return]


def notifications(client: TestClient, username: str) -> list[dict]:
    response = client.get(f"/api/v1/users/{username}/notifications", headers=bearer(sign_in(client, username)))
    assert response.status_code == 200, response.text
    return response.json()["notifications"]


# --- inbox ------------------------------------------------------------------------------------


def test_a_comment_tells_the_memo_owner_with_snippets_in_the_notification(app: TestClient) -> None:
    create(app, "alice", "plan", "# Plan\n\nShip the **release** on Friday #work")
    comment(app, "bob", "reply", "Sounds *good*, see https://example.com", "plan")
    assert inbox_rows(app) == [(
        "bob", "alice",
        {
            "type": "MEMO_COMMENT",
            "memoComment": {"memoId": memo_id(app, "reply"), "relatedMemoId": memo_id(app, "plan")},
        },
    )]
    [listed] = notifications(app, "alice")
    assert listed["type"] == "MEMO_COMMENT" and listed["status"] == "UNREAD" and listed["sender"] == "users/bob"
    assert listed["memoComment"] == {
        "memo": "memos/reply",
        "relatedMemo": "memos/plan",
        "memoSnippet": "Sounds good, see https://example.com",
        "relatedMemoSnippet": "Plan Ship the release on Friday #work",
    }


def test_no_comment_notification_for_your_own_memo_or_a_private_one(app: TestClient) -> None:
    create(app, "alice", "mine", "mine")
    comment(app, "alice", "self-reply", "talking to myself", "mine")
    create(app, "bob", "secret", "secret", visibility="PRIVATE")
    comment(app, "bob", "secret-reply", "still secret", "secret")
    assert inbox_rows(app) == []


def test_mentions_tell_existing_normal_users_except_the_author(app: TestClient) -> None:
    create(app, "alice", "hello", "Hi @bob and @Carol, also @alice, @nobody, @dave and @eve")
    rows = inbox_rows(app)
    assert [(s, r) for s, r, _ in rows] == [("alice", "bob"), ("alice", "carol")]
    assert rows[0][2] == {"type": "MEMO_MENTION", "memoMention": {"memoId": memo_id(app, "hello")}}
    [listed] = notifications(app, "carol")
    assert listed["type"] == "MEMO_MENTION"
    assert listed["memoMention"] == {  # snippets leave mentions out (spec §10.6)
        "memo": "memos/hello", "memoSnippet": "Hi  and , also , ,  and", "relatedMemo": "", "relatedMemoSnippet": "",
    }


def test_mentions_derived_by_the_write_are_used_as_given(app: TestClient) -> None:
    memo_id = insert_memo(app, "alice", "derived", "hi @bob")
    memo, alice = api_memo("alice", "derived", "hi @bob"), user(app, "alice")
    run(app, lambda: effects(app).memo_created(memo, memo_id=memo_id, creator=alice, mentioned=("carol",)))
    assert [r for _, r, _ in inbox_rows(app)] == ["carol"]  # the content is not parsed a second time


def test_a_private_memo_mentions_nobody(app: TestClient) -> None:
    create(app, "alice", "diary", "dear @bob", visibility="PRIVATE")
    assert inbox_rows(app) == []


def test_a_comment_mentions_with_its_parent_as_context(app: TestClient) -> None:
    create(app, "alice", "topic", "topic", visibility="PROTECTED")
    comment(app, "bob", "answer", "cc @carol and @alice", "topic")
    rows = inbox_rows(app)
    # alice got the comment notification, so her mention is not repeated.
    assert [(s, r, m["type"]) for s, r, m in rows] == [
        ("bob", "alice", "MEMO_COMMENT"), ("bob", "carol", "MEMO_MENTION"),
    ]
    assert rows[1][2]["memoMention"] == {"memoId": memo_id(app, "answer"), "relatedMemoId": memo_id(app, "topic")}
    [listed] = notifications(app, "carol")
    assert listed["memoMention"]["relatedMemo"] == "memos/topic"
    assert listed["memoMention"]["relatedMemoSnippet"] == "topic"


def test_under_a_private_parent_only_its_creator_may_be_mentioned(app: TestClient) -> None:
    alice, carol = user(app, "alice"), user(app, "carol")
    parent_id = insert_memo(app, "carol", "closed", "closed", "PRIVATE")
    comment_id = insert_memo(app, "alice", "open-reply", "hey @bob and @carol", "PUBLIC")
    parent = ParentMemo(api_memo("carol", "closed", "closed", "PRIVATE"), parent_id, carol.id)
    message = api_memo("alice", "open-reply", "hey @bob and @carol", "PUBLIC", parent="closed")
    run(app, lambda: effects(app).comment_created(message, comment_id=comment_id, commenter=alice, parent=parent))
    # carol, the parent's creator, gets her comment notification; bob may not learn of the private memo.
    assert [(s, r, m["type"]) for s, r, m in inbox_rows(app)] == [("alice", "carol", "MEMO_COMMENT")]


def test_a_comment_inbox_row_that_cannot_be_written_fails_the_call(app: TestClient) -> None:
    create(app, "alice", "plan", "plan")
    connection = apsw.Connection(app.app.state.profile.dsn)
    try:
        connection.execute("DROP TABLE inbox")
    finally:
        connection.close()
    with pytest.raises(RpcError) as failure:
        comment(app, "bob", "reply", "hi @carol", "plan")
    assert failure.value.code == Code.INTERNAL and failure.value.message == "failed to create inbox"


def test_an_update_mentions_only_the_newly_mentioned(app: TestClient) -> None:
    memo = create(app, "alice", "note", "ask @bob")
    assert [r for _, r, _ in inbox_rows(app)] == ["bob"]
    memo.content = "ask @bob and @carol"
    note_id, alice = memo_id(app, "note"), user(app, "alice")
    run(app, lambda: effects(app).memo_updated(memo, memo_id=note_id, creator=alice, previous_content="ask @bob"))
    assert [r for _, r, _ in inbox_rows(app)] == ["bob", "carol"]
    memo.content = "ask @bob, @carol and @eve... @Carol"
    run(app, lambda: effects(app).memo_updated(memo, memo_id=note_id, creator=alice))  # content not in the mask
    assert [r for _, r, _ in inbox_rows(app)] == ["bob", "carol"]


# --- e-mail -----------------------------------------------------------------------------------


def enable_email(client: TestClient, port: int, *, enabled: bool = True) -> None:
    setting = instance_setting_pb2.InstanceSetting(key=instance_setting_pb2.NOTIFICATION)
    email = setting.notification_setting.email
    email.enabled = enabled
    email.smtp_host, email.smtp_port = "127.0.0.1", port
    email.from_email, email.reply_to = "memos@example.com", "admin@example.com"
    run(client, lambda: client.app.state.store.instance_settings.upsert(setting))


def settle(client: TestClient) -> None:
    run(client, lambda: effects(client).join())


def test_notifications_are_mailed_when_the_instance_enables_email(app: TestClient) -> None:
    with smtp_server() as (port, inbox):
        enable_email(app, port)
        create(app, "alice", "plan", "the plan")
        comment(app, "bob", "reply", "hello @carol", "plan")
        settle(app)
    by_recipient = {tuple(m.recipients): m for m in inbox.messages}
    assert set(by_recipient) == {("alice@example.com",), ("carol@example.com",)}
    to_alice, to_carol = by_recipient[("alice@example.com",)], by_recipient[("carol@example.com",)]
    assert to_alice.header("Subject") == "[Memos] Bobby commented on your memo"
    assert to_alice.header("Reply-To") == "admin@example.com"
    assert to_alice.body.splitlines() == [
        "Hi Alice A.,", "", "Bobby commented on your memo.", "", "Open in Memos:",
        f"{INSTANCE_URL}/memos/plan#reply", "", "You are receiving this because you own this memo.",
    ]
    assert to_carol.header("Subject") == "[Memos] Bobby mentioned you in a memo"
    assert f"{INSTANCE_URL}/memos/reply" in to_carol.body.splitlines()
    assert "hello" not in to_carol.body  # the memo's content is never mailed


def test_no_mail_when_email_is_disabled_or_the_receiver_has_no_address(app: TestClient) -> None:
    with smtp_server() as (port, inbox):
        enable_email(app, port, enabled=False)
        create(app, "alice", "one", "hi @bob")
        enable_email(app, port)
        create_user_row(app, "quiet")  # no e-mail address: the way to receive none
        create(app, "alice", "two", "hi @quiet")
        settle(app)
    assert inbox.messages == []
    assert [r for _, r, _ in inbox_rows(app)] == ["bob", "quiet"]  # the inbox rows are written all the same


def test_no_mail_on_a_private_instance(tmp_path: pathlib.Path) -> None:
    profile = make_profile(tmp_path / "private")
    with TestClient(create_app(profile)) as client, smtp_server() as (port, inbox):
        create_user_row(client, "alice")
        create_user_row(client, "bob", email="bob@example.com")
        enable_email(client, port)
        create(client, "alice", "hello", "hi @bob")
        settle(client)
    assert inbox.messages == []


# --- webhooks ---------------------------------------------------------------------------------


class Receiver:
    """A webhook endpoint recording (headers, body) and answering after ``delay`` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.delay = delay

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.requests.append((dict(request.headers), await request.body()))
            await asyncio.sleep(self.delay)
            return JSONResponse({"code": 0})

        return Starlette(routes=[Route("/{owner}", hook, methods=["POST"])])

    def events(self) -> list[tuple[str, str, dict]]:
        """(webhook owner, activityType, body), sorted: the workers deliver in parallel, in no fixed order."""
        return sorted(
            (json.loads(body)["url"].rsplit("/", 1)[1], json.loads(body)["activityType"], json.loads(body))
            for _, body in self.requests
        )


def add_webhook(client: TestClient, username: str, url: str, secret: str = SECRET) -> None:
    setting = user_setting_pb2.UserSetting(user_id=user(client, username).id, key=user_setting_pb2.UserSetting.WEBHOOKS)
    setting.webhooks.webhooks.add(id="0123456789abcdef", title="hook", url=url, signing_secret=secret)
    run(client, lambda: client.app.state.store.user_settings.upsert(setting))


def _signature(headers: dict[str, str], body: bytes) -> str:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def test_webhooks_for_create_comment_update_and_delete(app: TestClient) -> None:
    receiver = Receiver()
    with serve_on_loopback(receiver.app()) as base:
        add_webhook(app, "alice", f"{base}/alice")
        add_webhook(app, "bob", f"{base}/bob")
        memo = create(app, "alice", "plan", "the plan #work")
        reply = comment(app, "bob", "reply", "ok", "plan")
        alice = user(app, "alice")
        run(app, lambda: effects(app).memo_updated(memo, memo_id=memo_id(app, "plan"), creator=alice))
        run(app, lambda: effects(app).memo_deleted(memo, creator=alice))
        settle(app)
    for headers, body in receiver.requests:
        assert headers["content-type"] == "application/json"
        assert headers["webhook-signature"] == _signature(headers, body)
    events = receiver.events()
    assert [(owner, kind) for owner, kind, _ in events] == [
        ("alice", "memos.memo.comment.created"),
        ("alice", "memos.memo.created"),
        ("alice", "memos.memo.deleted"),
        ("alice", "memos.memo.updated"),
        ("bob", "memos.memo.created"),
    ]
    created = next(body for owner, kind, body in events if kind == "memos.memo.created" and owner == "alice")
    assert created["creator"] == "users/alice"
    assert created["memo"] == {
        "name": "memos/plan", "state": 1, "creator": "users/alice", "create_time": {"seconds": 1_700_000_000},
        "content": "the plan #work", "visibility": 3,
    }
    # The parent's owner hears of the comment with its relation; the commenter of its creation without one.
    on_parent = next(body for _, kind, body in events if kind == "memos.memo.comment.created")
    assert on_parent["creator"] == "users/bob" and on_parent["memo"]["parent"] == "memos/plan"
    assert on_parent["memo"]["relations"][0]["related_memo"] == {"name": "memos/plan"}
    own = next(body for owner, _, body in events if owner == "bob")
    assert own["creator"] == "users/bob" and own["memo"]["name"] == reply.name
    assert "relations" not in own["memo"] and "parent" not in own["memo"]


# --- never waiting ----------------------------------------------------------------------------


@contextlib.contextmanager
def silent_smtp_server() -> Iterator[int]:
    """A port that accepts connections (the kernel completes them) but never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()  # waiting clients get a reset and give up at once


def test_a_dead_mail_server_and_a_hanging_receiver_never_slow_the_write(app: TestClient) -> None:
    receiver = Receiver(delay=2.0)
    with silent_smtp_server() as port, serve_on_loopback(receiver.app()) as base:
        enable_email(app, port)
        add_webhook(app, "alice", f"{base}/alice")
        add_webhook(app, "bob", f"{base}/bob")
        create(app, "alice", "first", "warm up")  # first use starts the queues' workers
        timings = []
        for index in range(5):
            started = time.monotonic()
            comment(app, "bob", f"reply-{index}", f"hi @carol {index}", "first")
            timings.append(time.monotonic() - started)
        assert max(timings) < 1.0, timings  # far below the 2 s a delivery hangs and the 15 s SMTP timeout
        assert len(inbox_rows(app)) == 10  # 5 comment + 5 mention rows, written before the calls returned
        deadline = time.monotonic() + 5
        while len(receiver.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(receiver.requests) >= 3  # deliveries were attempted, and are still hanging
    assert [n["type"] for n in notifications(app, "alice")].count("MEMO_COMMENT") == 5


def test_a_full_queue_drops_work_instead_of_blocking(app: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    receiver = Receiver(delay=2.0)
    with serve_on_loopback(receiver.app()) as base:
        add_webhook(app, "alice", f"{base}/alice")
        timings = []
        for index in range(200):  # far more than the 128 queued + 4 in flight the dispatcher holds
            started = time.monotonic()
            create(app, "alice", f"m{index}", "x")
            timings.append(time.monotonic() - started)
        assert max(timings) < 1.0, max(timings)  # each far below the 2 s a delivery hangs
    assert "webhook queue is full; dropping one item" in caplog.messages


def test_no_task_is_left_behind_per_write(app: TestClient) -> None:
    async def tasks() -> int:
        return len(asyncio.all_tasks())

    receiver = Receiver()
    with smtp_server() as (port, _), serve_on_loopback(receiver.app()) as base:
        enable_email(app, port)
        add_webhook(app, "alice", f"{base}/alice")
        create(app, "alice", "warm", "hi @bob")  # the first write starts the queues' workers
        settle(app)
        before = run(app, tasks)
        for index in range(20):
            create(app, "alice", f"t{index}", "hi @bob")
        settle(app)
        after = run(app, tasks)
    assert after == before and len(receiver.requests) == 21
