"""Display settings of the feeds (frontend.md §17 BT26; F12, F13, F14, Y3)."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from ui_support import User


def cards(page: Any) -> Any:
    return page.locator("article.memo-card")


def open_settings(page: Any) -> Any:
    page.locator(".explorer").get_by_role("button", name="Display settings").click()
    return page.get_by_role("dialog", name="Display settings")


def test_bt26_oldest_first_and_two_columns_survive_a_reload(signed_in: Any, user: User) -> None:
    page = signed_in
    for number in range(1, 5):  # a day apart: memos of one second would tie
        day = f"2024-01-0{number}T10:00:00Z"
        memo = {"content": f"ordered memo {number}", "visibility": "PRIVATE", "createTime": day}
        user.call("MemoService", "CreateMemo", {"memo": memo})
    page.reload()
    expect(cards(page).first).to_contain_text("ordered memo 4")
    panel = open_settings(page)
    panel.get_by_label("Order").select_option(label="Oldest first")
    expect(cards(page).first).to_contain_text("ordered memo 1")
    expect(cards(page).last).to_contain_text("ordered memo 4")

    panel = page.get_by_role("dialog", name="Display settings")
    panel.get_by_role("radio", name="2 columns").check()
    compact = panel.get_by_role("switch", name="Compact mode")
    expect(compact).to_be_checked()
    expect(compact).to_be_disabled()
    first, second = cards(page).nth(0).bounding_box(), cards(page).nth(1).bounding_box()
    assert first is not None and second is not None
    assert abs(first["y"] - second["y"]) < 1 and second["x"] > first["x"] + first["width"]
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Display settings")).to_have_count(0)
    expect(page.locator(".explorer").get_by_role("button", name="Display settings")).to_be_focused()

    page.reload()
    expect(cards(page).first).to_contain_text("ordered memo 1")
    first, second = cards(page).nth(0).bounding_box(), cards(page).nth(1).bounding_box()
    assert first is not None and second is not None and abs(first["y"] - second["y"]) < 1
    panel = open_settings(page)
    expect(panel.get_by_label("Order")).to_have_value("asc")
    # The layout is a radio group: arrow keys move the choice.
    panel.get_by_role("radio", name="2 columns").focus()
    page.keyboard.press("ArrowRight")
    expect(panel.get_by_role("radio", name="3 columns")).to_be_checked()
    panel.get_by_role("radio", name="List").check()
    expect(panel.get_by_role("switch", name="Compact mode")).not_to_be_checked()
    expect(panel.get_by_role("switch", name="Compact mode")).to_be_enabled()


def test_f14_compact_mode_folds_long_memos(signed_in: Any, user: User) -> None:
    page = signed_in
    user.memo("\n\n".join(f"long paragraph {number}" for number in range(40)))
    user.memo("a short memo")
    page.reload()
    expect(page.get_by_role("button", name="Show more")).to_have_count(0)
    panel = open_settings(page)
    panel.get_by_role("switch", name="Compact mode").check()
    show_more = page.get_by_role("button", name="Show more")
    expect(show_more).to_have_count(1)
    long_card = cards(page).filter(has_text="long paragraph 0")
    folded = long_card.locator(".memo-content").bounding_box()
    assert folded is not None and folded["height"] <= 361
    show_more.click()
    expect(long_card.get_by_role("button", name="Show less")).to_have_attribute("aria-expanded", "true")
    opened = long_card.locator(".memo-content").bounding_box()
    assert opened is not None and opened["height"] > 420


def test_f12_shown_time_updated_orders_by_the_last_edit(signed_in: Any, user: User) -> None:
    page = signed_in
    def dated(content: str, day: str) -> dict[str, Any]:
        memo = {"content": content, "visibility": "PRIVATE", "createTime": day, "updateTime": day}
        return user.call("MemoService", "CreateMemo", {"memo": memo})

    older = dated("edited later", "2024-01-01T10:00:00Z")
    dated("written later", "2024-01-02T10:00:00Z")
    user.call("MemoService", "UpdateMemo", {"memo": {"name": older["name"], "content": "edited later, again"},
                                           "updateMask": "content,updateTime"})
    page.reload()
    expect(cards(page).first).to_contain_text("written later")
    open_settings(page).get_by_label("Shown time").select_option(label="Last updated at")
    expect(cards(page).first).to_contain_text("edited later, again")
    today = page.locator('.explorer .calendar [aria-current="date"]')
    expect(today).to_have_attribute("aria-label", re.compile(r"^1 memo updated on "))
