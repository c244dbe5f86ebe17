"""The memo card: tasks, edit, pin, archive, delete, rendering and hostile content (frontend.md §17
BT11, BT13-BT16, BT32)."""
from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from ui_support import Server, User, make_user, sign_in


def card(page: Any, text: str) -> Any:
    return page.locator("article.memo-card").filter(has_text=text)


def menu(page: Any, text: str, item: str) -> None:
    card(page, text).get_by_role("button", name="Memo actions").click()
    page.get_by_role("menuitem", name=item).click()


def test_bt11_ticking_a_task_writes_the_memo_and_others_cannot(signed_in: Any, user: User,
                                                                context_factory: Any, server: Server) -> None:
    page = signed_in
    memo = user.memo("- [ ] one\n- [ ] two", "PROTECTED")
    page.reload()
    boxes = card(page, "one").get_by_role("checkbox")
    expect(boxes).to_have_count(2)
    with page.expect_response(lambda response: "MemoService/UpdateMemo" in response.url and response.ok):
        boxes.nth(1).click()
    page.reload()
    expect(card(page, "one").get_by_role("checkbox").nth(1)).to_be_checked()
    expect(card(page, "one").get_by_role("checkbox").nth(0)).not_to_be_checked()
    stored = user.call("MemoService", "GetMemo", {"name": memo["name"]})
    assert stored["content"] == "- [ ] one\n- [x] two"

    other = context_factory().new_page()
    sign_in(other, make_user(server))
    other.goto(f"/{memo['name']}")
    expect(card(other, "one").get_by_role("checkbox").first).to_be_disabled()


def test_bt13_edit_without_changes_then_with_changes(signed_in: Any, user: User) -> None:
    page = signed_in
    memo = user.memo("the first words")
    page.reload()
    menu(page, "the first words", "Edit")
    editor = page.locator(".memo-items").get_by_role("textbox", name="Memo text")
    expect(editor).to_have_value("the first words")
    page.locator(".memo-items").get_by_role("button", name="Save").click()
    expect(page.locator(".toast").filter(has_text="No changes detected")).to_be_visible()
    expect(card(page, "the first words")).to_be_visible()

    menu(page, "the first words", "Edit")
    editor.fill("the second words")
    editor.press("Control+Enter")
    expect(card(page, "the second words")).to_be_visible()
    time_link = card(page, "the second words").locator(".memo-time")
    expect(time_link).to_have_attribute("title", re.compile(r"Created: .*"))
    stored = user.call("MemoService", "GetMemo", {"name": memo["name"]})
    assert stored["content"] == "the second words"


def test_bt14_pin_moves_a_memo_first_and_its_bookmark_unpins(signed_in: Any, user: User) -> None:
    page = signed_in
    user.memo("the older memo")
    user.memo("the newer memo")
    page.reload()
    first = page.locator("article.memo-card").first
    expect(first).to_contain_text("the newer memo")
    menu(page, "the older memo", "Pin")
    expect(first).to_contain_text("the older memo")
    bookmark = first.get_by_role("button", name="Unpin")
    expect(bookmark).to_be_visible()
    bookmark.click()
    expect(first).to_contain_text("the newer memo")
    expect(page.get_by_role("button", name="Unpin")).to_have_count(0)


def test_bt15_archive_and_restore(signed_in: Any, user: User) -> None:
    page = signed_in
    user.memo("a memo to archive")
    page.reload()
    menu(page, "a memo to archive", "Archive")
    expect(card(page, "a memo to archive")).to_have_count(0)
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Archived").click()
    page.wait_for_url(re.compile(r"/archived$"))
    archived = card(page, "a memo to archive")
    expect(archived).to_be_visible()
    expect(archived.locator(".memo-time")).not_to_have_text(re.compile(r"ago|now"))
    archived.get_by_role("button", name="Memo actions").click()
    expect(page.get_by_role("menuitem", name="Edit")).to_have_count(0)
    page.get_by_role("menuitem", name="Restore").click()
    expect(card(page, "a memo to archive")).to_have_count(0)
    page.goto("/")
    expect(card(page, "a memo to archive")).to_be_visible()


def test_bt16_delete_after_confirming_and_the_old_address_is_404(signed_in: Any, user: User, watch: Any) -> None:
    page = signed_in
    memo = user.memo("a memo to delete")
    page.reload()
    menu(page, "a memo to delete", "Delete")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(card(page, "a memo to delete")).to_be_visible()
    menu(page, "a memo to delete", "Delete")
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(card(page, "a memo to delete")).to_have_count(0)
    expect(page.locator(".toast").filter(has_text="Memo deleted")).to_be_visible()
    watch.expect(r"MemoService/GetMemo")  # the deleted memo is not found
    page.goto(f"/{memo['name']}")
    page.wait_for_url(re.compile(r"/404$"))
    expect(page.locator(".error-code")).to_have_text("404")


HOSTILE = """# Heading one

| a | b |
|---|---|
| 1 | 2 |

```python
print("hi")
```

<script>window.hostileRan = true</script>
<img src=x onerror="window.hostileRan = true">
[click](javascript:window.hostileRan=true)
<svg onload="window.hostileRan = true"></svg>

Footnote here[^1].

[^1]: The note.

#a"b<i>c @x"y
"""


def test_bt32_rendering_and_hostile_content(signed_in: Any, user: User, context_factory: Any) -> None:
    page = signed_in
    user.memo(HOSTILE, "PUBLIC")
    page.reload()
    body = card(page, "Heading one").locator(".memo-content")
    expect(body.locator("table td").first).to_have_text("1")
    expect(body.locator(".code-header")).to_contain_text("python")
    expect(body.get_by_role("heading", name="Heading one")).to_have_attribute("id", re.compile(r"^md-"))
    expect(body).to_contain_text("<script>window.hostileRan = true</script>")
    expect(body.locator("script, svg, img[onerror], a[href^='javascript']")).to_have_count(0)
    expect(body.locator("section.footnotes")).to_contain_text("The note.")
    assert page.evaluate("() => window.hostileRan === undefined")
    guest = context_factory().new_page()
    guest.goto("/explore")
    expect(guest.locator("article.memo-card").filter(has_text="Heading one")).to_be_visible()
    assert guest.evaluate("() => window.hostileRan === undefined")


def test_m7_copy_content_puts_the_memo_text_on_the_clipboard(signed_in: Any, user: User) -> None:
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    user.memo("## A heading\n\n- [ ] a task with **bold**")
    page.reload()
    menu(page, "a task with", "Copy content")
    expect(page.locator(".toast")).to_have_text("Content copied")
    assert page.evaluate("navigator.clipboard.readText()") == "## A heading\n\n- [ ] a task with **bold**"


def test_m13_a_mention_links_only_when_the_user_exists(signed_in: Any, user: User, server: Server) -> None:
    page = signed_in
    friend = make_user(server, "friend")
    others = [make_user(server, "other") for _ in range(3)]
    for other in others:
        user.memo(f"m13 note for @{other.username}")
    user.memo(f"hello @{friend.username} and @nobody-here-at-all")
    lookups: list[Any] = []
    page.on("request", lambda request: "UserService/BatchGetUsers" in request.url and lookups.append(request))
    page.reload()
    for other in others:
        expect(card(page, f"@{other.username}").get_by_role("link", name=f"@{other.username}")).to_be_visible()
    body = card(page, "hello").locator(".memo-content")
    expect(body.get_by_role("link", name=f"@{friend.username}")).to_have_attribute("href", f"/u/{friend.username}")
    expect(body.locator("span.mention")).to_have_text("@nobody-here-at-all")
    expect(body.get_by_role("link", name="@nobody-here-at-all")).to_have_count(0)
    # The cards of one feed page ask for their users together.
    assert len(lookups) == 1
    assert sorted(lookups[0].post_data_json["usernames"]) == sorted(
        [friend.username, "nobody-here-at-all", *(other.username for other in others)])


def tag_rules(user: User) -> dict[str, Any]:
    found = user.call("UserService", "GetUserSetting", {"name": f"{user.name}/settings/TAGS"})
    rules: dict[str, Any] = found.get("tagsSetting", {}).get("tags", {})
    return rules


def test_bt39_a_blur_rule_made_in_settings_hides_tagged_memos_until_revealed(signed_in: Any, user: User) -> None:
    page = signed_in
    diary_memo = user.memo("bt39 the diary #secret entry")
    reply = {"name": diary_memo["name"], "comment": {"content": "a reply to hide"}}
    user.call("MemoService", "CreateMemoComment", reply)
    user.memo("bt39 an open memo #public")
    page.goto("/setting#tags")
    save = page.get_by_role("button", name="Save")
    expect(save).to_be_disabled()  # nothing changed yet
    page.get_by_role("combobox", name="Tag name or regular expression").fill("secret")
    page.get_by_role("button", name="Add rule").click()
    row = page.locator(".rule-row").filter(has_text="secret")
    expect(row).to_contain_text("Memos: 1")
    expect(save).to_be_enabled()
    row.get_by_role("switch", name="Blur content").check()
    save.click()
    expect(page.locator(".toast")).to_have_text("Saved")
    assert tag_rules(user) == {"secret": {"blurContent": True}}
    page.goto("/")
    diary = card(page, "bt39 the diary")
    content = diary.locator(".memo-content")
    expect(content).to_have_class(re.compile(r"\bblurred\b"))
    expect(card(page, "bt39 an open memo").locator(".memo-content")).not_to_have_class(re.compile(r"\bblurred\b"))
    # Out of reach while blurred: the tag link inside cannot take focus; the comment strip is covered too.
    assert content.evaluate("(el) => el.inert") is True
    strip = diary.locator(".comment-strip")
    expect(strip).to_contain_text("a reply to hide")
    expect(strip).to_have_class(re.compile(r"\bblurred\b"))
    assert strip.evaluate("(el) => el.inert") is True
    diary.get_by_role("button", name="Click to show sensitive content").click()
    expect(content).not_to_have_class(re.compile(r"\bblurred\b"))
    expect(strip).not_to_have_class(re.compile(r"\bblurred\b"))
    expect(diary.get_by_role("link", name="#secret")).to_be_visible()


def test_m12_a_tag_rule_colours_matching_pills_and_bad_patterns_are_refused(signed_in: Any, user: User) -> None:
    page = signed_in
    user.memo("m12 #work/meeting and #workout and #home")
    page.goto("/setting#tags")
    rule = page.get_by_role("combobox", name="Tag name or regular expression")
    for bad, message in [("work(", "Not a valid regular expression"), ("(a+)+", "could take too long")]:
        rule.fill(bad)
        rule.press("Enter")
        expect(page.locator(".toast-error").last).to_contain_text(message)
    expect(page.locator(".rule-row")).to_have_count(0)
    rule.fill("work/.*")
    rule.press("Enter")
    row = page.locator(".rule-row").filter(has_text="work/.*")
    row.get_by_label("Colour of work/.*", exact=True).fill("#cc3300")
    expect(row.get_by_role("button", name="Remove the colour of work/.*")).to_be_visible()
    rule.fill("work/.*")
    rule.press("Enter")
    expect(page.locator(".toast-error").last).to_contain_text("already")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".toast").last).to_have_text("Saved")
    assert tag_rules(user)["work/.*"]["backgroundColor"] == {"red": 0.8, "green": 0.2}
    page.goto("/")
    pills = card(page, "m12").locator("a.tag")
    background = "(el) => getComputedStyle(el).backgroundColor"
    expect(pills.filter(has_text="#work/meeting")).to_have_attribute("style", "--tag: #cc3300;")
    for plain in ("#workout", "#home"):
        expect(pills.filter(has_text=plain)).not_to_have_attribute("style", re.compile("."))
    coloured, plain_pill = pills.filter(has_text="#work/meeting"), pills.filter(has_text="#home")
    assert coloured.evaluate(background) != plain_pill.evaluate(background)


def test_bt23_copy_link_puts_the_memo_address_on_the_clipboard(signed_in: Any, user: User, server: Server) -> None:
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    memo = user.memo("bt23 worth sharing")
    page.reload()
    menu(page, "bt23 worth sharing", "Copy link")
    expect(page.locator(".toast")).to_have_text("Link copied")
    uid = memo["name"].split("/")[1]
    assert page.evaluate("navigator.clipboard.readText()") == f"{server.url}/memos/{uid}"
