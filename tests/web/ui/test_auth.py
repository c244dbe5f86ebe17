"""Sign-in, sign-up, first-run setup, redirects and sign-out (frontend.md §17 BT01-BT04)."""
from __future__ import annotations

import pathlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from ui_support import PASSWORD, Server, User, make_user, memos_server, rail_labels, sign_in


@pytest.fixture(scope="module")
def private_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """An empty private instance (no --instance-url), its own for this module's first-run test."""
    data: pathlib.Path = tmp_path_factory.mktemp("ui-private") / "data"
    with memos_server(data, public=False) as running:
        yield running


def test_bt01_first_run_creates_the_admin_and_lands_on_home(context_factory: Any, private_server: Server) -> None:
    page = context_factory(base_url=private_server.url).new_page()
    page.goto("/")
    page.wait_for_url(re.compile(r"/auth/signup$"))
    page.get_by_role("heading", name="Set up your instance").wait_for()
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("secret")
    page.get_by_role("button", name="Create admin account").click()
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("textbox", name="Memo text").wait_for()
    assert rail_labels(page) == ["Memos", "Explore", "Attachments", "Inbox"]
    page.goto("/setting")
    expect(page.locator(".settings-nav").get_by_text("Admin", exact=True)).to_be_visible()


def test_bt04_a_private_instance_sends_guests_to_sign_in(context_factory: Any, private_server: Server) -> None:
    page = context_factory(base_url=private_server.url).new_page()
    page.goto("/explore")
    page.wait_for_url(re.compile(r"/auth\?redirect=%2Fexplore$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_bt02_a_guest_is_sent_to_sign_in_and_back(page: Any, user: User, watch: Any) -> None:
    page.goto("/inbox")
    page.wait_for_url(re.compile(r"/auth\?redirect=%2Finbox$"))
    watch.expect(r"AuthService/SignIn")  # the wrong password below is refused
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".toast-error").get_by_text("unmatched username and password")).to_be_visible()
    assert re.search(r"/auth\?redirect=%2Finbox$", page.url)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/inbox$"))
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https://evil.example/", "/auth/admin"])
def test_bt03_a_redirect_off_the_origin_or_into_auth_is_ignored(page: Any, user: User, server: Server,
                                                                   target: str) -> None:
    page.goto(f"/auth?redirect={target}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server.url}/")
    page.get_by_role("textbox", name="Memo text").wait_for()


def test_sign_up_then_sign_out_returns_to_sign_in_for_good(page: Any, server: Server) -> None:
    page.goto("/auth")
    page.get_by_role("link", name="Sign up").click()
    page.wait_for_url(re.compile(r"/auth/signup$"))
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("button", name="Account menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url(re.compile(r"/auth$"))
    page.goto("/")  # the instance is public: a guest's home is Explore
    page.wait_for_url(re.compile(r"/explore$"))
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_a_signed_in_user_opening_sign_in_goes_home(page: Any, server: Server) -> None:
    sign_in(page, make_user(server))
    page.goto("/auth")
    page.wait_for_url(f"{server.url}/")
