"""The composer's keys and linked memos (frontend.md §17 BT19, BT40; E3, E4, E15, M25, Y3)."""
from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from ui_support import User


def cards(page: Any) -> Any:
    return page.locator("article.memo-card")


def composer(page: Any) -> Any:
    return page.get_by_role("textbox", name="Memo text").first


def test_bt40_tab_nests_list_items_and_esc_leaves_the_editor(signed_in: Any) -> None:
    page = signed_in
    editor = composer(page)
    editor.fill("- first\n- second")
    editor.press("End")
    editor.press("Tab")
    expect(editor).to_have_value("- first\n  - second")
    editor.press("Shift+Tab")
    expect(editor).to_have_value("- first\n- second")

    editor.fill("1. one\n2. two")
    editor.press("End")
    editor.press("Tab")
    expect(editor).to_have_value("1. one\n   1. two")
    editor.press("Shift+Tab")
    expect(editor).to_have_value("1. one\n2. two")

    editor.press("Escape")
    expect(editor).not_to_be_focused()
    page.keyboard.press("Tab")
    expect(editor).to_have_value("1. one\n2. two")
    expect(editor).not_to_be_focused()


def test_e4_enter_continues_lists_and_an_empty_item_ends_them(signed_in: Any, user: User) -> None:
    page = signed_in
    editor = composer(page)
    editor.click()
    editor.press_sequentially("- [x] done")
    editor.press("Enter")
    editor.press_sequentially("open")
    editor.press("Enter")
    expect(editor).to_have_value("- [x] done\n- [ ] open\n- [ ] ")
    editor.press("Enter")
    expect(editor).to_have_value("- [x] done\n- [ ] open\n")
    editor.press_sequentially("9. nine")
    editor.press("Enter")
    editor.press_sequentially("> said")
    expect(editor).to_have_value("- [x] done\n- [ ] open\n9. nine\n10. > said")
    editor.press("Control+z")
    expect(editor).not_to_have_value("- [x] done\n- [ ] open\n9. nine\n10. > said")
    editor.press("Control+Enter")
    expect(cards(page)).to_have_count(1)
    stored = user.call("MemoService", "ListMemos", {"filter": f'creator == "{user.name}"'})["memos"][0]
    assert "\n" not in stored["content"][-1:]  # Ctrl+Enter saved without adding a newline


def test_bt19_link_memo_dialog_and_relations_on_both_cards(signed_in: Any, user: User) -> None:
    page = signed_in
    target = user.memo("memo bee about gardening")
    user.memo("memo sea about sailing")
    page.reload()
    editor = composer(page)
    editor.fill("memo ay")
    page.get_by_role("button", name="Link a memo").first.click()
    dialog = page.get_by_role("dialog", name="Link a memo")
    search = dialog.get_by_role("searchbox", name="Search your memos")
    expect(search).to_be_focused()
    search.fill("gardening")
    rows = dialog.locator(".link-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("memo bee about gardening")
    expect(rows.first.locator(".id-chip")).to_have_text(target["name"].split("/")[1][:6])
    rows.first.click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".editor .link-chip")).to_contain_text("memo bee about gardening")
    editor.press("Control+Enter")

    a_card = cards(page).filter(has=page.locator(".memo-content", has_text="memo ay"))
    expect(a_card.locator(".relations")).to_contain_text("Referencing (1)")
    expect(a_card.locator(".relation-row")).to_contain_text("memo bee about gardening")
    expect(a_card.locator(".relation-row")).to_have_attribute("href", f"/{target['name']}")
    b_card = page.locator(f'article[data-name="{target["name"]}"]')
    page.reload()
    expect(b_card.locator(".relations")).to_contain_text("Referenced by (1)")
    expect(b_card.locator(".relation-row")).to_contain_text("memo ay")

    # Editing A shows its link as a chip; removing it and saving drops the relation.
    a_card.get_by_role("button", name="Memo actions").click()
    page.get_by_role("menuitem", name="Edit").click()
    inline = page.locator(".memo-items .editor")
    inline.get_by_role("button", name=f"Remove the link to {target['name'].split('/')[1][:6]}").click()
    inline.get_by_role("button", name="Save").click()
    expect(a_card.locator(".relations")).to_have_count(0)
    a_memo = user.call("MemoService", "ListMemos", {"filter": 'content.contains("memo ay")'})["memos"][0]
    assert [r for r in a_memo.get("relations", []) if r["type"] == "REFERENCE"] == []
