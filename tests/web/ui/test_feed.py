"""Feeds, the composer, filters and infinite scroll (frontend.md §17 BT05-BT10, F5)."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from ui_support import Server, User, make_user, rail_labels, sign_in


def cards(page: Any) -> Any:
    return page.locator("article.memo-card")


def compose(page: Any, text: str, visibility: str = "Private") -> None:
    editor = page.get_by_role("textbox", name="Memo text")
    editor.fill(text)
    page.get_by_label("Visibility").select_option(label=visibility)
    editor.press("Control+Enter")


def test_bt05_explore_shows_each_viewer_what_they_may_see(context_factory: Any, server: Server) -> None:
    writer = make_user(server)
    writer.memo("bt05 public words", "PUBLIC")
    writer.memo("bt05 protected words", "PROTECTED")
    writer.memo("bt05 private words", "PRIVATE")
    guest = context_factory().new_page()
    guest.goto("/explore")
    expect(cards(guest).filter(has_text="bt05 public words")).to_be_visible()
    expect(cards(guest).filter(has_text="bt05 public words").locator(".memo-author")).to_have_text(writer.username)
    expect(cards(guest).filter(has_text="bt05 protected")).to_have_count(0)
    expect(cards(guest).filter(has_text="bt05 private")).to_have_count(0)
    assert rail_labels(guest) == ["Explore", "About", "Sign in"]

    reader = context_factory().new_page()
    sign_in(reader, make_user(server))
    reader.goto("/explore")
    expect(cards(reader).filter(has_text="bt05 protected words")).to_be_visible()
    expect(cards(reader).filter(has_text="bt05 public words")).to_be_visible()
    expect(cards(reader).filter(has_text="bt05 private")).to_have_count(0)


def test_bt06_a_new_memo_appears_first_with_its_tag(signed_in: Any, user: User) -> None:
    page = signed_in
    user.memo("an older memo")
    page.reload()
    expect(cards(page)).to_have_count(1)
    compose(page, "hello #work")
    first = cards(page).first
    expect(first).to_contain_text("hello")
    expect(first.locator(".pill-new")).to_have_text("New")
    expect(page.get_by_role("textbox", name="Memo text")).to_have_value("")
    expect(page.locator(".explorer").get_by_role("button", name="#work")).to_be_visible()
    page.reload()
    expect(cards(page).first).to_contain_text("hello")
    expect(page.get_by_role("textbox", name="Memo text")).to_have_value("")
    stored = user.call("MemoService", "ListMemos", {"filter": f'creator == "{user.name}"'})["memos"]
    assert [memo["content"] for memo in stored] == ["hello #work", "an older memo"]
    assert stored[0]["visibility"] == "PRIVATE"


def test_bt07_the_draft_survives_a_reload_until_saved(signed_in: Any) -> None:
    page = signed_in
    editor = page.get_by_role("textbox", name="Memo text")
    editor.fill("draft text")
    page.wait_for_function("() => Object.values(localStorage).includes('draft text')")
    page.reload()
    expect(editor).to_have_value("draft text")
    editor.press("Control+Enter")
    expect(cards(page).first).to_contain_text("draft text")
    page.reload()
    expect(cards(page).first).to_contain_text("draft text")
    expect(editor).to_have_value("")


def test_bt08_tag_completion_offers_existing_tags(signed_in: Any, user: User) -> None:
    page = signed_in
    user.memo("tagged #work")
    page.reload()
    editor = page.get_by_role("textbox", name="Memo text")
    expect(page.locator(".explorer").get_by_role("button", name="#work")).to_be_visible()
    editor.press_sequentially("note #wo")
    expect(page.get_by_role("option", name="#work")).to_be_visible()
    editor.press("Enter")
    expect(editor).to_have_value("note #work ")


def test_bt09_a_tag_filters_the_feed_and_its_chip_undoes_it(signed_in: Any, user: User) -> None:
    page = signed_in
    user.memo("plain memo")
    user.memo("memo for #work")
    page.reload()
    expect(cards(page)).to_have_count(2)
    cards(page).first.get_by_role("link", name="#work").click()
    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("memo for")
    assert "filter=tagSearch:work" in page.url
    chip = page.locator(".chip")
    expect(chip).to_have_text("work")
    page.reload()
    expect(cards(page)).to_have_count(1)
    chip.get_by_role("button", name="Remove filter work").click()
    expect(cards(page)).to_have_count(2)
    assert "filter=" not in page.url


def test_bt10_search_words_become_chips_that_all_must_match(signed_in: Any, user: User) -> None:
    page = signed_in
    user.memo("alpha only")
    user.memo("beta only")
    user.memo("alpha and beta together")
    page.reload()
    expect(cards(page)).to_have_count(3)
    search = page.get_by_role("searchbox", name="Search memos...")
    search.fill("alpha beta")
    search.press("Enter")
    expect(page.locator(".chip")).to_have_count(2)
    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("alpha and beta together")
    expect(search).to_have_value("")


def test_f5_the_feed_loads_the_next_page_on_scroll(context_factory: Any, server: Server) -> None:
    writer = make_user(server)
    for number in range(40):
        writer.memo(f"scroll memo {number:02d}")
    page = context_factory().new_page()
    sign_in(page, writer)
    expect(cards(page).first).to_contain_text("scroll memo 39")
    assert cards(page).count() < 40
    while (shown := cards(page).count()) < 40:
        cards(page).last.scroll_into_view_if_needed()
        expect(cards(page)).not_to_have_count(shown)  # the next page came
    expect(cards(page)).to_have_count(40)
    expect(cards(page).last).to_contain_text("scroll memo 00")
    assert re.search(r"/$", page.url)


def test_f4_the_profile_share_button_copies_the_profile_address(context_factory: Any, server: Server) -> None:
    writer = make_user(server)
    context = context_factory()
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, writer)
    page.goto(f"/u/{writer.username}")
    page.get_by_role("button", name="Share").click()
    expect(page.locator(".toast")).to_have_text("Profile link copied")
    assert page.evaluate("navigator.clipboard.readText()") == f"{server.url}/u/{writer.username}"


def test_m2_with_shown_time_updated_an_edited_card_says_last_updated(signed_in: Any, user: User) -> None:
    page = signed_in
    memo = user.memo("first words")
    edited = {"name": memo["name"], "content": "new words", "updateTime": "2031-01-01T00:00:00Z"}
    user.call("MemoService", "UpdateMemo", {"memo": edited, "updateMask": "content,updateTime"})
    page.evaluate("localStorage.setItem('memos-view-setting', JSON.stringify({time: 'update'}))")
    page.reload()
    expect(cards(page).first.locator(".memo-time")).to_contain_text("Last updated at")


def test_bt38_the_profile_map_tab_pins_the_memos_that_have_a_location(context_factory: Any, server: Server) -> None:
    writer = make_user(server)
    places = [("bt38 lunch", 48.8566, 2.3522, "Paris"), ("bt38 coffee", 48.8571, 2.3519, "Paris"),
              ("bt38 museum", 52.5200, 13.4050, "Berlin")]
    for content, latitude, longitude, label in places:
        memo = writer.memo(content, "PUBLIC")
        location = {"placeholder": label, "latitude": latitude, "longitude": longitude}
        writer.call("MemoService", "UpdateMemo", {"memo": {"name": memo["name"], "location": location},
                                                  "updateMask": "location"})
    writer.memo("bt38 nowhere in particular", "PUBLIC")
    page = context_factory().new_page()
    page.goto(f"/u/{writer.username}")
    expect(cards(page)).to_have_count(4)
    page.get_by_role("tab", name="Map").click()
    assert page.url.endswith(f"/u/{writer.username}?view=map")
    expect(page.locator("aside.explorer")).to_have_count(0)  # the map takes the explorer's width
    expect(page.get_by_text("Places pinned: 2")).to_be_visible()
    pins = page.locator("a.map-pin")
    expect(pins).to_have_count(2)
    paris = pins.filter(has_text="Paris")
    expect(paris.locator(".pin-dot")).to_have_text("2")
    expect(paris).to_contain_text("bt38 lunch")
    expect(paris).to_contain_text("bt38 coffee")
    berlin = pins.filter(has_text="Berlin")
    # North of Paris and east of it on the map, as on the globe.
    paris_box, berlin_box = paris.bounding_box(), berlin.bounding_box()
    assert berlin_box["y"] < paris_box["y"] and berlin_box["x"] > paris_box["x"]
    berlin.click()
    page.wait_for_url(re.compile(r"/memos/"))
    expect(cards(page).first).to_contain_text("bt38 museum")
    page.go_back()
    page.get_by_role("tab", name="Memos").click()
    expect(cards(page)).to_have_count(4)
    expect(page.locator("aside.explorer")).to_have_count(1)
    other = make_user(server)
    page.goto(f"/u/{other.username}?view=map")
    expect(page.get_by_text("No memos with a location yet.")).to_be_visible()
