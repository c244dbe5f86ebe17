"""RSS feeds (spec server.md §14) through the real app: which memos, item fields, escaping, caching."""
from __future__ import annotations

import hashlib
import pathlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient
from support import create_user_row, make_profile

from memos.app import create_app
from memos.store import CreateMemo, MemoRelation
from memos.web.rss import cdata, item_title, xml_text

CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


@pytest.fixture
def public(tmp_path: pathlib.Path) -> Iterator[TestClient]:
    profile = make_profile(tmp_path / "data", instance_url="https://notes.example.com")
    with TestClient(create_app(profile), raise_server_exceptions=False) as client:
        yield client


def add_memo(client: TestClient, uid: str, creator_id: int, content: str, *, created_ts: int,
             visibility: str = "PUBLIC", comment_on: int | None = None) -> int:
    store = client.app.state.store  # type: ignore[attr-defined]

    async def create() -> int:
        memo = await store.memos.create(CreateMemo(uid=uid, creator_id=creator_id, content=content,
                                                   visibility=visibility, created_ts=created_ts,
                                                   updated_ts=created_ts + 7))
        if comment_on is not None:
            await store.memo_relations.upsert(MemoRelation(memo.id, comment_on, "COMMENT"))
        return memo.id

    return client.portal.call(create)  # type: ignore[union-attr]


def items(response) -> list[ET.Element]:
    root = ET.fromstring(response.content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    return root.findall("./channel/item")


def test_private_instance_has_no_feeds(client: TestClient) -> None:
    for path in ("/explore/rss.xml", "/u/alice/rss.xml"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"message": "RSS is unavailable"}


def test_explore_feed_lists_public_top_level_memos_newest_first(public: TestClient) -> None:
    alice = create_user_row(public, "alice", nickname="Alice A.")
    bob = create_user_row(public, "bob")
    first = add_memo(public, "first", alice, "# Hello *world*\nbody", created_ts=1_700_000_000)
    add_memo(public, "second", bob, "second memo", created_ts=1_700_000_100)
    add_memo(public, "secret", alice, "private", created_ts=1_700_000_200, visibility="PRIVATE")
    add_memo(public, "members", alice, "protected", created_ts=1_700_000_300, visibility="PROTECTED")
    add_memo(public, "reply", bob, "a comment", created_ts=1_700_000_400, comment_on=first)
    response = public.get("/explore/rss.xml", headers={"host": "feeds.test"})
    assert response.status_code == 200
    assert response.text.startswith("<?xml")
    assert response.headers["content-type"] == "application/rss+xml; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["etag"] == '"' + hashlib.sha256(response.content).hexdigest()[:16] + '"'
    assert response.headers["last-modified"] == "Tue, 14 Nov 2023 22:15:07 GMT"  # updated_ts of "second"
    channel = ET.fromstring(response.content).find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Memos"
    assert channel.findtext("link") == "http://feeds.test"
    found = items(response)
    assert [item.findtext("guid") for item in found] == ["http://feeds.test/memos/second",
                                                          "http://feeds.test/memos/first"]
    hello = found[1]
    assert hello.findtext("title") == "Hello *world*"
    assert hello.findtext("link") == "http://feeds.test/memos/first"
    assert hello.findtext("author") == "Alice A."
    assert found[0].findtext("author") == "bob"
    assert "<em>world</em>" in hello.findtext("description", "")
    assert hello.findtext(CONTENT) == hello.findtext("description")
    assert hello.find("enclosure") is None


def test_user_feed_has_only_that_users_memos(public: TestClient) -> None:
    alice = create_user_row(public, "alice")
    bob = create_user_row(public, "bob")
    top = add_memo(public, "mine", alice, "mine", created_ts=1_700_000_000)
    add_memo(public, "theirs", bob, "theirs", created_ts=1_700_000_100)
    add_memo(public, "reply", alice, "reply", created_ts=1_700_000_200, comment_on=top)
    response = public.get("/u/alice/rss.xml")
    assert [item.findtext("title") for item in items(response)] == ["mine"]
    missing = public.get("/u/nobody/rss.xml")
    assert missing.status_code == 404 and missing.json() == {"message": "User not found"}


def test_empty_feed_has_no_last_modified(public: TestClient) -> None:
    response = public.get("/explore/rss.xml")
    assert response.status_code == 200 and items(response) == []
    assert "last-modified" not in response.headers


def test_hostile_content_keeps_the_document_well_formed(public: TestClient) -> None:
    alice = create_user_row(public, "alice", nickname="<b>&\"'")
    hostile = "]]> <script>alert(1)</script> \x00\x01\x0b\x1f ]]]]> <![CDATA[ & &amp; \ufffe end"
    add_memo(public, "evil", alice, hostile, created_ts=1_700_000_000)
    response = public.get("/explore/rss.xml")
    (item,) = items(response)
    assert item.findtext("author") == "<b>&\"'"
    html = item.findtext(CONTENT, "")
    assert html == item.findtext("description")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "]]&gt;" in html  # the breaker survives as text, it did not end the section
    assert "\x00" not in response.text and "\x01" not in response.text


def test_custom_profile_names_the_channel(public: TestClient) -> None:
    store = public.app.state.store  # type: ignore[attr-defined]

    async def set_profile() -> None:
        setting = await store.instance_settings.get("GENERAL")
        setting.general_setting.custom_profile.title = "Team <notes>"
        setting.general_setting.custom_profile.description = ""
        await store.instance_settings.upsert(setting)

    public.portal.call(set_profile)  # type: ignore[union-attr]
    channel = ET.fromstring(public.get("/explore/rss.xml").content).find("channel")
    assert channel is not None
    assert channel.findtext("title") == "Team <notes>"
    assert channel.findtext("description") == ""


def test_cached_feed_answers_304_to_its_etag(public: TestClient) -> None:
    alice = create_user_row(public, "alice")
    add_memo(public, "one", alice, "one", created_ts=1_700_000_000)
    first = public.get("/explore/rss.xml")
    again = public.get("/explore/rss.xml", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    other = public.get("/explore/rss.xml", headers={"if-none-match": '"nope"'})
    assert other.status_code == 200 and other.content == first.content


def test_forwarded_scheme_makes_https_links(public: TestClient) -> None:
    alice = create_user_row(public, "alice")
    add_memo(public, "one", alice, "one", created_ts=1_700_000_000)
    response = public.get("/u/alice/rss.xml", headers={"host": "n.test", "x-forwarded-proto": "https"})
    assert items(response)[0].findtext("link") == "https://n.test/memos/one"


@pytest.mark.parametrize(("content", "title"), [
    ("#work notes", "work notes"),
    ("  ###   Heading  \nrest", "Heading"),
    ("", "Memo"),
    ("####### seven", "# seven"),
    ("word " * 30, ("word " * 20).rstrip() + "..."),
    ("x" * 120, "x" * 100 + "..."),
    ("é" * 60, "é" * 50 + "..."),
])
def test_item_titles(content: str, title: str) -> None:
    assert item_title(content) == title


def test_cdata_and_text_survive_any_string() -> None:
    hostile = "a]]>b]]]]>c<![CDATA[d\x00\x08\x1b\ud800\uffff&<>e"
    document = f"<r><c>{cdata(hostile)}</c><t>{xml_text(hostile)}</t></r>"
    root = ET.fromstring(document)
    assert root.findtext("c") == root.findtext("t") == "a]]>b]]]]>c<![CDATA[d&<>e"


def test_enclosure_names_the_first_attachment(public: TestClient) -> None:
    from support import sqlite_execute

    alice = create_user_row(public, "alice")
    local = add_memo(public, "pic", alice, "with a picture", created_ts=1_700_000_000)
    external = add_memo(public, "link", alice, "with a link", created_ts=1_700_000_100)
    untyped = add_memo(public, "blob", alice, "untyped", created_ts=1_700_000_200)
    dsn = pathlib.Path(public.app.state.profile.dsn)  # type: ignore[attr-defined]
    sqlite_execute(dsn, "INSERT INTO attachment (uid, creator_id, filename, type, size, memo_id, storage_type,"
                        f" reference) VALUES ('att1', {alice}, 'a b&c.png', 'image/png', 1234, {local}, 'LOCAL',"
                        " 'assets/x.png'), "
                        f"('att2', {alice}, 'x.pdf', 'application/pdf', 9, {external}, 'EXTERNAL',"
                        " 'https://cdn.example/x.pdf?a=1&b=2'), "
                        f"('att3', {alice}, 'y', '', 5, {untyped}, 'LOCAL', '')")
    found = {item.findtext("title"): item.find("enclosure") for item in items(public.get("/explore/rss.xml",
                                                                                        headers={"host": "h.test"}))}
    picture, link = found["with a picture"], found["with a link"]
    assert picture is not None and link is not None
    assert picture.attrib == {"url": "http://h.test/file/attachments/att1/a%20b%26c.png", "length": "1234",
                              "type": "image/png"}
    assert link.attrib == {"url": "https://cdn.example/x.pdf?a=1&b=2", "length": "9", "type": "application/pdf"}
    assert found["untyped"] is None



def test_memos_written_through_the_api_appear_in_the_feed(public: TestClient) -> None:
    from support import bearer, sign_in

    create_user_row(public, "alice")
    alice = bearer(sign_in(public, "alice"))
    for uid, visibility in (("pub", "PUBLIC"), ("prot", "PROTECTED")):
        response = public.post("/api/v1/memos", params={"memoId": uid},
                               json={"content": f"# {uid}\n**bold**", "visibility": visibility}, headers=alice)
        assert response.status_code == 200, response.text
    comment = public.post("/api/v1/memos/pub/comments", json={"content": "a reply", "visibility": "PUBLIC"},
                          headers=alice)
    assert comment.status_code == 200, comment.text
    for path in ("/explore/rss.xml", "/u/alice/rss.xml"):
        (item,) = items(public.get(path))
        assert item.findtext("title") == "pub"
        assert "<strong>bold</strong>" in item.findtext(CONTENT, "")
