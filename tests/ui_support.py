"""Helpers of the browser tests of the web UI (fixtures: tests/web/ui/conftest.py).

Debian's Chromium driven by Playwright against the real server process: one server per session on
a fresh data directory (a public instance: --instance-url set), with an admin made through the API;
each test gets its own browser context (no shared cookies or storage) and usually its own user, so
tests neither see nor disturb each other's memos. Every page a test opens is watched: a console
error, an uncaught exception, a request that fails, or an HTTP error answer fails the test unless
the test declared it expected (``watch.expect``).
"""
from __future__ import annotations

import contextlib
import itertools
import os
import pathlib
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from support import ROOT, free_port, stop_process, wait_for_health

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SCREENSHOTS = ROOT / "build" / "screenshots"
PASSWORD = "secret-pw"
_numbers = itertools.count(1)


@dataclass
class Server:
    url: str
    data: pathlib.Path

    def call(self, service: str, method: str, body: dict[str, Any], token: str = "") -> dict[str, Any]:
        """One Connect JSON call; raises with the server's message on an error answer."""
        package = "memospyz.v1" if service == "MemoHtmlService" else "memos.api.v1"
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = httpx.post(f"{self.url}/{package}.{service}/{method}", json=body, headers=headers, timeout=10)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def sign_in(self, username: str, password: str = PASSWORD) -> str:
        credentials = {"username": username, "password": password}
        answer = self.call("AuthService", "SignIn", {"passwordCredentials": credentials})
        return str(answer["accessToken"])


@dataclass
class User:
    server: Server
    username: str
    token: str

    @property
    def name(self) -> str:
        return f"users/{self.username}"

    def call(self, service: str, method: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.server.call(service, method, body, self.token)

    def memo(self, content: str, visibility: str = "PRIVATE") -> dict[str, Any]:
        return self.call("MemoService", "CreateMemo", {"memo": {"content": content, "visibility": visibility}})


@contextlib.contextmanager
def memos_server(data: pathlib.Path, *, public: bool) -> Iterator[Server]:
    """`python -m memos` on a free loopback port; stopped with SIGTERM."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data.parent / f"{data.name}.log").open("wb")
    # Link previews of pages on this machine (the server itself) need the address guard relaxed.
    command = [sys.executable, "-m", "memos", "--addr", "127.0.0.1", "--port", str(port), "--data", str(data),
               "--allow-private-webhooks"]
    if public:
        command += ["--instance-url", url]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    try:
        wait_for_health(url, process)
        yield Server(url, data)
    finally:
        stop_process(process, timeout=15)
        log.close()


def make_user(server: Server, prefix: str = "user") -> User:
    username = f"{prefix}{next(_numbers)}"
    server.call("UserService", "CreateUser", {"user": {"username": username, "password": PASSWORD}})
    return User(server, username, server.sign_in(username))


@dataclass
class Watch:
    """What went wrong on the pages of one test; ``expect`` declares errors the test provokes."""

    problems: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        self.expected.append(re.compile(pattern))

    def note(self, problem: str) -> None:
        self.problems.append(problem)

    def unexpected(self) -> list[str]:
        return [problem for problem in self.problems if not any(p.search(problem) for p in self.expected)]

    def attach(self, page: Any) -> Any:
        page.on("console", lambda message: message.type == "error"
                and self.note(f"console: {message.text} at {message.location.get('url')}"))
        page.on("pageerror", lambda error: self.note(f"exception: {error}"))
        # A request cut short by the test's own reload or navigation (ERR_ABORTED) did not fail.
        page.on("requestfailed", lambda request: request.failure != "net::ERR_ABORTED"
                and self.note(f"failed: {request.url} {request.failure}"))
        page.on("response", lambda response: response.status >= 400
                and self.note(f"http {response.status}: {response.url}"))
        return page


def sign_in(page: Any, who: User, password: str = PASSWORD) -> None:
    """Through the sign-in form, as a person would; ends on the home feed."""
    page.goto("/auth")
    page.get_by_label("Username").fill(who.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("textbox", name="Memo text").wait_for()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def rail_labels(page: Any) -> list[str]:
    """The names of the rail's navigation links, top to bottom."""
    rail = page.get_by_role("navigation", name="Main navigation")
    return [link.get_attribute("title") for link in rail.locator("a.rail-link").all()]
