"""ShortcutService over REST and Connect, through the real app (memos spec §8, checklist 119-123)."""

from __future__ import annotations

import json
import re

import pytest
from memo_support import error
from starlette.testclient import TestClient
from support import bearer, connect_call, create_user_row, sign_in, sqlite_rows

from memos.api.shortcut_service import MAX_SHORTCUTS, MAX_TITLE_CHARS
from memos.gen.api.v1 import shortcut_service_pb2 as api

CONNECT = "/memos.api.v1.ShortcutService/"
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
BASE = "/api/v1/users/alice/shortcuts"


@pytest.fixture
def tokens(client: TestClient) -> dict[str, str]:
    """Access tokens of admin ``root`` and of regular users ``alice`` and ``bob``."""
    for name, role in (("root", "ADMIN"), ("alice", "USER"), ("bob", "USER")):
        create_user_row(client, name, role=role)
    return {name: sign_in(client, name) for name in ("root", "alice", "bob")}


def create(client: TestClient, token: str, title: str = "Work", filter: str = '"work" in tags', **query: str):
    return client.post(BASE, params=query, json={"title": title, "filter": filter}, headers=bearer(token))


def listed(client: TestClient, token: str) -> list[dict]:
    response = client.get(BASE, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["shortcuts"]


# --- create and list -----------------------------------------------------------------


def test_a_fresh_user_lists_no_shortcuts(client: TestClient, tokens: dict[str, str]) -> None:
    # The web app signs itself out when this call fails right after sign-in.
    response = client.get(BASE, headers=bearer(tokens["alice"]))
    assert (response.status_code, response.json()) == (200, {"shortcuts": []})


def test_create_names_the_shortcut_with_a_uuid_and_list_returns_it(client: TestClient, tokens: dict[str, str]) -> None:
    response = create(client, tokens["alice"])
    assert response.status_code == 200, response.text
    body = response.json()
    prefix, shortcut_id = body["name"].rsplit("/", 1)
    assert prefix == "users/alice/shortcuts" and UUID4.fullmatch(shortcut_id)
    assert body == {"name": body["name"], "title": "Work", "filter": '"work" in tags'}
    assert listed(client, tokens["alice"]) == [body]


def test_shortcuts_keep_the_order_they_were_made_in(client: TestClient, tokens: dict[str, str]) -> None:
    titles = ["b", "a", "c"]
    for title in titles:
        assert create(client, tokens["alice"], title=title).status_code == 200
    assert [s["title"] for s in listed(client, tokens["alice"])] == titles


def test_they_are_stored_in_the_shortcuts_user_setting_as_memos_stores_them(
    client: TestClient, tokens: dict[str, str]
) -> None:
    made = create(client, tokens["alice"]).json()
    rows = sqlite_rows(
        client.app.state.profile.dsn,
        "SELECT s.value FROM user_setting s JOIN user u ON u.id = s.user_id WHERE u.username = 'alice' AND s.key = ?",
        ("SHORTCUTS",),
    )
    assert json.loads(rows[0][0]) == {
        "shortcuts": [{"id": made["name"].rsplit("/", 1)[1], "title": "Work", "filter": '"work" in tags'}]
    }


def test_validate_only_answers_the_would_be_shortcut_and_stores_nothing(
    client: TestClient, tokens: dict[str, str]
) -> None:
    response = create(client, tokens["alice"], validateOnly="true")
    assert response.status_code == 200
    assert UUID4.fullmatch(response.json()["name"].rsplit("/", 1)[1])
    assert listed(client, tokens["alice"]) == []
    assert error(create(client, tokens["alice"], filter="tag ==", validateOnly="true"))[0] == 400


def test_title_is_required_and_checked_before_the_filter(client: TestClient, tokens: dict[str, str]) -> None:
    assert error(create(client, tokens["alice"], title="")) == (400, "title is required")
    assert error(create(client, tokens["alice"], title="", filter="tag ==")) == (400, "title is required")


@pytest.mark.parametrize("bad", ["invalid||filter))syntax", 'tag == "work"', "tag in work", "foo == 1", "1"])
def test_an_invalid_filter_is_refused(client: TestClient, tokens: dict[str, str], bad: str) -> None:
    status, message = error(create(client, tokens["alice"], filter=bad))
    assert status == 400 and message.startswith("invalid filter: ")
    assert listed(client, tokens["alice"]) == []


def test_an_empty_filter_is_refused(client: TestClient, tokens: dict[str, str]) -> None:
    assert error(create(client, tokens["alice"], filter="")) == (400, "invalid filter: filter cannot be empty")
    assert error(create(client, tokens["alice"], filter="   ")) == (400, "invalid filter: filter expression is empty")


@pytest.mark.parametrize(
    "good",
    [
        "has_task_list == false",
        "creator_id == 1",
        'visibility == "PUBLIC"',
        'tag in ["work"] && content.contains("x")',
        'created_ts > now - duration("24h")',
    ],
)
def test_valid_memo_filters_are_accepted(client: TestClient, tokens: dict[str, str], good: str) -> None:
    response = create(client, tokens["alice"], filter=good)
    assert response.status_code == 200, response.text
    assert response.json()["filter"] == good


def test_titles_and_the_number_of_shortcuts_are_bounded(client: TestClient, tokens: dict[str, str]) -> None:
    assert create(client, tokens["alice"], title="t" * MAX_TITLE_CHARS).status_code == 200
    status, message = error(create(client, tokens["alice"], title="t" * (MAX_TITLE_CHARS + 1)))
    assert status == 400 and "title is too long" in message
    for _ in range(MAX_SHORTCUTS - 1):
        assert create(client, tokens["alice"]).status_code == 200
    status, message = error(create(client, tokens["alice"]))
    assert status == 429 and f"at most {MAX_SHORTCUTS} shortcuts" in message
    assert len(listed(client, tokens["alice"])) == MAX_SHORTCUTS


# --- get, update, delete -------------------------------------------------------------------


def test_get_returns_one_shortcut(client: TestClient, tokens: dict[str, str]) -> None:
    made = create(client, tokens["alice"]).json()
    response = client.get(f"/api/v1/{made['name']}", headers=bearer(tokens["alice"]))
    assert (response.status_code, response.json()) == (200, made)


def test_get_and_delete_of_an_unknown_id_are_not_found(client: TestClient, tokens: dict[str, str]) -> None:
    create(client, tokens["alice"])
    for method in ("GET", "DELETE"):
        response = client.request(method, f"{BASE}/no-such-id", headers=bearer(tokens["alice"]))
        assert error(response) == (404, "shortcut not found")


def test_update_changes_the_masked_fields_only(client: TestClient, tokens: dict[str, str]) -> None:
    made = create(client, tokens["alice"]).json()
    url = f"/api/v1/{made['name']}"
    response = client.patch(
        url,
        params={"updateMask": "title"},
        json={"title": "Renamed", "filter": "pinned"},
        headers=bearer(tokens["alice"]),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {**made, "title": "Renamed"}
    response = client.patch(url, json={"filter": "pinned"}, headers=bearer(tokens["alice"]))  # mask from the body
    assert response.json() == {**made, "title": "Renamed", "filter": "pinned"}
    assert listed(client, tokens["alice"]) == [response.json()]


def test_update_ignores_paths_other_than_title_and_filter(client: TestClient, tokens: dict[str, str]) -> None:
    made = create(client, tokens["alice"]).json()
    request = api.UpdateShortcutRequest(shortcut=api.Shortcut(name=made["name"], title="Ignored"))
    request.update_mask.paths.append("name")
    with_connect = connect_call(
        client, CONNECT + "UpdateShortcut", request, api.Shortcut, "json", headers=bearer(tokens["alice"])
    )
    assert with_connect.title == "Work"


def test_update_needs_a_mask(client: TestClient, tokens: dict[str, str]) -> None:
    made = create(client, tokens["alice"]).json()
    response = client.post(
        CONNECT + "UpdateShortcut",
        json={"shortcut": {"name": made["name"], "title": "x"}},
        headers=bearer(tokens["alice"]),
    )
    assert (response.status_code, response.json()["message"]) == (400, "update mask is required")


def test_update_validates_what_it_changes(client: TestClient, tokens: dict[str, str]) -> None:
    made = create(client, tokens["alice"]).json()
    url = f"/api/v1/{made['name']}"
    alice = bearer(tokens["alice"])
    assert error(client.patch(url, params={"updateMask": "title"}, json={"title": ""}, headers=alice)) == (
        400,
        "title is required",
    )
    status, message = error(
        client.patch(url, params={"updateMask": "filter"}, json={"filter": "tag =="}, headers=alice)
    )
    assert status == 400 and message.startswith("invalid filter: ")
    assert error(client.patch(url, params={"updateMask": "filter"}, json={"filter": ""}, headers=alice)) == (
        400,
        "invalid filter: filter cannot be empty",
    )
    assert listed(client, tokens["alice"]) == [made]  # nothing changed


def test_update_of_an_unknown_id_is_not_found_before_any_validation(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.patch(
        f"{BASE}/missing", params={"updateMask": "title"}, json={"title": ""}, headers=bearer(tokens["alice"])
    )
    assert error(response) == (404, "shortcut not found")


def test_delete_removes_only_that_shortcut(client: TestClient, tokens: dict[str, str]) -> None:
    first, second = (create(client, tokens["alice"], title=t).json() for t in ("one", "two"))
    response = client.delete(f"/api/v1/{first['name']}", headers=bearer(tokens["alice"]))
    assert (response.status_code, response.json()) == (200, {})
    assert listed(client, tokens["alice"]) == [second]
    assert error(client.delete(f"/api/v1/{first['name']}", headers=bearer(tokens["alice"]))) == (
        404,
        "shortcut not found",
    )


# --- names and who may call ---------------------------------------------------------------


def test_another_users_shortcuts_are_refused_even_to_the_admin(client: TestClient, tokens: dict[str, str]) -> None:
    made = create(client, tokens["alice"]).json()
    url = f"/api/v1/{made['name']}"
    for caller in ("bob", "root"):
        headers = bearer(tokens[caller])
        calls = [
            client.get(BASE, headers=headers),
            client.post(BASE, json={"title": "x", "filter": "pinned"}, headers=headers),
            client.get(url, headers=headers),
            client.patch(url, params={"updateMask": "title"}, json={"title": "x"}, headers=headers),
            client.delete(url, headers=headers),
        ]
        assert [error(response) for response in calls] == [(403, "permission denied")] * 5
    assert listed(client, tokens["alice"]) == [made]


def test_permission_is_checked_before_the_mask(client: TestClient, tokens: dict[str, str]) -> None:
    made = create(client, tokens["alice"]).json()
    response = client.post(
        CONNECT + "UpdateShortcut", json={"shortcut": {"name": made["name"]}}, headers=bearer(tokens["bob"])
    )
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_parent_names(client: TestClient, tokens: dict[str, str]) -> None:
    alice = bearer(tokens["alice"])
    # users/1 names a user called "1", not the user with id 1.
    assert error(client.get("/api/v1/users/1/shortcuts", headers=alice)) == (404, "user not found")
    response = client.post(CONNECT + "ListShortcuts", json={"parent": "invalid-parent-format"}, headers=alice)
    assert response.status_code == 400 and response.json()["message"].startswith("invalid user name: ")
    response = client.post(
        CONNECT + "CreateShortcut",
        json={"parent": "users/nobody", "shortcut": {"title": "t", "filter": "pinned"}},
        headers=alice,
    )
    assert (response.status_code, response.json()["message"]) == (404, "user not found")


@pytest.mark.parametrize(
    "name",
    ["users/alice/shortcuts", "users/alice/shortcuts/", "users/alice/shortcut/x", "users//shortcuts/x", "x/a/b/c"],
)
def test_malformed_shortcut_names_are_invalid(client: TestClient, tokens: dict[str, str], name: str) -> None:
    for method in ("GetShortcut", "DeleteShortcut"):
        response = client.post(CONNECT + method, json={"name": name}, headers=bearer(tokens["alice"]))
        assert response.status_code == 400
        assert response.json()["message"].startswith("invalid shortcut name: ")


def test_a_shortcut_name_with_an_unknown_user_is_invalid(client: TestClient, tokens: dict[str, str]) -> None:
    for method in ("GetShortcut", "DeleteShortcut"):
        response = client.post(
            CONNECT + method, json={"name": "users/nobody/shortcuts/x"}, headers=bearer(tokens["alice"])
        )
        assert response.status_code == 400
        assert response.json()["message"].startswith("invalid shortcut name: ")
    response = client.post(
        CONNECT + "UpdateShortcut",
        json={"shortcut": {"name": "users/nobody/shortcuts/x", "title": "t"}, "updateMask": "title"},
        headers=bearer(tokens["alice"]),
    )
    assert response.status_code == 400


def test_anonymous_callers_are_turned_away(client: TestClient, tokens: dict[str, str]) -> None:
    assert client.get(BASE).status_code == 401
    assert client.post(CONNECT + "ListShortcuts", json={"parent": "users/alice"}).status_code == 401


# --- Connect ---------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["proto", "json"])
def test_the_same_over_connect(client: TestClient, tokens: dict[str, str], codec: str) -> None:
    alice = bearer(tokens["alice"])
    request = api.CreateShortcutRequest(
        parent="users/alice", shortcut=api.Shortcut(title="Todo", filter="has_incomplete_tasks")
    )
    made = connect_call(client, CONNECT + "CreateShortcut", request, api.Shortcut, codec, headers=alice)
    assert made.name.startswith("users/alice/shortcuts/") and made.title == "Todo"
    got = connect_call(
        client, CONNECT + "GetShortcut", api.GetShortcutRequest(name=made.name), api.Shortcut, codec, headers=alice
    )
    assert got == made
    listing = connect_call(
        client,
        CONNECT + "ListShortcuts",
        api.ListShortcutsRequest(parent="users/alice"),
        api.ListShortcutsResponse,
        codec,
        headers=alice,
    )
    assert list(listing.shortcuts) == [made]
    update = api.UpdateShortcutRequest(shortcut=api.Shortcut(name=made.name, filter="pinned"))
    update.update_mask.paths.append("filter")
    changed = connect_call(client, CONNECT + "UpdateShortcut", update, api.Shortcut, codec, headers=alice)
    assert (changed.title, changed.filter) == ("Todo", "pinned")
    from google.protobuf import empty_pb2

    connect_call(
        client,
        CONNECT + "DeleteShortcut",
        api.DeleteShortcutRequest(name=made.name),
        empty_pb2.Empty,
        codec,
        headers=alice,
    )
    response = client.post(CONNECT + "GetShortcut", json={"name": made.name}, headers=alice)
    assert (response.status_code, response.json()) == (404, {"code": "not_found", "message": "shortcut not found"})


def test_a_connect_create_without_title_is_invalid_argument(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post(
        CONNECT + "CreateShortcut",
        json={"parent": "users/alice", "shortcut": {"filter": "pinned"}},
        headers=bearer(tokens["alice"]),
    )
    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid_argument", "message": "title is required"},
    )


def test_rest_masks_from_the_body(client: TestClient, tokens: dict[str, str]) -> None:
    made = create(client, tokens["alice"]).json()
    url, alice = f"/api/v1/{made['name']}", bearer(tokens["alice"])
    # No bytes: no paths.
    assert error(client.patch(url, content=b"", headers=alice)) == (400, "update mask is required")
    status, message = error(client.patch(url, params={"updateMask": "title"}, json={"bogus": 1}, headers=alice))
    assert status == 400 and "bogus" in message
    assert listed(client, tokens["alice"]) == [made]
