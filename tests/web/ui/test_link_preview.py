"""Link preview cards for a paragraph that is one bare URL (frontend.md M18)."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from ui_support import Server, User


def test_m18_a_bare_url_paragraph_becomes_a_card_with_its_title(signed_in: Any, user: User, server: Server) -> None:
    page = signed_in
    user.memo(f"look at this\n\n{server.url}/about\n\nand this {server.url}/explore inline")
    page.reload()
    card = page.locator("article.memo-card a.link-card")
    expect(card).to_contain_text("127.0.0.1")
    expect(card).to_contain_text("Memos")
    assert card.get_attribute("href") == f"{server.url}/about"
    assert card.get_attribute("rel") == "noopener noreferrer"
    # A URL inside a sentence stays a plain link.
    expect(page.locator("article.memo-card .memo-content a.link-card")).to_have_count(1)


def test_m18_no_card_when_the_view_setting_turns_previews_off(signed_in: Any, user: User, server: Server) -> None:
    page = signed_in
    page.evaluate("localStorage.setItem('memos-view-setting', JSON.stringify({linkPreview: false}))")
    user.memo(f"{server.url}/about")
    page.reload()
    expect(page.locator("article.memo-card .memo-content a")).to_have_text(f"{server.url}/about")
    expect(page.locator("a.link-card")).to_have_count(0)


def test_m18_a_page_that_cannot_be_fetched_stays_a_plain_link(signed_in: Any, user: User, watch: Any) -> None:
    watch.expect(r"http 400: .*GetLinkMetadata")
    watch.expect(r"console: Failed to load resource")
    page = signed_in
    user.memo("http://127.0.0.1:9/nothing-listens-here")
    with page.expect_response(lambda response: "GetLinkMetadata" in response.url):
        page.reload()
    link = page.locator("article.memo-card .memo-content a")
    expect(link).to_have_text("http://127.0.0.1:9/nothing-listens-here")
    expect(page.locator("a.link-card")).to_have_count(0)
