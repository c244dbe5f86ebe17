"""`GET /api/v1/sse` over real loopback connections (server spec §12).

The whole app (``memos.app.create_app``) is served by hypercorn in a thread;
events are published through the app's own hub, on the server's loop, the way
the memo services publish them. The shutdown test runs the real server process.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from support import LoopbackServer as Server
from support import bearer, free_port, make_profile, password_hash, serve_app_in_thread, wait_for_health

from memos.api.live import MAX_STREAMS_PER_USER, EventType, LiveHub, MemoEvent
from memos.app import create_app
from memos.server import _release_closed_connections
from memos.store import CreateUser, FindUser
from memos.web.sse import SseEndpoint

PASSWORD = "secret-pw-1"


class World:
    def __init__(self, server: Server, app: Starlette, tokens: dict[str, str]) -> None:
        self.server = server
        self.app = app
        self.hub: LiveHub = app.state.live_hub
        self.tokens = tokens

    @property
    def url(self) -> str:
        return f"{self.server.url}/api/v1/sse"

    def publish(self, event: MemoEvent) -> int:
        return int(self.server.call(self.hub.publish, event))

    def subscribers(self) -> int:
        return int(self.server.call(lambda: self.hub.subscriber_count))

    def user_id(self, username: str) -> int:
        return int(self.server.run(self.app.state.store.users.get(FindUser(username=username))).id)

    def endpoint(self) -> SseEndpoint:
        """The route's endpoint, to shorten its intervals for a test."""
        endpoints = (getattr(route, "endpoint", None) for route in self.app.routes)
        return next(endpoint for endpoint in endpoints if isinstance(endpoint, SseEndpoint))


def add_user(server: Server, app: Starlette, username: str, role: str = "USER") -> str:
    """A user made through the app's store, signed in over REST; the access token."""
    create = CreateUser(username=username, password_hash=password_hash(PASSWORD), role=role)
    server.run(app.state.store.users.create(create))
    signed = httpx.post(
        f"{server.url}/api/v1/auth/signin", json={"passwordCredentials": {"username": username, "password": PASSWORD}}
    )
    assert signed.status_code == 200, signed.text
    return str(signed.json()["accessToken"])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    # hypercorn as memos.server runs it: a connection the client has closed is released at once
    # (stock hypercorn keeps it for its keep-alive time, which would blur the task counts below).
    _release_closed_connections()
    app = create_app(make_profile(tmp_path / "data"))
    with serve_app_in_thread(app) as server:
        roles = {"root": "ADMIN", "alice": "USER", "bob": "USER"}
        tokens = {name: add_user(server, app, name, role) for name, role in roles.items()}
        yield World(server, app, tokens)
        server.call(app.state.live_hub.close)  # streams left open end before the server stops


class Stream:
    """One open event stream, read as raw bytes."""

    def __init__(self, client: httpx.Client, url: str, token: str) -> None:
        self._context = client.stream("GET", url, headers=bearer(token), timeout=5)
        self.response = self._context.__enter__()
        self._chunks = self.response.iter_bytes()
        self.seen = b""

    def read_until(self, marker: bytes) -> bytes:
        while marker not in self.seen:
            self.seen += next(self._chunks)  # a 5 s read timeout fails the test
        return self.seen

    def read_to_end(self) -> bytes:
        for chunk in self._chunks:
            self.seen += chunk
        return self.seen

    def close(self) -> None:
        self._context.__exit__(None, None, None)


@pytest.fixture
def streams(world: World) -> Iterator[dict[str, Stream]]:
    """A connected stream for each of root (admin), alice and bob."""
    with httpx.Client() as client:
        opened = {name: Stream(client, world.url, token) for name, token in world.tokens.items()}
        for stream in opened.values():
            stream.read_until(b": connected\n\n")
        yield opened
        for stream in opened.values():
            stream.close()


def data_lines(raw: bytes) -> list[dict[str, str]]:
    return [json.loads(line[len(b"data: "):]) for line in raw.split(b"\n") if line.startswith(b"data: ")]


MARKER = MemoEvent(EventType.MEMO_CREATED, "memos/marker", "PUBLIC", 0)


def events_until_marker(stream: Stream) -> list[dict[str, str]]:
    """The events a stream got up to the PUBLIC marker published last (which everyone receives)."""
    events = data_lines(stream.read_until(b'"name":"memos/marker"}\n\n'))
    assert events[-1] == {"type": "memo.created", "name": "memos/marker"}
    return events[:-1]


# --- authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, query",
    [
        ({}, ""),
        ({"Authorization": "Bearer invalid-token"}, ""),
        ({"Authorization": "Basic cm9vdDpwdw=="}, ""),
        ({}, "?token={token}"),
        ({}, "?access_token={token}"),
    ],
    ids=["none", "invalid", "basic", "query-token", "query-access-token"],
)
def test_without_a_valid_bearer_credential_the_answer_is_401(world: World, headers: dict, query: str) -> None:
    response = httpx.get(world.url + query.format(token=world.tokens["alice"]), headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "authentication required"}


def test_the_refresh_cookie_is_no_credential_here(world: World) -> None:
    with httpx.Client(base_url=world.server.url) as client:
        signed = client.post("/memos.api.v1.AuthService/SignIn", json={
            "passwordCredentials": {"username": "alice", "password": PASSWORD}})
        assert signed.status_code == 200 and "memos_refresh" in client.cookies
        assert client.get("/api/v1/sse", timeout=5).status_code == 401


def test_a_stream_opens_with_its_headers_and_the_connected_comment(world: World) -> None:
    with httpx.Client() as client:
        stream = Stream(client, world.url, world.tokens["alice"])
        try:
            headers = stream.response.headers
            assert stream.response.status_code == 200
            assert headers["content-type"] == "text/event-stream"
            assert headers["cache-control"] == "no-cache"
            assert headers["connection"] == "keep-alive"
            assert headers["x-accel-buffering"] == "no"
            assert stream.read_until(b"\n\n") == b": connected\n\n"
        finally:
            stream.close()


def test_a_personal_access_token_opens_a_stream(world: World) -> None:
    created = httpx.post(
        f"{world.server.url}/api/v1/users/alice/personalAccessTokens",
        json={"description": "sse"},
        headers=bearer(world.tokens["alice"]),
    )
    assert created.status_code == 200, created.text
    with httpx.Client() as client:
        stream = Stream(client, world.url, created.json()["token"])
        try:
            assert stream.read_until(b"\n\n") == b": connected\n\n"
        finally:
            stream.close()


@pytest.mark.parametrize("method", ["POST", "HEAD", "DELETE"])
def test_other_methods_fall_through_to_the_gateway(world: World, method: str) -> None:
    # As in Memos, where `/api/v1/*` takes every method the specific route does not.
    response = httpx.request(method, world.url, headers=bearer(world.tokens["alice"]), timeout=5)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert world.subscribers() == 0


# --- events and who receives them ----------------------------------------------------------


def test_an_event_is_one_data_line_with_type_name_and_parent(world: World, streams: dict[str, Stream]) -> None:
    event = MemoEvent(EventType.MEMO_UPDATED, "memos/789", "PUBLIC", 1, parent="memos/123")
    assert world.publish(event) == 3
    raw = streams["alice"].read_until(b"}\n\n")
    assert raw == b': connected\n\ndata: {"type":"memo.updated","name":"memos/789","parent":"memos/123"}\n\n'


def test_a_private_event_reaches_its_owner_and_the_admin_only(world: World, streams: dict[str, Stream]) -> None:
    world.publish(MemoEvent(EventType.MEMO_CREATED, "memos/secret", "PRIVATE", world.user_id("alice")))
    world.publish(MARKER)
    expected = [{"type": "memo.created", "name": "memos/secret"}]
    assert events_until_marker(streams["alice"]) == expected
    assert events_until_marker(streams["root"]) == expected
    assert events_until_marker(streams["bob"]) == []


def test_protected_events_reach_everyone_and_unknown_visibilities_nobody(
    world: World, streams: dict[str, Stream]
) -> None:
    world.publish(MemoEvent(EventType.MEMO_DELETED, "memos/p", "PROTECTED", 2))
    world.publish(MemoEvent(EventType.MEMO_DELETED, "memos/x", "WORKSPACE", 2))
    world.publish(MARKER)
    for stream in streams.values():
        assert events_until_marker(stream) == [{"type": "memo.deleted", "name": "memos/p"}]


def test_heartbeats_keep_the_stream_alive(world: World) -> None:
    world.endpoint().heartbeat_seconds = 0.2
    with httpx.Client() as client:
        stream = Stream(client, world.url, world.tokens["alice"])
        try:
            raw = stream.read_until(b": heartbeat\n\n: heartbeat\n\n")
            assert raw == b": connected\n\n: heartbeat\n\n: heartbeat\n\n"
        finally:
            stream.close()


# --- bounds, disconnects and shutdown ---------------------------------------------------------


@dataclasses.dataclass
class RawStream:
    sock: socket.socket
    status: int

    def close(self) -> None:
        self.sock.close()


def open_raw(port: int, token: str) -> RawStream:
    """A stream opened on a plain socket, read up to the end of the response head."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(f"GET /api/v1/sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, head
        head += chunk
    return RawStream(sock, int(head.split(b" ", 2)[1]))


def task_count(world: World) -> int:
    return int(world.server.call(lambda: len(asyncio.all_tasks())))


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def settled_task_count(world: World) -> int:
    """The server's task count once the connections of earlier requests are gone (it stops changing)."""
    previous, current = -1, task_count(world)
    while current != previous:
        time.sleep(0.2)
        previous, current = current, task_count(world)
    return current


def test_200_dropped_connections_leave_no_subscriber_and_no_task_behind(world: World) -> None:
    baseline = settled_task_count(world)
    tokens = [add_user(world.server, world.app, f"user{i}") for i in range(10)]
    sockets = [open_raw(world.server.port, tokens[i % len(tokens)]) for i in range(200)]
    assert all(sock.status == 200 for sock in sockets)
    assert world.subscribers() == 200
    assert task_count(world) > baseline + 200
    for sock in sockets:
        sock.close()
    assert wait_until(lambda: world.subscribers() == 0), world.subscribers()
    assert wait_until(lambda: task_count(world) <= baseline, timeout=2), (task_count(world), baseline)


def test_one_user_past_the_limit_is_told_to_retry_later(world: World) -> None:
    sockets = [open_raw(world.server.port, world.tokens["bob"]) for _ in range(MAX_STREAMS_PER_USER)]
    try:
        assert {sock.status for sock in sockets} == {200}
        refused = httpx.get(world.url, headers=bearer(world.tokens["bob"]), timeout=5)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "30"
        assert "too many live connections" in refused.json()["error"]
        # Others are not affected.
        other = open_raw(world.server.port, world.tokens["alice"])
        assert other.status == 200
        other.close()
    finally:
        for sock in sockets:
            sock.close()
    assert wait_until(lambda: world.subscribers() == 0)
    again = open_raw(world.server.port, world.tokens["bob"])
    assert again.status == 200
    again.close()


def test_closing_the_hub_ends_open_streams_at_once_with_a_clean_end(world: World, streams: dict[str, Stream]) -> None:
    began = time.monotonic()
    world.server.call(world.hub.close)
    for stream in streams.values():
        assert stream.read_to_end() == b": connected\n\n"  # a complete chunked body: no error raised
    assert time.monotonic() - began < 1.0
    assert world.subscribers() == 0
    refused = httpx.get(world.url, headers=bearer(world.tokens["alice"]), timeout=5)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "30"


def test_a_stream_that_cannot_be_written_ends_and_frees_its_place(world: World) -> None:
    world.endpoint().stall_seconds = 0.3
    stream = open_raw(world.server.port, world.tokens["alice"])
    big = MemoEvent(EventType.MEMO_UPDATED, "memos/" + "x" * 60_000, "PUBLIC", 2)
    try:
        # Never read: the socket buffers fill, a write stalls, the stream gives up.
        assert wait_until(lambda: world.publish(big) == 0 and world.subscribers() == 0, timeout=20)
    finally:
        stream.close()



def test_the_real_server_ends_open_streams_on_sigterm_without_waiting_for_the_drain(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMOS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "memos", "--addr", "127.0.0.1", "--port", str(port), "--data", str(tmp_path / "data")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, process)
        created = httpx.post(f"{base}/api/v1/users", json={"username": "root", "password": PASSWORD})
        assert created.status_code == 200, created.text
        signed = httpx.post(
            f"{base}/api/v1/auth/signin", json={"passwordCredentials": {"username": "root", "password": PASSWORD}}
        )
        token = signed.json()["accessToken"]
        bodies: list[bytes] = []
        connected = threading.Semaphore(0)

        def read_stream() -> None:
            with httpx.stream("GET", f"{base}/api/v1/sse", headers=bearer(token), timeout=15) as response:
                body = b""
                for chunk in response.iter_bytes():  # raises unless the body ends cleanly
                    if not body:
                        connected.release()
                    body += chunk
                bodies.append(body)

        readers = [threading.Thread(target=read_stream) for _ in range(3)]
        for reader in readers:
            reader.start()
        assert all(connected.acquire(timeout=10) for _ in readers)
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        for reader in readers:
            reader.join(timeout=15)
        assert bodies == [b": connected\n\n"] * 3
        assert process.wait(timeout=15) == 0
        # Far below the 10 s the drain would wait for open streams.
        assert time.monotonic() - began < 5
        assert 'msg="memos stopped properly"' in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()

