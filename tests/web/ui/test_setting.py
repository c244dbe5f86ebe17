"""Settings (frontend.md §11, §17 BT29-BT31): account, access tokens, webhooks, members, the admin's
instance settings and sign-in providers. Admin changes run on a server of this module's own, so the
instance settings of the other tests' server stay untouched."""
from __future__ import annotations

import pathlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from ui_support import PASSWORD, Server, User, make_user, memos_server, sign_in


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data: pathlib.Path = tmp_path_factory.mktemp("ui-settings") / "data"
    with memos_server(data, public=True) as running:
        running.call("UserService", "CreateUser", {"user": {"username": "boss", "password": PASSWORD}})
        yield running


@pytest.fixture
def admin_page(context_factory: Any, own_server: Server) -> Any:
    page = context_factory(base_url=own_server.url).new_page()
    sign_in(page, User(own_server, "boss", own_server.sign_in("boss")))
    return page


def open_section(page: Any, section: str, title: str) -> None:
    page.goto(f"/setting#{section}")
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    expect(page.locator(".settings-body")).not_to_have_attribute("aria-busy", "true")


def expect_saved(page: Any) -> None:
    """The newest "Saved" toast (an earlier one may still be fading)."""
    expect(page.locator(".toast").filter(has_text=re.compile(r"^Saved$")).last).to_be_visible()


def who_is(server: Server, token: str) -> str:
    """The username the REST API sees behind ``token`` ("" when it authenticates nobody)."""
    answer = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return str(answer.json().get("user", {}).get("username", "")) if answer.status_code == 200 else ""


def test_bt29_an_access_token_is_shown_once_used_and_deleted(
        signed_in: Any, user: User, server: Server, watch: Any) -> None:
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_section(page, "access-token", "Access tokens")
    page.get_by_role("button", name="Create token").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Description").fill("cli")
    dialog.get_by_label("Expiration").select_option(label="Never")
    dialog.get_by_role("button", name="Create token").click()
    box = page.get_by_role("dialog", name="Your new token").get_by_role("textbox")
    token = box.input_value()
    assert token and page.evaluate("navigator.clipboard.readText()") == token
    page.get_by_role("button", name="Done").click()
    row = page.locator(".token-row").filter(has_text="cli")
    expect(row).to_contain_text("Never used")
    expect(row).to_contain_text("No expiration")
    assert who_is(server, token) == user.username
    open_section(page, "my-account", "My account")
    open_section(page, "access-token", "Access tokens")
    expect(row).to_contain_text("Last used")
    row.hover()
    row.get_by_role("button", name="Delete token cli").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.locator(".token-row")).to_have_count(0)
    assert who_is(server, token) == ""


def test_profile_edit_and_password_change(signed_in: Any, user: User, server: Server, watch: Any) -> None:
    page = signed_in
    open_section(page, "my-account", "My account")
    page.get_by_role("button", name="Edit profile").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Display name").fill("Ada Lovelace")
    dialog.get_by_label("Description").fill("counts things")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    assert user.call("UserService", "GetUser", {"name": user.name})["description"] == "counts things"
    page.get_by_role("button", name="Change password").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox", name="New password", exact=True).fill("new-secret-1")
    dialog.get_by_label("Repeat the new password").fill("other")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("The passwords do not match.")).to_be_visible()
    expect(dialog.get_by_label("Repeat the new password")).to_have_value("")
    dialog.get_by_label("Repeat the new password").fill("new-secret-1")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Password changed")).to_be_visible()
    assert server.sign_in(user.username, "new-secret-1")


def test_preferences_save_the_default_visibility(signed_in: Any, user: User) -> None:
    page = signed_in
    open_section(page, "preference", "Preferences")
    page.get_by_label("Default memo visibility").select_option("PUBLIC")
    expect_saved(page)
    settings = user.call("UserService", "ListUserSettings", {"parent": user.name})["settings"]
    assert settings[0]["generalSetting"]["memoVisibility"] == "PUBLIC"


def test_a_webhook_is_created_with_its_secret_edited_and_deleted(signed_in: Any, user: User) -> None:
    page = signed_in
    open_section(page, "webhook", "Webhooks")
    page.get_by_role("button", name="Create webhook").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Title").fill("ci")
    dialog.get_by_label("Payload URL").fill("https://93.184.215.14/memos")
    dialog.get_by_role("button", name="Create webhook").click()
    secret = page.get_by_role("dialog", name="Signing secret").get_by_role("textbox").input_value()
    assert len(secret) >= 16
    page.get_by_role("button", name="Done").click()
    page.get_by_role("button", name="Edit webhook ci").click()
    dialog = page.get_by_role("dialog", name="Edit webhook")
    dialog.get_by_label("Title").fill("ci builds")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("cell", name="ci builds", exact=True)).to_be_visible()
    hooks = user.call("UserService", "ListUserWebhooks", {"parent": user.name})["webhooks"]
    assert [hook["displayName"] for hook in hooks] == ["ci builds"]
    page.get_by_role("button", name="Delete webhook ci builds").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()


def member_row(page: Any, username: str) -> Any:
    return page.locator(f'.member-row[data-username="{username}"]')


def member_action(page: Any, username: str, action: str) -> None:
    page.get_by_role("button", name=f"Actions for {username}").click()
    page.get_by_role("menuitem", name=action).click()


def test_bt30_members_are_created_archived_restored_and_deleted(
        admin_page: Any, own_server: Server, context_factory: Any) -> None:
    page = admin_page
    open_section(page, "member", "Members")
    page.get_by_role("button", name="Create member").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Username").fill("bob")
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Create member").click()
    expect(member_row(page, "bob")).to_contain_text("Active")
    member_action(page, "bob", "Archive")
    page.get_by_role("dialog").get_by_role("button", name="Archive").click()
    expect(member_row(page, "bob")).to_contain_text("Archived")
    member_action(page, "bob", "Restore")
    expect(member_row(page, "bob")).to_contain_text("Active")
    member_action(page, "bob", "Archive")
    page.get_by_role("dialog").get_by_role("button", name="Archive").click()
    expect(member_row(page, "bob")).to_contain_text("Archived")
    member_action(page, "bob", "Delete member")
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(member_row(page, "bob")).to_have_count(0)
    # A non-admin sees only the Basic sections and lands on My account.
    other = make_user(own_server)
    guest = context_factory(base_url=own_server.url).new_page()
    sign_in(guest, other)
    guest.goto("/setting#member")
    expect(guest.get_by_role("heading", name="My account")).to_be_visible()
    expect(guest.locator(".settings-nav").get_by_text("Admin", exact=True)).to_have_count(0)
    expect(guest.locator(".settings-nav a")).to_have_count(5)


def test_bt31_closing_registration_shows_sign_ups_closed(
        admin_page: Any, own_server: Server, context_factory: Any) -> None:
    page = admin_page
    open_section(page, "system", "System")
    save = page.get_by_role("button", name="Save")
    expect(save).to_be_disabled()
    page.get_by_label("Disallow user registration").check()
    save.click()
    expect_saved(page)
    try:
        guest = context_factory(base_url=own_server.url).new_page()
        guest.goto("/auth/signup")
        expect(guest.get_by_role("heading", name="Sign-ups are closed")).to_be_visible()
        expect(guest.get_by_role("link", name="Sign in")).to_be_visible()
        guest.goto("/auth")
        expect(guest.get_by_role("heading", name="Sign in")).to_be_visible()
        expect(guest.get_by_role("link", name="Sign up")).to_have_count(0)
    finally:
        page.get_by_label("Disallow user registration").uncheck()
        save.click()
        expect(save).to_be_disabled()


def test_custom_style_and_memo_settings_are_saved(admin_page: Any, own_server: Server, context_factory: Any) -> None:
    page = admin_page
    open_section(page, "system", "System")
    page.get_by_label("Server name").fill("Team notes")
    page.get_by_label("Additional style").fill("body { letter-spacing: 0.5px; }")
    page.get_by_role("button", name="Save").click()
    expect_saved(page)
    guest = context_factory(base_url=own_server.url).new_page()
    guest.goto("/about")
    expect(guest.get_by_role("heading", name="Team notes")).to_be_visible()
    assert guest.evaluate("getComputedStyle(document.body).letterSpacing") == "0.5px"
    open_section(page, "memo", "Memo")
    page.get_by_label("New reaction").fill("🦄")
    page.get_by_label("New reaction").press("Enter")
    page.get_by_label("Content length limit (bytes)").fill("20000")
    page.get_by_role("button", name="Save").click()
    expect_saved(page)
    boss = own_server.sign_in("boss")
    setting = own_server.call("InstanceService", "GetInstanceSetting", {"name": "instance/settings/MEMO_RELATED"}, boss)
    assert "🦄" in setting["memoRelatedSetting"]["reactions"]
    assert setting["memoRelatedSetting"]["contentLengthLimit"] == 20000


def test_storage_and_resource_sections(admin_page: Any, own_server: Server) -> None:
    page = admin_page
    open_section(page, "storage", "Storage")
    page.get_by_label("Storage", exact=True).select_option("S3")
    expect(page.get_by_label("Bucket")).to_be_visible()
    expect(page.get_by_role("button", name="Save")).to_be_disabled()
    page.get_by_label("Storage", exact=True).select_option("LOCAL")
    page.get_by_label("Max upload size (MB)").fill("12")
    page.get_by_role("button", name="Save").click()
    expect_saved(page)
    boss = own_server.sign_in("boss")
    setting = own_server.call("InstanceService", "GetInstanceSetting", {"name": "instance/settings/STORAGE"}, boss)
    assert setting["storageSetting"]["uploadSizeLimitMb"] == "12"
    open_section(page, "resource-stats", "Resources")
    expect(page.locator(".facts")).to_contain_text("sqlite")


def test_an_sso_provider_is_added_from_a_template_and_removed(admin_page: Any, own_server: Server) -> None:
    page = admin_page
    open_section(page, "sso", "SSO")
    page.get_by_role("button", name="Add provider").click()
    page.get_by_role("menuitem", name="GitHub").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Redirect URL")).to_have_value(f"{own_server.url}/auth/callback")
    expect(dialog.get_by_label("Authorization endpoint")).to_have_value("https://github.com/login/oauth/authorize")
    dialog.get_by_label("Client ID").fill("abc")
    dialog.get_by_label("Client secret").fill("xyz")
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(".rows").get_by_text("GitHub", exact=True)).to_be_visible()
    page.goto("/auth")
    expect(page).to_have_url(re.compile(r"/$"))  # signed in: the sign-in page sends home
    page.get_by_role("button", name="Account menu").click()
    open_section(page, "sso", "SSO")
    page.get_by_role("button", name="Actions for GitHub").click()
    page.get_by_role("menuitem", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_text("No sign-in providers yet.")).to_be_visible()
