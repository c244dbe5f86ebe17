"""Live updates over /api/v1/sse (frontend.md §17 BT33; G7)."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from ui_support import User, sign_in


def cards(page: Any) -> Any:
    return page.locator("article.memo-card")


def connected(page: Any) -> None:
    page.wait_for_function("() => document.querySelector('.live-dot')?.className === 'live-dot'")


def test_bt33_a_memo_posted_in_one_tab_appears_in_the_other(context_factory: Any, user: User) -> None:
    first = context_factory().new_page()
    second = context_factory().new_page()
    sign_in(first, user)
    sign_in(second, user)
    connected(second)
    expect(second.locator(".live-dot")).not_to_have_class("live-connecting")
    editor = first.get_by_role("textbox", name="Memo text")
    editor.fill("sent from the first tab #live")
    editor.press("Control+Enter")
    expect(cards(second).first).to_contain_text("sent from the first tab", timeout=5000)
    expect(second.locator(".explorer").get_by_role("button", name="#live")).to_be_visible()
    # The first tab's own event does not reload its list over the new card (it keeps its "New" pill).
    first.wait_for_timeout(1000)
    expect(cards(first).first.locator(".pill-new")).to_be_visible()
    expect(cards(first)).to_have_count(1)

    # Changes and deletions made by another client reach the open page too.
    memo = user.memo("written by a script")
    changed = cards(second).filter(has_text="written by a script")
    expect(changed).to_be_visible(timeout=5000)
    user.call("MemoService", "UpdateMemo", {"memo": {"name": memo["name"], "content": "rewritten by a script"},
                                           "updateMask": "content"})
    expect(cards(second).filter(has_text="rewritten by a script")).to_be_visible(timeout=5000)
    user.call("MemoService", "DeleteMemo", {"name": memo["name"]})
    expect(cards(second).filter(has_text="by a script")).to_have_count(0, timeout=5000)


def test_g7_guests_open_no_stream(page: Any) -> None:
    streams: list[str] = []
    page.on("request", lambda request: "/api/v1/sse" in request.url and streams.append(request.url))
    page.goto("/explore")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert streams == []
