"""ListAllUserStats with memo filters (the web app's Explore page sends ``visibility in ["PUBLIC"]``).

The filter is ANDed with what the caller may see: it narrows the counted memos, never widens them;
a bad filter is INVALID_ARGUMENT ``invalid filter: ...`` over both transports.
"""
from __future__ import annotations

import functools
import json
import pathlib
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from support import bearer, connect_call, create_user_row, insert_memo, make_profile, sign_in, sqlite_rows

from memos.app import create_app
from memos.gen.api.v1 import user_service_pb2 as api

REST = "/api/v1/users:stats"
CONNECT = "/memos.api.v1.UserService/ListAllUserStats"
EXPLORE = 'visibility in ["PUBLIC"]'


@pytest.fixture
def world(tmp_path: pathlib.Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An open instance; alice and bob each have memos of every visibility, with tags."""
    with TestClient(create_app(make_profile(tmp_path / "data", instance_url="http://memos.test"))) as client:
        ids = {name: create_user_row(client, name) for name in ("alice", "bob")}
        store = client.app.state.store
        rows = [
            ("a-pub", "alice", "PUBLIC", '{"tags":["work"]}', 1, "NORMAL"),
            ("a-book", "alice", "PUBLIC", '{"tags":["book/fiction"],"property":{"hasLink":true}}', 0, "NORMAL"),
            ("a-prot", "alice", "PROTECTED", '{"tags":["work","home"]}', 0, "NORMAL"),
            ("a-priv", "alice", "PRIVATE", '{"tags":["secret"]}', 0, "NORMAL"),
            ("a-old", "alice", "PUBLIC", '{"tags":["archived"]}', 0, "ARCHIVED"),
            ("b-pub", "bob", "PUBLIC", '{"tags":["b"]}', 0, "NORMAL"),
            ("b-priv", "bob", "PRIVATE", '{"tags":["bsecret"]}', 0, "NORMAL"),
        ]
        for n, (uid, creator, visibility, payload, pinned, status) in enumerate(rows):
            client.portal.call(functools.partial(
                insert_memo, store, uid, ids[creator], created_ts=1_700_000_000 + n, visibility=visibility,
                payload=payload, pinned=pinned, row_status=status,
            ))
        yield client, {name: sign_in(client, name) for name in ids}


def tags(client: TestClient, token: str | None = None, **params: str) -> dict[str, dict[str, int]]:
    response = client.get(REST, params=params, headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    return {stats["name"]: stats["tagCount"] for stats in response.json()["stats"]}


def test_the_explore_filter_counts_public_memos(world: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = world
    public = {"users/alice/stats": {"work": 1, "book/fiction": 1}, "users/bob/stats": {"b": 1}}
    assert tags(client, filter=EXPLORE) == public
    assert tags(client, tokens["alice"], filter=EXPLORE) == public
    assert tags(client, filter="") == public  # anonymous: PUBLIC anyway


def test_a_filter_excludes_the_callers_private_memos(world: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = world
    assert tags(client, tokens["alice"])["users/alice/stats"] == {"work": 2, "home": 1, "book/fiction": 1, "secret": 1}
    shown = tags(client, tokens["alice"], filter='visibility in ["PUBLIC", "PROTECTED"]')
    assert shown["users/alice/stats"] == {"work": 2, "home": 1, "book/fiction": 1}


def test_a_filter_never_widens_what_the_caller_sees(world: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = world
    assert tags(client, tokens["bob"], filter='visibility == "PRIVATE"') == {"users/bob/stats": {"bsecret": 1}}
    assert tags(client, filter='visibility == "PRIVATE"') == {}
    assert tags(client, tokens["bob"], filter="true", state="ARCHIVED") == {}
    archived = tags(client, tokens["alice"], filter='"archived" in tags', state="ARCHIVED")
    assert archived == {"users/alice/stats": {"archived": 1}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"work" in tags', {"users/alice/stats": {"work": 2, "home": 1}}),
        ('tag in ["book"]', {"users/alice/stats": {"book/fiction": 1}}),
        ('creator == "users/bob"', {"users/bob/stats": {"b": 1, "bsecret": 1}}),  # bob's own PRIVATE one too
        ("has_link", {"users/alice/stats": {"book/fiction": 1}}),
        ("pinned", {"users/alice/stats": {"work": 1}}),
        ("created_ts >= timestamp(1700000005)", {"users/bob/stats": {"b": 1, "bsecret": 1}}),
        ('content.contains("text")', {
            "users/alice/stats": {"work": 2, "home": 1, "book/fiction": 1}, "users/bob/stats": {"b": 1, "bsecret": 1}}),
        ("false", {}),
    ],
)
def test_filters_narrow_the_counted_memos(world: tuple[TestClient, dict[str, str]], text: str, expected: dict) -> None:
    client, tokens = world
    assert tags(client, tokens["bob"], filter=text) == expected


def test_counts_follow_the_filter(world: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = world
    body = client.get(REST, params={"filter": '"work" in tags'}, headers=bearer(tokens["bob"])).json()
    (alice,) = body["stats"]
    assert alice["totalMemoCount"] == 2 and alice["pinnedMemos"] == ["memos/a-pub"]
    assert len(alice["memoCreatedTimestamps"]) == 2 and alice["memoTypeStats"]["linkCount"] == 0


@pytest.mark.parametrize("codec", ["json", "proto"])
def test_connect_takes_the_same_filter(world: tuple[TestClient, dict[str, str]], codec: str) -> None:
    client, tokens = world
    request = api.ListAllUserStatsRequest(filter='"work" in tags')
    answer = connect_call(client, CONNECT, request, api.ListAllUserStatsResponse, codec,
                          headers=bearer(tokens["bob"]))
    assert [(s.name, dict(s.tag_count)) for s in answer.stats] == [("users/alice/stats", {"work": 2, "home": 1})]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('tag == "work"', 'invalid filter: field "tag" does not support comparison (line 1, column 5)'),
        ("   ", "invalid filter: filter expression is empty"),
        ("((((", "invalid filter: Syntax error: unexpected end of input (line 1, column 5)"),
        ("1", "invalid filter: "),
        ("now()", "invalid filter: "),
        ('duration("7d") > 0', "invalid filter: "),
        ('unknown_field == "x"', "invalid filter: "),
        ("(" * 5000 + "true" + ")" * 5000, "invalid filter: "),
        ("x" * 20_000, "invalid filter: "),
    ],
)
def test_bad_filters_are_invalid_arguments(world: tuple[TestClient, dict[str, str]], text: str, message: str) -> None:
    client, tokens = world
    for headers in ({}, bearer(tokens["alice"])):
        rest = client.get(REST, params={"filter": text}, headers=headers)
        assert rest.status_code == 400 and rest.json()["message"].startswith(message), rest.text
        connect = client.post(CONNECT, content=json.dumps({"filter": text}),
                              headers={"content-type": "application/json", **headers})
        assert (connect.status_code, connect.json()["code"]) == (400, "invalid_argument")
        assert connect.json()["message"] == rest.json()["message"]


def test_a_bad_filter_is_refused_even_for_archived_stats_of_anonymous_callers(
    world: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = world
    response = client.get(REST, params={"filter": "((", "state": "ARCHIVED"})
    assert response.status_code == 400


def test_filter_text_never_reaches_sql(world: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = world
    hostile = "'); DROP TABLE memo; --"
    assert tags(client, tokens["alice"], filter=f"content.contains({json.dumps(hostile)})") == {}
    assert tags(client, tokens["alice"], filter=f'"{hostile}" in tags') == {}
    dsn = pathlib.Path(client.app.state.profile.dsn)
    assert sqlite_rows(dsn, "SELECT COUNT(*) FROM memo") == [(7,)]


def test_private_instances_still_refuse_anonymous_stats(tmp_path: pathlib.Path) -> None:
    with TestClient(create_app(make_profile(tmp_path / "data"))) as client:
        assert client.get(REST, params={"filter": EXPLORE}).status_code == 401
