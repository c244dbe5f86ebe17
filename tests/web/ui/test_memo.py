"""The memo page: comments, the sidebar (visibility, pin, share links), reactions, and the shared-memo page
(frontend.md §17 BT04 (share part), BT12, BT20, BT22, BT24; D1-D9, M27)."""
from __future__ import annotations

import base64
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from ui_support import PASSWORD, Server, User, make_user, memos_server, screenshot, sign_in


def card(page: Any, text: str) -> Any:
    return page.locator("article.memo-card").filter(has_text=text)


def uid(memo: dict[str, Any]) -> str:
    return str(memo["name"]).split("/")[1]


def attach_text(who: User, memo: dict[str, Any], filename: str, data: bytes) -> None:
    attachment = {"filename": filename, "type": "text/plain", "content": base64.b64encode(data).decode(),
                  "memo": memo["name"]}
    who.call("AttachmentService", "CreateAttachment", {"attachment": attachment})


def test_bt20_a_comment_is_written_on_the_memo_page(signed_in: Any, user: User) -> None:
    page = signed_in
    memo = user.memo("bt20 the memo to discuss")
    page.goto(f"/{memo['name']}")
    expect(card(page, "bt20 the memo to discuss")).to_be_visible()
    expect(page.locator(".comments-title")).to_be_hidden()
    page.get_by_role("button", name="Write a comment").click()
    composer = page.locator(".comments").get_by_role("textbox", name="Memo text")
    expect(composer).to_have_attribute("placeholder", "Add your comment here...")
    composer.fill("bt20 my first comment")
    composer.press("Control+Enter")
    comment = page.locator(".comment-card").filter(has_text="bt20 my first comment")
    expect(comment).to_be_visible()
    expect(comment.locator(".memo-author")).to_have_text(user.username)
    expect(page.locator(".comments-title")).to_have_text("Comments (1)")
    stored = user.call("MemoService", "ListMemoComments", {"name": memo["name"]})["memos"]
    assert [item["content"] for item in stored] == ["bt20 my first comment"]
    assert comment.get_attribute("id") == uid(stored[0])

    # A comment's own page leads back to the memo it belongs to; a reload lists the comment again.
    page.goto(f"/{stored[0]['name']}")
    parent = page.locator(".parent-link")
    expect(parent).to_contain_text("bt20 the memo to discuss")
    parent.click()
    expect(page).to_have_url(re.compile(f"/memos/{uid(memo)}$"))
    expect(page.locator(".comment-card")).to_have_count(1)
    screenshot(page, "memo-detail-light")


def test_comments_load_in_pages_of_sixteen(signed_in: Any, user: User) -> None:
    page = signed_in
    memo = user.memo("a memo with many comments")
    for number in range(18):
        user.call("MemoService", "CreateMemoComment", {"name": memo["name"], "comment": {"content": f"reply {number}"}})
    page.goto(f"/{memo['name']}")
    expect(page.locator(".comment-card")).to_have_count(16)
    page.get_by_role("button", name="Load more").click()
    expect(page.locator(".comment-card")).to_have_count(18)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    expect(page.locator(".comments-title")).to_have_text("Comments (18)")


def test_bt12_the_sidebar_visibility_picker_hides_the_memo_from_guests(
        signed_in: Any, user: User, context_factory: Any, watch: Any) -> None:
    page = signed_in
    editor = page.get_by_role("textbox", name="Memo text")
    editor.fill("bt12 public for now")
    page.locator(".editor").get_by_label("Visibility").select_option(label="Public")
    editor.press("Control+Enter")
    expect(card(page, "bt12 public for now").get_by_role("img", name="Public")).to_be_visible()
    memo = user.call("MemoService", "ListMemos", {"filter": 'content.contains("bt12")'})["memos"][0]
    guest = context_factory().new_page()
    guest.goto("/explore")
    expect(card(guest, "bt12 public for now")).to_be_visible()

    page.goto(f"/{memo['name']}")
    sidebar = page.get_by_role("complementary", name="Memo details")
    expect(sidebar).to_contain_text(user.username)
    with page.expect_response(lambda response: "UpdateMemo" in response.url and response.ok):
        sidebar.get_by_label("Visibility").select_option(label="Private")
    expect(page.locator(".toast").filter(has_text="Visibility changed")).to_be_visible()
    assert user.call("MemoService", "GetMemo", {"name": memo["name"]})["visibility"] == "PRIVATE"

    guest.goto("/explore")
    expect(guest.locator(".memo-list")).to_be_visible()
    expect(card(guest, "bt12 public for now")).to_have_count(0)
    watch.expect(r"http 401: .*MemoService/GetMemo")
    watch.expect(r"console: Failed to load resource.*401")
    guest.goto(f"/{memo['name']}")
    expect(guest).to_have_url(re.compile(r"/404$"))


def test_the_sidebar_pins_and_lists_tags_and_attachments(signed_in: Any, user: User) -> None:
    page = signed_in
    memo = user.memo("sidebar #alpha text")
    attach_text(user, memo, "hello.txt", b"hello")
    page.goto(f"/{memo['name']}")
    sidebar = page.get_by_role("complementary", name="Memo details")
    expect(sidebar.get_by_role("link", name="#alpha")).to_have_attribute("href", "/?filter=tagSearch:alpha")
    expect(sidebar.get_by_role("link", name="hello.txt")).to_have_attribute("href", re.compile(r"^/file/attachments/"))
    sidebar.get_by_role("button", name="Pin").click()
    expect(sidebar.get_by_role("button", name="Unpin")).to_be_visible()
    assert user.call("MemoService", "GetMemo", {"name": memo["name"]})["pinned"] is True


def test_bt22_reactions_toggle_and_guests_only_read_them(
        signed_in: Any, user: User, context_factory: Any) -> None:
    page = signed_in
    memo = user.memo("bt22 react to me", "PUBLIC")
    page.goto(f"/{memo['name']}")
    target = card(page, "bt22 react to me")
    target.hover()
    target.get_by_role("button", name="Add a reaction").click()
    page.get_by_role("group", name="Reactions").get_by_role("button", name="👍").click()
    pill = target.locator(".reaction-pill")
    expect(pill).to_have_text("👍 1")
    expect(pill).to_have_attribute("aria-pressed", "true")
    expect(pill).to_have_attribute("title", f"{user.username} reacted with 👍")
    reactions = user.call("MemoService", "GetMemo", {"name": memo["name"]})["reactions"]
    assert [(item["reactionType"], item["creator"]) for item in reactions] == [("👍", user.name)]

    guest = context_factory().new_page()
    guest.goto(f"/{memo['name']}")
    guest_pill = card(guest, "bt22 react to me").locator(".reaction-pill")
    expect(guest_pill).to_have_text("👍 1")
    expect(guest_pill).to_be_disabled()
    expect(card(guest, "bt22 react to me").get_by_role("button", name="Add a reaction")).to_have_count(0)

    pill.click()
    expect(target.locator(".reaction-pill")).to_have_count(0)
    assert user.call("MemoService", "GetMemo", {"name": memo["name"]}).get("reactions", []) == []


def test_bt24_a_share_link_opens_the_memo_for_a_guest_until_revoked(
        signed_in: Any, user: User, context_factory: Any, watch: Any) -> None:
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    memo = user.memo("bt24 shared with a link")
    page.goto(f"/{memo['name']}")
    page.get_by_role("complementary", name="Memo details").get_by_role("button", name="Share links").click()
    dialog = page.get_by_role("dialog", name="Share this memo")
    expect(dialog).to_contain_text("No share links yet.")
    dialog.get_by_label("Expiry").select_option(label="7 days")
    dialog.get_by_role("button", name="Create link").click()
    row = dialog.locator(".share-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Expires ")
    url = row.get_by_label("Share link").input_value()
    assert re.fullmatch(re.escape(page.url.split("/memos/")[0]) + r"/memos/shares/[\w-]+", url), url
    row.get_by_role("button", name="Copy link").click()
    assert page.evaluate("navigator.clipboard.readText()") == url
    screenshot(page, "share-dialog-light")

    guest = context_factory().new_page()
    guest.goto(url)
    shared = card(guest, "bt24 shared with a link")
    expect(shared).to_be_visible()
    expect(shared.get_by_role("button", name="Memo actions")).to_have_count(0)
    expect(guest.locator(".comments")).to_have_count(0)
    expect(guest.get_by_role("textbox", name="Memo text")).to_have_count(0)

    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog", name="Revoke this link?").get_by_role("button", name="Revoke").click()
    expect(dialog).to_contain_text("No share links yet.")
    watch.expect(r"http 404: .*(GetSharedMemo|GetSharedMemoHtml)")
    watch.expect(r"console: Failed to load resource.*404")
    guest.reload()
    expect(guest).to_have_url(re.compile(r"/404$"))


@pytest.fixture(scope="module")
def private_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with memos_server(tmp_path_factory.mktemp("private") / "data", public=False) as running:
        running.call("UserService", "CreateUser", {"user": {"username": "owner", "password": PASSWORD}})
        yield running


def test_bt04_a_share_link_works_anonymously_on_a_private_instance(
        browser: Any, private_server: Server, tmp_path: pathlib.Path) -> None:
    owner = User(private_server, "owner", private_server.sign_in("owner"))
    # The mention: a guest here may not look users up, so it stays text and no lookup fails.
    memo = owner.memo("bt04 private but shared #secret by @owner")
    attach_text(owner, memo, "words.txt", b"attached words")
    share = owner.call("MemoService", "CreateMemoShare", {"parent": memo["name"], "memoShare": {}})
    token = share["name"].split("/")[-1]
    context = browser.new_context(base_url=private_server.url, viewport={"width": 1280, "height": 800})
    try:
        problems: list[str] = []
        guest = context.new_page()
        guest.on("console", lambda message: message.type == "error" and problems.append(message.text))
        guest.on("response", lambda response: response.status >= 400 and problems.append(response.url))
        guest.goto("/explore")
        expect(guest).to_have_url(re.compile(r"/auth\?redirect=%2Fexplore$"))
        guest.goto(f"/memos/shares/{token}")
        shared = card(guest, "bt04 private but shared")
        expect(shared).to_be_visible()
        expect(shared.locator("a.tag")).to_have_text("#secret")
        expect(shared.locator("span.mention")).to_have_text("@owner")
        link = shared.locator(".att-doc").get_by_role("link", name="words.txt")
        expected = rf"^/file/attachments/[^/]+/words\.txt\?share_token={token}$"
        expect(link).to_have_attribute("href", re.compile(expected))
        assert guest.request.get(link.get_attribute("href") or "").body() == b"attached words"
        expect(guest.get_by_role("complementary", name="Memo details")).to_contain_text("owner")
        assert problems == []
    finally:
        context.close()


def test_the_detail_page_of_another_users_memo_offers_no_writing(
        context_factory: Any, server: Server, user: User) -> None:
    memo = user.memo("read only for others", "PROTECTED")
    other = context_factory().new_page()
    sign_in(other, make_user(server))
    other.goto(f"/{memo['name']}")
    sidebar = other.get_by_role("complementary", name="Memo details")
    expect(sidebar).to_contain_text("Protected")
    expect(sidebar.get_by_role("button", name="Share links")).to_have_count(0)
    expect(sidebar.get_by_label("Visibility")).to_have_count(0)
    expect(other.get_by_role("button", name="Write a comment")).to_be_visible()
