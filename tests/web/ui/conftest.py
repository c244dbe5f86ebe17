"""Fixtures of the browser tests (see tests/ui_support.py): the session's server, Chromium, watched pages."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support import running_in_ci
from ui_support import CHROMIUM, CHROMIUM_FLAGS, PASSWORD, Server, User, Watch, make_user, memos_server, sign_in


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with memos_server(tmp_path_factory.mktemp("ui") / "data", public=True) as running:
        running.call("UserService", "CreateUser", {"user": {"username": "admin", "password": PASSWORD}})
        yield running


@pytest.fixture(scope="session")
def admin(server: Server) -> User:
    return User(server, "admin", server.sign_in("admin"))





@pytest.fixture
def user(server: Server) -> User:
    """A fresh user of the session's server, with nothing written yet."""
    return make_user(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        if running_in_ci():
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it with apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()





@pytest.fixture
def watch() -> Iterator[Watch]:
    watching = Watch()
    yield watching
    assert watching.unexpected() == []


@pytest.fixture
def context_factory(browser: Any, server: Server, watch: Watch) -> Iterator[Any]:
    """new_context(**options) -> a fresh browser context whose pages are watched."""
    contexts = []

    def new_context(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("base_url", server.url)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        context.on("page", watch.attach)
        contexts.append(context)
        return context

    yield new_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(context_factory: Any) -> Any:
    """A guest's page (its own context)."""
    return context_factory().new_page()





@pytest.fixture
def signed_in(page: Any, user: User) -> Any:
    """The page of ``user``, signed in, on the home feed."""
    sign_in(page, user)
    return page


