"""The frame around the pages: themes, languages, the token refresh, the phone layout, the admin's
custom code under the CSP, and the screenshots of the main pages (frontend.md §17 BT27, BT28, BT34,
BT36)."""
from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Route, expect
from ui_support import Server, User, make_user, screenshot, sign_in


def theme(page: Any) -> str | None:
    return page.locator("html").get_attribute("data-theme")


def choose(page: Any, item: str) -> None:
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitemradio", name=item).click()


def test_bt27_theme_choice_persists_and_system_follows_the_os(signed_in: Any, user: User) -> None:
    page = signed_in
    choose(page, "Theme: Dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "default-dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "default-dark")
    settings = user.call("UserService", "ListUserSettings", {"parent": user.name})["settings"]
    assert settings[0]["generalSetting"]["theme"] == "default-dark"
    page.emulate_media(color_scheme="dark")
    choose(page, "Theme: System")
    expect(page.locator("html")).to_have_attribute("data-theme", "default-dark")
    page.emulate_media(color_scheme="light")
    expect(page.locator("html")).to_have_attribute("data-theme", "default")


def test_bt28_language_switches_the_interface(signed_in: Any) -> None:
    page = signed_in
    choose(page, "Deutsch (de)")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    rail = page.get_by_role("navigation", name="Hauptnavigation")
    expect(rail.locator("a.rail-link").first).to_have_attribute("title", "Notizen")
    expect(page.get_by_role("textbox", name="Text der Notiz")).to_have_attribute("placeholder", "Was denkst du gerade?")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "de")


def test_the_sign_in_page_language_and_theme_work_before_signing_in(page: Any) -> None:
    page.goto("/auth")
    page.get_by_label("Language").select_option("de")
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    page.get_by_label("Design").select_option("paper")
    expect(page.locator("html")).to_have_attribute("data-theme", "paper")


def _unauthenticated_once(method: str) -> Any:
    """A route handler answering the first call of ``method`` as an expired access token would be."""
    answered = []

    def handle(route: Route) -> None:
        if answered:
            route.continue_()
            return
        answered.append(route.request.url)
        body = json.dumps({"code": "unauthenticated", "message": "token expired"})
        route.fulfill(status=401, content_type="application/json", body=body)

    return f"**/memos.api.v1.MemoService/{method}", handle


def test_bt34_an_expired_token_is_refreshed_silently_then_a_lost_session_signs_in_again(
        signed_in: Any, user: User, watch: Any) -> None:
    page = signed_in
    user.memo("a memo to pin after expiry")
    page.reload()
    watch.expect(r"MemoService/UpdateMemo")  # the 401 answers below are provoked
    pattern, handler = _unauthenticated_once("UpdateMemo")
    page.route(pattern, handler)
    card = page.locator("article.memo-card").filter(has_text="a memo to pin after expiry")
    with page.expect_request("**/memos.api.v1.AuthService/RefreshToken"):
        card.get_by_role("button", name="Memo actions").click()
        page.get_by_role("menuitem", name="Pin").click()
    expect(card.get_by_role("button", name="Unpin")).to_be_visible()
    assert re.search(r"/$", page.url)
    page.unroute(pattern)

    watch.expect(r"AuthService/RefreshToken")  # no cookie left: the refresh is refused
    page.context.clear_cookies()
    pattern, handler = _unauthenticated_once("UpdateMemo")
    page.route(pattern, handler)
    card.get_by_role("button", name="Unpin").click()
    page.wait_for_url(re.compile(r"/auth\?redirect=%2F$"))


def test_bt36_phone_layout_uses_sheets(context_factory: Any, server: Server) -> None:
    writer = make_user(server)
    writer.memo("a memo on a phone #mobile")
    page = context_factory(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, writer)
    rail = page.get_by_role("navigation", name="Main navigation")
    expect(rail).to_be_hidden()
    page.get_by_role("button", name="Open navigation").click()
    expect(rail).to_be_visible()
    expect(rail.get_by_text("Explore")).to_be_visible()
    rail.get_by_role("link", name="Explore").click()
    page.wait_for_url(re.compile(r"/explore$"))
    expect(rail).to_be_hidden()
    page.goto("/")
    explorer = page.get_by_role("complementary", name="Explorer")
    expect(explorer).to_be_hidden()
    page.get_by_role("button", name="Open search and tags").click()
    expect(explorer.get_by_role("button", name="#mobile")).to_be_visible()
    screenshot(page, "phone-home-explorer")


def test_admin_custom_style_and_script_run_under_the_nonce(context_factory: Any, admin: User) -> None:
    general = {"additionalStyle": "body { outline: 3px solid rgb(1, 2, 3); }",
               "additionalScript": "document.documentElement.dataset.custom = 'ran';"}
    update = {"setting": {"name": "instance/settings/GENERAL", "generalSetting": general}}
    admin.call("InstanceService", "UpdateInstanceSetting", update)
    try:
        page = context_factory().new_page()
        response = page.goto("/explore")
        assert response is not None
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self' 'nonce-" in policy
        expect(page.locator("html")).to_have_attribute("data-custom", "ran")
        assert page.evaluate("() => getComputedStyle(document.body).outlineColor") == "rgb(1, 2, 3)"
    finally:
        update["setting"]["generalSetting"] = {}
        admin.call("InstanceService", "UpdateInstanceSetting", update)


def test_screenshots_of_the_main_pages_in_both_themes(context_factory: Any, server: Server) -> None:
    writer = make_user(server)
    writer.memo("# Weekly notes\n\nShipped the **web UI** foundation. #work\n\n- [x] sign-in\n- [ ] attachments",
                "PUBLIC")
    writer.memo("A quick thought about `code` and #ideas", "PROTECTED")
    for scheme in ("light", "dark"):
        page = context_factory(color_scheme=scheme).new_page()
        page.goto("/auth")
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        screenshot(page, f"sign-in-{scheme}")
        sign_in(page, writer)
        expect(page.locator("article.memo-card")).to_have_count(2)
        screenshot(page, f"home-{scheme}")
        page.goto("/explore")
        expect(page.locator("article.memo-card").first).to_be_visible()
        screenshot(page, f"explore-{scheme}")
        page.goto("/setting#preference")
        expect(page.get_by_role("heading", name="Preferences")).to_be_visible()
        screenshot(page, f"settings-{scheme}")
