"""Accessibility basics across the UI (frontend.md §15 Y1-Y4): every control has a name, is reachable
by keyboard and shows where the focus is; dialogs take focus and give it back."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from ui_support import User

# Interactive elements that are shown but have no accessible name (text, label, aria-label/-labelledby, title).
UNNAMED = """() => [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')]
  .filter((el) => el.getClientRects().length && el.getAttribute('aria-hidden') !== 'true')
  .filter((el) => {
    const labelled = el.getAttribute('aria-labelledby');
    const name = el.getAttribute('aria-label') || (labelled && document.getElementById(labelled)?.textContent)
      || [...(el.labels || [])].map((label) => label.textContent).join('') || el.textContent || el.title;
    return !(name || '').trim();
  })
  .map((el) => el.outerHTML.slice(0, 120))"""

# Where the focus is, and whether it is drawn: an outline on the element or on its search box, or the
# composer's border in the primary colour (the Save button's fill).
FOCUSED = """() => {
  const el = document.activeElement;
  const drawn = (node) => Boolean(node) && getComputedStyle(node).outlineStyle !== 'none';
  const primary = getComputedStyle(document.querySelector('.btn-primary')).backgroundColor;
  const editor = el.closest('.editor');
  const visible = drawn(el) || drawn(el.closest('.search-box'))
    || (Boolean(editor) && getComputedStyle(editor).borderColor === primary);
  const name = el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40) || el.tagName;
  return {name, visible, tag: el.tagName, html: el.outerHTML.slice(0, 80)};
}"""


def seed(user: User) -> dict[str, Any]:
    target = user.memo("the referenced one")
    memo = {"content": "#work notes\n\n- [ ] a task\n\n```python\nprint(1)\n```", "visibility": "PUBLIC",
            "relations": [{"relatedMemo": {"name": target["name"]}, "type": "REFERENCE"}]}
    return user.call("MemoService", "CreateMemo", {"memo": memo})


def test_y1_every_control_on_the_main_pages_has_a_name(signed_in: Any, user: User) -> None:
    page = signed_in
    seed(user)
    page.reload()
    expect(page.locator("article.memo-card")).to_have_count(2)
    assert page.evaluate(UNNAMED) == []
    page.locator(".explorer").get_by_role("button", name="Display settings").click()
    assert page.evaluate(UNNAMED) == []
    page.keyboard.press("Escape")
    page.locator(".explorer .calendar-month").click()
    assert page.evaluate(UNNAMED) == []
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Link a memo").click()
    expect(page.locator(".link-row")).not_to_have_count(0)
    assert page.evaluate(UNNAMED) == []
    page.keyboard.press("Escape")
    for path in ("/explore", "/archived", f"/u/{user.username}"):
        page.goto(path)
        page.locator(".explorer .explorer-inner").wait_for()
        assert page.evaluate(UNNAMED) == [], path


def test_y3_the_home_page_is_operable_by_keyboard_with_visible_focus(signed_in: Any, user: User) -> None:
    page = signed_in
    seed(user)
    page.reload()
    expect(page.locator("article.memo-card")).to_have_count(2)
    page.locator("body").focus()
    reached: list[str] = []
    hidden: list[str] = []
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        reached.append(focused["name"])
        if not focused["visible"] and focused["tag"] != "BODY":  # BODY: the walk left the page and came back
            hidden.append(focused["html"])
        if focused["tag"] == "TEXTAREA":
            page.keyboard.press("Escape")  # Tab indents inside the editor; Esc is the way on
    for control in ("Memos", "Explore", "Account menu", "Visibility", "Link a memo", "Memo actions",
                    "Copy code", "a task", "#work", "Search memos...", "Display settings", "Previous month"):
        assert any(control in name for name in reached), (control, reached)
    assert hidden == []


def test_y2_menus_and_dialogs_take_focus_and_give_it_back(signed_in: Any, user: User) -> None:
    page = signed_in
    seed(user)
    page.reload()
    actions = page.locator("article.memo-card").first.get_by_role("button", name="Memo actions")
    actions.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("menuitem").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("menuitem").nth(1)).to_be_focused()
    page.keyboard.press("Escape")
    expect(actions).to_be_focused()

    link = page.get_by_role("button", name="Link a memo")
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("searchbox", name="Search your memos")).to_be_focused()
    page.keyboard.press("Escape")
    expect(link).to_be_focused()

    settings = page.locator(".explorer").get_by_role("button", name="Display settings")
    settings.focus()
    page.keyboard.press("Enter")
    expect(settings).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("dialog", name="Display settings").get_by_label("Shown time")).to_be_focused()
    page.keyboard.press("Escape")
    expect(settings).to_be_focused()
    expect(settings).to_have_attribute("aria-expanded", "false")
