"""The memo list under every feed: its end, its empty state and its loading spinner (frontend.md F5, F6)."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from ui_support import Server, User, make_user, sign_in


def test_f5_back_to_top_appears_at_the_end_of_a_scrolled_list(context_factory: Any, server: Server) -> None:
    writer = make_user(server)
    for number in range(20):
        writer.memo(f"long memo {number:02d}\n\nwith a second paragraph\n\nand a third one")
    page = context_factory().new_page()
    sign_in(page, writer)
    back = page.get_by_role("button", name="Back to top ↑")
    expect(back).to_be_hidden()
    cards = page.locator("article.memo-card")
    while cards.count() < 20:
        shown = cards.count()
        cards.last.scroll_into_view_if_needed()
        expect(cards).not_to_have_count(shown)
    back.scroll_into_view_if_needed()
    expect(back).to_be_visible()
    back.click()
    expect(back).to_be_hidden()


def test_f6_an_empty_feed_shows_the_bird_and_one_line(signed_in: Any) -> None:
    status = signed_in.locator(".list-status.empty")
    expect(status).to_have_text("No memos here yet.")
    bird = status.locator("img.empty-bird")
    expect(bird).to_be_visible()
    assert bird.evaluate("img => img.naturalWidth > 0 && img.alt === ''")
    assert bird.evaluate("img => getComputedStyle(img).animationName") == "hop"


def test_f6_the_bird_keeps_still_under_reduced_motion(context_factory: Any, user: User) -> None:
    page = context_factory(reduced_motion="reduce").new_page()
    sign_in(page, user)
    bird = page.locator("img.empty-bird")
    expect(bird).to_be_visible()
    assert bird.evaluate("img => getComputedStyle(img).animationName") == "none"


def test_f5_a_slow_page_shows_a_spinner_until_it_arrives(signed_in: Any, user: User) -> None:
    page = signed_in
    user.memo("waited for")
    held: list[Any] = []
    page.route("**/memos.api.v1.MemoService/ListMemos", lambda route: held.append(route))
    page.reload()
    expect(page.locator(".list-status.busy")).to_be_visible()
    for route in held:
        route.continue_()
    page.unroute("**/memos.api.v1.MemoService/ListMemos")
    expect(page.locator("article.memo-card")).to_contain_text("waited for")
    expect(page.locator(".list-status.busy")).to_have_count(0)
