"""memospyz.v1.MemoHtmlService over REST and Connect: rendered HTML, GetMemo's access rules, stored once."""
from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from support import bearer, create_user_row, make_profile, sign_in, sqlite_execute, sqlite_rows

from memos.app import create_app
from memos.markdown import HTML_VERSION
from memos.profile import Profile
from memos.store import CreateMemo, CreateMemoShare, MemoRelation

REST = "/api/pyz/v1/memos:batchGetHtml"
CONNECT = "/memospyz.v1.MemoHtmlService/BatchGetMemoHtml"


@pytest.fixture
def public_profile(tmp_path: pathlib.Path) -> Profile:
    return make_profile(tmp_path / "data", instance_url="https://notes.example.com")


@pytest.fixture
def public(public_profile: Profile) -> Iterator[TestClient]:
    with TestClient(create_app(public_profile), raise_server_exceptions=False) as client:
        yield client


def add_memo(client: TestClient, uid: str, creator_id: int, content: str, *, visibility: str = "PUBLIC",
             row_status: str | None = None, comment_on: int | None = None) -> int:
    store = client.app.state.store  # type: ignore[attr-defined]

    async def create() -> int:
        memo = await store.memos.create(CreateMemo(uid=uid, creator_id=creator_id, content=content,
                                                   visibility=visibility))
        if comment_on is not None:
            await store.memo_relations.upsert(MemoRelation(memo.id, comment_on, "COMMENT"))
        return memo.id

    memo_id = client.portal.call(create)  # type: ignore[union-attr]
    if row_status is not None:
        sqlite_execute(pathlib.Path(client.app.state.profile.dsn),  # type: ignore[attr-defined]
                       f"UPDATE memo SET row_status = '{row_status}' WHERE id = {memo_id}")
    return memo_id


def test_rest_get_and_post_return_html_in_the_order_asked(public: TestClient) -> None:
    alice = create_user_row(public, "alice")
    add_memo(public, "a", alice, "#work **bold** <script>x</script>")
    add_memo(public, "b", alice, "- [ ] task")
    response = public.get(REST, params=[("names", "memos/b"), ("names", "memos/a")])
    assert response.status_code == 200, response.text
    memos = response.json()["memos"]
    assert [memo["name"] for memo in memos] == ["memos/b", "memos/a"]
    assert all(memo["htmlVersion"] == HTML_VERSION for memo in memos)
    assert 'class="task-list-item"' in memos[0]["html"]
    html = memos[1]["html"]
    assert '<span class="tag" data-tag="work">#work</span>' in html
    assert "<strong>bold</strong>" in html and "&lt;script&gt;" in html and "<script>" not in html
    posted = public.post(REST, json={"names": ["memos/a"]})
    assert posted.status_code == 200 and posted.json()["memos"] == memos[1:]


def test_connect_gives_the_same_answer(public: TestClient) -> None:
    alice = create_user_row(public, "alice")
    add_memo(public, "a", alice, "*hi*")
    response = public.post(CONNECT, json={"names": ["memos/a"]})
    assert response.status_code == 200, response.text
    assert response.json()["memos"][0]["html"] == "<p><em>hi</em></p>\n"


def test_html_is_stored_once_and_rendered_again_when_stale(public: TestClient) -> None:
    alice = create_user_row(public, "alice")
    memo_id = add_memo(public, "a", alice, "one")
    dsn = pathlib.Path(public.app.state.profile.dsn)  # type: ignore[attr-defined]
    assert public.get(REST, params={"names": "memos/a"}).json()["memos"][0]["html"] == "<p>one</p>\n"
    assert sqlite_rows(dsn, "SELECT memo_id, html_version FROM memo_html") == [(memo_id, HTML_VERSION)]
    # Stored HTML is served as stored while content and version match...
    sqlite_execute(dsn, "UPDATE memo_html SET html = '<p>kept</p>'")
    assert public.get(REST, params={"names": "memos/a"}).json()["memos"][0]["html"] == "<p>kept</p>"
    # ...and rendered again (and saved) once either changed.
    sqlite_execute(dsn, "UPDATE memo SET content = 'two'")
    assert public.get(REST, params={"names": "memos/a"}).json()["memos"][0]["html"] == "<p>two</p>\n"
    sqlite_execute(dsn, "UPDATE memo_html SET html = '<p>old</p>', html_version = html_version - 1")
    assert public.get(REST, params={"names": "memos/a"}).json()["memos"][0]["html"] == "<p>two</p>\n"
    assert sqlite_rows(dsn, "SELECT html, html_version FROM memo_html") == [("<p>two</p>\n", HTML_VERSION)]


def test_access_follows_get_memo(public: TestClient) -> None:
    alice = create_user_row(public, "alice")
    create_user_row(public, "bob")
    parent = add_memo(public, "private", alice, "p", visibility="PRIVATE")
    add_memo(public, "protected", alice, "p", visibility="PROTECTED")
    add_memo(public, "archived", alice, "p", row_status="ARCHIVED")
    add_memo(public, "reply", alice, "r", comment_on=parent)
    owner, other = bearer(sign_in(public, "alice")), bearer(sign_in(public, "bob"))

    def status(name: str, headers: dict[str, str]) -> tuple[int, str]:
        response = public.get(REST, params={"names": name}, headers=headers)
        return response.status_code, response.json().get("message", "")

    assert status("memos/protected", {}) == (401, "user not authenticated")
    assert status("memos/protected", other) == (200, "")
    assert status("memos/private", other) == (403, "permission denied")
    assert status("memos/private", owner) == (200, "")
    assert status("memos/archived", other) == (404, "memo not found")
    assert status("memos/archived", {}) == (404, "memo not found")
    assert status("memos/archived", owner) == (200, "")
    assert status("memos/reply", {}) == (401, "user not authenticated")  # its parent is private
    assert status("memos/reply", other) == (403, "permission denied")
    assert status("memos/reply", owner) == (200, "")
    assert status("memos/nope", owner) == (404, "memo not found")


def test_private_instance_refuses_anonymous_callers(client: TestClient) -> None:
    alice = create_user_row(client, "alice")
    add_memo(client, "a", alice, "x")
    assert client.get(REST, params={"names": "memos/a"}).status_code == 401
    assert client.post(CONNECT, json={"names": ["memos/a"]}).status_code == 401
    signed_in = client.get(REST, params={"names": "memos/a"}, headers=bearer(sign_in(client, "alice")))
    assert signed_in.status_code == 200


@pytest.mark.parametrize(("names", "code"), [
    (["users/1"], 3), (["memos/"], 3), (["memos/a/b"], 3), ([""], 3), (["memos/x"] * 101, 3),
])
def test_bad_names_are_invalid_argument(public: TestClient, names: list[str], code: int) -> None:
    response = public.post(REST, json={"names": names})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


def test_no_names_no_memos(public: TestClient) -> None:
    response = public.get(REST)
    assert response.status_code == 200 and response.json() == {"memos": []}


def test_memos_api_is_unchanged_by_the_extension(public: TestClient) -> None:
    # The extension has its own prefix: the Memos gateway does not know the path.
    assert public.get("/api/v1/memos:batchGetHtml").status_code == 404


def test_repeated_names_are_answered_each_time(public: TestClient) -> None:
    alice = create_user_row(public, "alice")
    add_memo(public, "a", alice, "x")
    add_memo(public, "b", alice, "y")
    names = ["memos/a", "memos/b", "memos/a"] + ["memos/b"] * 97
    response = public.post(REST, json={"names": names})
    assert response.status_code == 200, response.text
    assert [memo["name"] for memo in response.json()["memos"]] == names


def test_memos_written_through_memo_service(public: TestClient) -> None:
    create_user_row(public, "alice")
    alice = bearer(sign_in(public, "alice"))
    created = public.post("/api/v1/memos", params={"memoId": "api1"},
                          json={"content": "- [x] done\n- [ ] #todo", "visibility": "PROTECTED"}, headers=alice)
    assert created.status_code == 200, created.text
    html = public.get(REST, params={"names": "memos/api1"}, headers=alice).json()["memos"][0]["html"]
    assert 'data-task-index="1"' in html and 'data-tag="todo"' in html
    patched = public.patch("/api/v1/memos/api1", params={"updateMask": "content"}, json={"content": "*new*"},
                           headers=alice)
    assert patched.status_code == 200, patched.text
    after = public.get(REST, params={"names": "memos/api1"}, headers=alice).json()["memos"][0]["html"]
    assert after == "<p><em>new</em></p>\n"
    assert public.get(REST, params={"names": "memos/api1"}).status_code == 401  # PROTECTED, as GetMemo


def test_memo_service_stores_the_html_when_it_writes_not_when_it_is_read(public: TestClient) -> None:
    create_user_row(public, "alice")
    alice = bearer(sign_in(public, "alice"))
    database = pathlib.Path(public.app.state.profile.dsn)  # type: ignore[attr-defined]
    query = "SELECT h.html, h.html_version FROM memo_html h JOIN memo m ON m.id = h.memo_id WHERE m.uid = 'w1'"
    created = public.post("/api/v1/memos", params={"memoId": "w1"}, json={"content": "#one"}, headers=alice)
    assert created.status_code == 200, created.text
    [(html, version)] = sqlite_rows(database, query)
    assert 'data-tag="one"' in html and version == HTML_VERSION
    patched = public.patch("/api/v1/memos/w1", params={"updateMask": "content"}, json={"content": "#two"},
                           headers=alice)
    assert patched.status_code == 200, patched.text
    [(html, _)] = sqlite_rows(database, query)
    assert 'data-tag="two"' in html and "one" not in html


def add_share(client: TestClient, token: str, memo_id: int, creator_id: int, expires_ts: int | None = None) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]
    share = CreateMemoShare(uid=token, memo_id=memo_id, creator_id=creator_id, expires_ts=expires_ts)
    client.portal.call(store.memo_shares.create, share)  # type: ignore[union-attr]


def test_a_share_token_opens_its_memos_html_anonymously_even_on_a_private_instance(client: TestClient) -> None:
    alice = create_user_row(client, "alice")
    memo_id = add_memo(client, "secret", alice, "#work hidden", visibility="PRIVATE")
    add_share(client, "tok", memo_id, alice)
    response = client.get("/api/pyz/v1/shares/tok/html")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "memos/secret" and body["htmlVersion"] == HTML_VERSION
    assert '<span class="tag" data-tag="work">#work</span>' in body["html"]
    connect = client.post("/memospyz.v1.MemoHtmlService/GetSharedMemoHtml", json={"shareToken": "tok"})
    assert connect.status_code == 200 and connect.json() == body


def test_unknown_expired_or_archived_shares_are_the_same_not_found(client: TestClient) -> None:
    alice = create_user_row(client, "alice")
    add_share(client, "old", add_memo(client, "a", alice, "x"), alice, expires_ts=1)
    add_share(client, "arch", add_memo(client, "b", alice, "y", row_status="ARCHIVED"), alice)
    for token in ("nope", "old", "arch"):
        response = client.post("/memospyz.v1.MemoHtmlService/GetSharedMemoHtml", json={"shareToken": token})
        assert response.status_code == 404 and response.json()["message"] == "not found"
