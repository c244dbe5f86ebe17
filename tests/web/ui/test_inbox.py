"""The inbox page and the unread badge on the rail (frontend.md §10, N2, §17 BT21)."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from ui_support import Server, User, make_user


def test_bt21_a_comment_shows_in_the_badge_and_opening_it_marks_it_read(
        signed_in: Any, user: User, server: Server) -> None:
    page = signed_in
    memo = user.memo("a memo worth a comment", visibility="PROTECTED")
    other = make_user(server)
    other.call("MemoService", "CreateMemoComment", {"name": memo["name"], "comment": {"content": "nice one"}})
    page.reload()
    inbox = page.get_by_role("link", name="Inbox (1 unread)")
    expect(inbox.locator(".badge")).to_have_text("1")
    inbox.click()
    page.wait_for_url(re.compile(r"/inbox$"))
    expect(page.get_by_role("tab", name="Unread (1)")).to_be_visible()
    item = page.locator(".inbox-item.unread")
    expect(item).to_contain_text(f"{other.username} commented on your memo")
    expect(item).to_contain_text("a memo worth a comment")
    item.get_by_role("button").filter(has_text="nice one").click()
    page.wait_for_url(re.compile(rf"/{memo['name']}$"))
    expect(page.get_by_role("link", name="Inbox", exact=True)).to_be_visible()
    expect(page.locator(".rail .badge")).to_have_count(0)
    page.get_by_role("link", name="Inbox", exact=True).click()
    page.get_by_role("tab", name="Archived (1)").click()
    expect(page.locator(".inbox-item")).to_contain_text("nice one")
    expect(page.locator(".inbox-item.unread")).to_have_count(0)


def test_marking_read_and_deleting_from_the_inbox(signed_in: Any, user: User, server: Server) -> None:
    page = signed_in
    memo = user.memo("another memo", visibility="PROTECTED")
    other = make_user(server)
    other.call("MemoService", "CreateMemoComment", {"name": memo["name"], "comment": {"content": "first!"}})
    page.goto("/inbox")
    item = page.locator(".inbox-item").filter(has_text="first!")
    item.hover()
    item.get_by_role("button", name="Mark as read").click()
    expect(page.get_by_text("Marked as read")).to_be_visible()
    expect(page.get_by_role("tab", name="Unread (0)")).to_be_visible()
    expect(page.get_by_role("link", name="Inbox", exact=True)).to_be_visible()
    item.hover()
    item.get_by_role("button", name="Delete notification").click()
    expect(page.get_by_text("Your inbox is empty.")).to_be_visible()
    assert user.call("UserService", "ListUserNotifications", {"parent": user.name}).get("notifications", []) == []


def test_the_badge_caps_at_99(signed_in: Any, user: User, server: Server) -> None:
    page = signed_in
    memo = user.memo("popular", visibility="PROTECTED")
    other = make_user(server)
    for number in range(100):
        other.call("MemoService", "CreateMemoComment", {"name": memo["name"], "comment": {"content": f"c{number}"}})
    page.reload()
    expect(page.get_by_role("link", name="Inbox (100 unread)").locator(".badge")).to_have_text("99+")
