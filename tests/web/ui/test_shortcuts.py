"""Shortcuts: the /shortcuts page and selecting one in the home explorer (frontend.md F18, F19, F11, §17 BT35)."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from ui_support import User


def cards(page: Any) -> Any:
    return page.locator("article.memo-card")


def test_bt35_a_shortcut_is_validated_saved_and_selected(signed_in: Any, user: User, watch: Any) -> None:
    page = signed_in
    pinned = user.memo("the pinned one")
    user.call("MemoService", "UpdateMemo", {"memo": {"name": pinned["name"], "pinned": True}, "updateMask": "pinned"})
    user.memo("an ordinary one")
    page.goto("/shortcuts")
    page.get_by_role("button", name="Create shortcut").click()
    page.get_by_label("Title").fill("📌 Pins")
    page.get_by_label("Filter").fill("pinned")
    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_text("The filter looks valid")).to_be_visible()
    assert user.call("ShortcutService", "ListShortcuts", {"parent": user.name}).get("shortcuts", []) == []
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".rows").get_by_text("📌 Pins")).to_be_visible()
    page.get_by_role("button", name="Create shortcut").click()
    page.get_by_label("Title").fill("broken")
    page.get_by_label("Filter").fill("foo ==")
    watch.expect(r"ShortcutService/CreateShortcut")  # the invalid expression is refused
    page.get_by_role("button", name="Validate").click()
    expect(page.locator(".toast-error")).to_be_visible()
    assert len(user.call("ShortcutService", "ListShortcuts", {"parent": user.name})["shortcuts"]) == 1
    page.locator("a.rail-link[href='/']").click()
    shortcut = page.locator(".shortcut-row").get_by_role("button", name="📌 Pins", exact=True)
    expect(shortcut.locator(".shortcut-emoji")).to_have_text("📌")
    expect(cards(page)).to_have_count(2)
    shortcut.click()
    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("the pinned one")
    expect(shortcut).to_have_attribute("aria-pressed", "true")
    assert "filter" not in page.url
    shortcut.click()
    expect(cards(page)).to_have_count(2)


def test_a_shortcut_is_edited_from_the_sidebar_and_deleted(signed_in: Any, user: User) -> None:
    page = signed_in
    shortcut = {"title": "Links", "filter": "has_link"}
    user.call("ShortcutService", "CreateShortcut", {"parent": user.name, "shortcut": shortcut})
    page.reload()
    page.get_by_role("button", name="Actions for Links").click()
    page.get_by_role("menuitem", name="Edit").click()
    page.wait_for_url(re.compile(r"/shortcuts\?edit="))
    expect(page.get_by_label("Filter")).to_have_value("has_link")
    page.get_by_label("Title").fill("Code")
    page.get_by_label("Filter").fill("has_code")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".rows").get_by_text("has_code")).to_be_visible()
    assert user.call("ShortcutService", "ListShortcuts", {"parent": user.name})["shortcuts"][0]["title"] == "Code"
    page.get_by_role("button", name="Actions for Code").click()
    page.get_by_role("menuitem", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No shortcuts yet.")).to_be_visible()
