"""The explorer's activity calendar and the date filter (frontend.md §17 BT25; F10, F15, E13, Y3)."""
from __future__ import annotations

import datetime
import re
from typing import Any

from playwright.sync_api import expect
from ui_support import User


def cards(page: Any) -> Any:
    return page.locator("article.memo-card")


def day_cell(page: Any, day: datetime.date) -> Any:
    return page.locator(f'.explorer .calendar [data-day="{day.isoformat()}"]')


def show_month_of(page: Any, day: datetime.date) -> None:
    if day.month != datetime.date.today().month:
        page.locator(".explorer").get_by_role("button", name="Previous month").click()


def test_bt25_calendar_days_filter_the_feed_and_date_new_memos(signed_in: Any, user: User) -> None:
    page = signed_in
    today = datetime.date.today()
    yesterday = today - datetime.timedelta(days=1)
    user.memo("written today")
    page.reload()
    today_cell = day_cell(page, today)
    expect(today_cell).to_have_attribute("aria-current", "date")
    expect(today_cell).to_have_class(re.compile(r"level-4"))
    today_cell.click()
    expect(page.locator(".chip")).to_have_text(today.isoformat())
    assert f"filter=displayTime:{today.isoformat()}" in page.url
    expect(cards(page)).to_have_count(1)
    editor = page.get_by_role("textbox", name="Memo text")
    editor.fill("posted under today's chip")
    editor.press("Control+Enter")
    expect(cards(page)).to_have_count(2)

    show_month_of(page, yesterday)
    day_cell(page, yesterday).click()
    expect(page.locator(".chip")).to_have_text(yesterday.isoformat())
    expect(cards(page)).to_have_count(0)
    stamp = page.locator(".editor-day")
    expect(stamp).to_have_text(re.compile(rf"^{yesterday.isoformat()} \d\d:\d\d:\d\d$"))
    editor.fill("remembered for yesterday")
    editor.press("Control+Enter")
    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("remembered for yesterday")
    page.reload()
    expect(cards(page)).to_have_count(1)
    expect(cards(page).first).to_contain_text("remembered for yesterday")
    stored = user.call("MemoService", "ListMemos", {"filter": 'content.contains("remembered")'})["memos"][0]
    created = datetime.datetime.fromisoformat(stored["createTime"].replace("Z", "+00:00")).astimezone()
    assert created.date() == yesterday

    # Clicking the selected day again removes the date filter.
    show_month_of(page, yesterday)
    day_cell(page, yesterday).click()
    expect(page.locator(".chip")).to_have_count(0)
    expect(cards(page)).to_have_count(3)


def test_f15_the_calendar_is_a_keyboard_grid_with_a_year_overview(signed_in: Any) -> None:
    page = signed_in
    today = datetime.date.today()
    cell = day_cell(page, today)
    expect(cell).to_have_attribute("tabindex", "0")
    label = cell.get_attribute("aria-label")
    assert label is not None and label.startswith("0 memos on ") and str(today.year) in label
    cell.focus()
    page.keyboard.press("ArrowLeft" if today.day > 1 else "ArrowRight")
    focused = page.evaluate("document.activeElement.dataset.day")
    assert focused != today.isoformat() and focused[:7] == today.isoformat()[:7]
    assert page.locator(".explorer .calendar .outside[tabindex]").count() == 0

    month = page.locator(".explorer .calendar-month")
    month.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.locator(".dialog-title")).to_have_text(str(today.year))
    expect(dialog.locator(".year-month")).to_have_count(12)
    dialog.get_by_role("button", name="Previous year").click()
    expect(dialog.locator(".dialog-title")).to_have_text(str(today.year - 1))
    dialog.locator(f'[data-day="{today.year - 1}-03-15"]').click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(month).to_contain_text(str(today.year - 1))
    expect(month).to_be_focused()
    month.click()
    page.get_by_role("dialog").get_by_role("button", name="Today").click()
    expect(day_cell(page, today)).to_be_visible()
