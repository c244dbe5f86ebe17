"""The answer cache of ListMemos and GetMemo (memos.api.answer_cache).

Through the real app: kept answers are served (the cache fills), every kind of committed write
(this process's, and another program's on the database file) makes the next answer fresh, an
answer never reaches another caller, and filters naming ``now`` are always worked out afresh.
The cache itself: bounded bytes, least recently used out first, one generation at a time.
"""
from __future__ import annotations

import base64
import json
import pathlib
import time
from collections.abc import Callable, Iterator

import anyio
import pytest
from memo_support import CONNECT, World, memo_world
from support import sqlite_execute

from memos.api.answer_cache import AnswerCache, AnswerCacheInterceptor, CacheKey
from memos.call import CallContext
from memos.gen.api.v1 import memo_service_pb2 as api

LIST = "/memos.api.v1.MemoService/ListMemos"
GET = "/memos.api.v1.MemoService/GetMemo"
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


@pytest.fixture
def world(tmp_path: pathlib.Path) -> Iterator[World]:
    yield from memo_world(tmp_path / "world")


def first_page(world: World, who: str = "alice") -> list[dict]:
    response = world.list(who, pageSize=20)
    assert response.status_code == 200, response.text
    return list(response.json()["memos"])


def kept(world: World) -> int:
    return len(world.client.app.state.answer_cache)  # type: ignore[attr-defined]


# --- served from the cache, made fresh by every write --------------------------------------------------

def test_a_repeated_list_is_kept_and_answers_the_same(world: World) -> None:
    world.create("alice", "one #work")
    before = first_page(world)
    assert kept(world) == 1
    assert first_page(world) == before
    assert kept(world) == 1


def test_rest_connect_json_and_connect_binary_each_get_their_own_encoding(world: World) -> None:
    name = world.create("alice", "one")["name"]
    for _ in range(2):  # the second round is served from the cache
        rest = world.get("alice", name).json()
        assert rest["name"] == name and rest["pinned"] is False  # REST prints defaults
        connect = world.connect("alice", "GetMemo", {"name": name}).json()
        assert connect["name"] == name and "pinned" not in connect  # Connect JSON leaves them out
        binary = world.client.post(CONNECT + "GetMemo", content=api.GetMemoRequest(name=name).SerializeToString(),
                                   headers={"content-type": "application/proto", **world.headers["alice"]})
        assert api.Memo.FromString(binary.content).name == name
    assert kept(world) == 3



WRITES: dict[str, Callable[[World, str], Callable[[], object]]] = {
    "create": lambda world, name: lambda: world.create("alice", "a second memo"),
    "update content": lambda world, name: lambda: world.patch("alice", name, {"content": "changed"}, "content"),
    "pin": lambda world, name: lambda: world.patch("alice", name, {"pinned": True}, "pinned"),
    "delete": lambda world, name: lambda: world.client.delete(f"/api/v1/{name}", headers=world.headers["alice"]),
    "comment": lambda world, name: lambda: world.comment("bob", name, "a comment"),
    "reaction": lambda world, name: lambda: world.client.post(
        f"/api/v1/{name}/reactions", json={"reaction": {"contentId": name, "reactionType": "👍"}},
        headers=world.headers["bob"]),
    "relation": lambda world, name: lambda: world.client.patch(
        f"/api/v1/{name}/relations",
        json={"name": name, "relations": [{"relatedMemo": {"name": world.create("alice", "target")["name"]},
                                           "type": "REFERENCE"}]},
        headers=world.headers["alice"]),
    "attachment": lambda world, name: lambda: _attach(world, name),
    "rename the creator": lambda world, name: lambda: world.client.patch(
        "/api/v1/users/alice?updateMask=username", json={"name": "users/alice", "username": "alice2"},
        headers=world.headers["alice"]),
}


def _attach(world: World, name: str) -> None:
    body = {"filename": "a.txt", "content": base64.b64encode(b"hello").decode(), "memo": name}
    response = world.client.post("/api/v1/attachments", json=body, headers=world.headers["alice"])
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_makes_the_next_list_and_get_fresh(world: World, write: str) -> None:
    name = world.create("alice", "first #work", visibility="PUBLIC")["name"]
    listed, got = first_page(world), world.get("alice", name).json()
    assert first_page(world) == listed  # now served from the cache
    response = WRITES[write](world, name)()
    if hasattr(response, "status_code"):
        assert response.status_code == 200, response.text
    fresh_list = first_page(world)
    fresh_get = world.get("alice", name)
    assert fresh_list != listed
    if write == "delete":
        assert fresh_get.status_code == 404
    elif write != "create":  # a new memo leaves this one as it was
        assert fresh_get.json() != got


@pytest.mark.parametrize("write", ["avatar", "instance setting", "user setting"])
def test_writes_a_memo_does_not_show_move_the_generation_too(world: World, write: str) -> None:
    store = world.client.app.state.store  # type: ignore[attr-defined]
    before = store.generation()
    if write == "avatar":
        avatar = "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()
        response = world.client.patch("/api/v1/users/alice?updateMask=avatar_url",
                                      json={"name": "users/alice", "avatarUrl": avatar}, headers=world.headers["alice"])
    elif write == "instance setting":
        response = world.client.patch(
            "/api/v1/instance/settings/MEMO_RELATED",
            json={"name": "instance/settings/MEMO_RELATED", "memoRelatedSetting": {"contentLengthLimit": 9000}},
            headers=world.headers["root"])
    else:
        response = world.client.patch(
            "/api/v1/users/alice/settings/GENERAL?updateMask=locale",
            json={"name": "users/alice/settings/GENERAL", "generalSetting": {"locale": "fr"}},
            headers=world.headers["alice"])
    assert response.status_code == 200, response.text
    assert store.generation() != before


def test_a_write_by_another_program_makes_the_next_list_fresh(world: World, tmp_path: pathlib.Path) -> None:
    world.create("alice", "before the restore")
    assert first_page(world)[0]["content"] == "before the restore"
    first_page(world)  # kept
    sqlite_execute(tmp_path / "world" / "memos_prod.db", "UPDATE memo SET content = 'restored'")
    assert first_page(world)[0]["content"] == "restored"


# --- never across callers -------------------------------------------------------------------------------

def test_a_private_memo_never_reaches_another_caller_through_the_cache(world: World) -> None:
    private = world.create("alice", "alice only", visibility="PRIVATE")["name"]
    public = world.create("alice", "for everyone", visibility="PUBLIC")["name"]
    for _ in range(2):
        assert [memo["name"] for memo in first_page(world, "alice")] == [public, private]
        assert [memo["name"] for memo in first_page(world, "bob")] == [public]
        assert [memo["name"] for memo in first_page(world, "root")] == [public]  # admins too
        assert [memo["name"] for memo in first_page(world, "anon")] == [public]
        assert world.get("alice", private).status_code == 200
        assert world.get("bob", private).status_code == 403
        assert world.get("anon", private).status_code == 401
    connect = world.connect("bob", "ListMemos", {"pageSize": 20}).json()
    assert [memo["name"] for memo in connect["memos"]] == [public]


def test_a_private_instance_still_refuses_anonymous_callers_of_a_kept_list(tmp_path: pathlib.Path) -> None:
    for private in memo_world(tmp_path / "private", public=False):
        private.create("alice", "hello", visibility="PUBLIC")
        assert private.list("alice").status_code == 200
        assert private.list("alice").status_code == 200
        assert private.list("anon").status_code == 401


# --- the clock ------------------------------------------------------------------------------------------

def test_a_filter_naming_now_is_worked_out_afresh_every_time(world: World) -> None:
    name = world.create("alice", "just now")["name"]
    recent = 'created_ts > now - duration("2s")'
    assert world.names("alice", filter=recent) == [name]
    time.sleep(3)  # nothing is written: only the clock moves
    assert world.names("alice", filter=recent) == []
    assert kept(world) == 0


# --- the cache and the interceptor on their own ---------------------------------------------------------

def key(n: int, request: bytes = b"") -> CacheKey:
    return (LIST, "rest-json", request, n, "USER", True)


def test_the_cache_is_bounded_in_bytes_and_drops_the_least_recently_used() -> None:
    cache = AnswerCache(max_bytes=2_500, max_entry_bytes=1_000)
    assert cache.get(key(1), "g1") is None
    for n in (1, 2, 3):
        cache.put(key(n), "g1", b"x" * 500)
    assert cache.get(key(1), "g1") == b"x" * 500  # 1 is now the most recently used
    cache.put(key(4), "g1", b"y" * 500)  # 2 goes
    assert cache.get(key(2), "g1") is None
    assert [cache.get(key(n), "g1") is not None for n in (1, 3, 4)] == [True, True, True]
    assert cache.size <= 2_500
    cache.put(key(5), "g1", b"z" * 2_000)  # too big for one entry: not kept, nothing pushed out
    assert cache.get(key(5), "g1") is None and len(cache) == 3


def test_a_new_generation_empties_the_cache_and_late_answers_of_the_old_one_are_not_kept() -> None:
    cache = AnswerCache()
    cache.get(key(1), "g1")
    cache.put(key(1), "g1", b"old")
    assert cache.get(key(1), "g2") is None and len(cache) == 0 and cache.size == 0
    cache.put(key(2), "g1", b"worked out before the write")
    assert cache.get(key(2), "g2") is None


class Caller:
    def __init__(self, user_id: int, role: str = "USER") -> None:
        self.id, self.role = user_id, role


def test_the_interceptor_serves_the_same_caller_and_request_and_works_out_the_rest() -> None:
    calls: list[str] = []
    generation = ["g1"]
    interceptor = AnswerCacheInterceptor(AnswerCache(), lambda: generation[0], instance_is_public=True)

    async def service(request: object, ctx: CallContext) -> api.ListMemosResponse:
        calls.append(ctx.procedure)
        return api.ListMemosResponse(next_page_token="t")

    def call(request: api.ListMemosRequest, caller: Caller | None, encoding: str | None = "rest-json",
             procedure: str = LIST) -> bytes:
        ctx = CallContext(procedure=procedure, transport="rest", headers={}, principal=caller, encoding=encoding)
        response = anyio.run(interceptor, request, ctx, service)
        if ctx.encoded_answer is not None:
            return ctx.encoded_answer
        payload = json.dumps({"calls": len(calls)}).encode()
        if ctx.keep_encoded is not None:
            ctx.keep_encoded(payload)
        assert isinstance(response, api.ListMemosResponse)
        return payload

    page = api.ListMemosRequest(page_size=20)
    first = call(page, Caller(1))
    assert call(page, Caller(1)) == first and len(calls) == 1
    call(page, Caller(2))  # another user
    call(page, Caller(1, "ADMIN"))  # another role
    call(page, None)  # anonymous
    call(api.ListMemosRequest(page_size=10), Caller(1))  # another request
    call(page, Caller(1), encoding="connect-json")  # another encoding
    assert len(calls) == 6
    call(page, Caller(1), encoding=None)  # a transport that names no encoding is never served from the cache
    call(api.ListMemosRequest(filter="created_ts < now"), Caller(1))
    call(api.ListMemosRequest(filter="created_ts < now"), Caller(1))
    assert len(calls) == 9
    generation[0] = "g2"
    call(page, Caller(1))
    assert len(calls) == 10
    call(page, Caller(1), procedure="/memos.api.v1.MemoService/ListMemoComments")
    call(page, Caller(1), procedure="/memos.api.v1.MemoService/ListMemoComments")
    assert len(calls) == 12
