"""The about page (frontend.md R13)."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


def test_a_guest_sees_the_instance_and_the_build(page: Any) -> None:
    page.goto("/about")
    expect(page.get_by_role("heading", name="Memos")).to_be_visible()
    facts = page.locator(".facts")
    expect(facts).to_contain_text("Version")
    expect(facts).to_contain_text("MIT")
    expect(page.get_by_role("link", name="GitHub")).to_have_attribute("href", "https://github.com/usememos/memos")
    expect(page.locator("aside.explorer")).to_have_count(0)
