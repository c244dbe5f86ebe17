"""The comment strip under feed cards (frontend.md F20, §17 BT20 second half)."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from ui_support import Server, User, make_user


def test_f20_a_card_with_comments_shows_the_count_and_three_previews(
        signed_in: Any, user: User, server: Server) -> None:
    page = signed_in
    memo = user.memo("a memo people talk about", "PROTECTED")
    user.memo("a quiet memo")
    other = make_user(server)
    comments = [other.call("MemoService", "CreateMemoComment",
                           {"name": memo["name"], "comment": {"content": f"reply {n}"}}) for n in range(4)]
    page.reload()
    card = page.locator("article.memo-card").filter(has_text="a memo people talk about")
    strip = card.locator(".comment-strip")
    expect(strip).to_contain_text("Comments (4)")
    expect(strip.locator(".strip-list li")).to_have_count(3)
    expect(strip.locator(".strip-list li").first).to_contain_text(other.username)
    uid = memo["name"].split("/")[1]
    previews = strip.locator(".strip-list a")
    hrefs = [previews.nth(n).get_attribute("href") for n in range(3)]
    assert all(href in {f"/memos/{uid}#{c['name'].split('/')[1]}" for c in comments} for href in hrefs)
    expect(page.locator("article.memo-card").filter(has_text="a quiet memo").locator(".comment-strip")).to_have_count(0)
    strip.get_by_role("link", name="View all ↗").click()
    page.wait_for_url(f"**/memos/{uid}#comments")
