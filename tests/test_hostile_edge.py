"""Hostile input at the edge, replayed against the built memos.pyz on an empty data directory.

Oversized bodies (with and without a declared length, anonymous and signed in),
thousands of short connections, and a process out of file descriptors: each
gets its clear answer, the server keeps serving, and its sockets and memory
come back. Everything goes to 127.0.0.1 only.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import http.client
import json
import os
import pathlib
import resource
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from support import PyzServer, start_pyz

SIGN_IN_CONNECT = "/memos.api.v1.AuthService/SignIn"
SIGN_IN_REST = "/api/v1/auth/signin"
CREATE_ATTACHMENT = "/memos.api.v1.AttachmentService/CreateAttachment"
HOSTILE_BODY = 64 * 1024 * 1024
ANONYMOUS_CAP = "65536 bytes (64 KiB)"
SIGNED_IN_CAP = 42_991_616  # a 30 MiB upload as base64, plus 1 MiB
# Loose on purpose: a correctness bound for "memory comes back", not a speed
# target. Before the caps, four 64 MiB bodies added over 600 MiB.
RSS_SLACK_KIB = 24 * 1024


def settle_sockets(server: PyzServer, at_most: int, within: float = 2.0) -> int:
    """The socket count once it is at most ``at_most``, or the last count after ``within`` seconds."""
    deadline = time.monotonic() + within
    count = server.sockets()
    while count > at_most and time.monotonic() < deadline:
        time.sleep(0.05)
        count = server.sockets()
    return count



@pytest.fixture(scope="module")
def server(built_pyz: pathlib.Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PyzServer]:
    with start_pyz(built_pyz, tmp_path_factory.mktemp("edge")) as running:
        yield running


@pytest.fixture(scope="module")
def access_token(server: PyzServer) -> str:
    """The first user of the instance (its admin), signed in."""
    return server.create_owner("owner", "secret-pw")


@pytest.fixture(scope="module")
def baseline_rss(server: PyzServer, access_token: str) -> int:
    """Resident memory once the server has served a little of everything."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(20):
            client.get("/healthz")
            client.get("/api/v1/instance/profile")
            client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access_token}"})
    return server.rss_kib()


# --- raw HTTP/1.1, to control exactly what is sent and when ----------------------------


def _head(path: str, content_type: str, extra: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {content_type}"]
    lines += [f"{name}: {value}" for name, value in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    response = http.client.HTTPResponse(sock)
    response.begin()
    body = response.read()
    return response.status, {name.lower(): value for name, value in response.getheaders()}, body


def declared_only(port: int, path: str, length: int, content_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Declare a body of ``length`` bytes, send none of it, and read the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_head(path, content_type, {"Content-Length": str(length), **(headers or {})}))
        return _read_response(sock)


def chunked_flood(port: int, path: str, total: int, content_type: str = "application/json"
                  ) -> tuple[int, dict[str, str], bytes, int]:
    """Stream up to ``total`` bytes without a declared length while reading the answer; (status, headers,
    body, bytes the server let us send before answering)."""
    chunk = b"{" + b" " * (64 * 1024 - 1)
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_head(path, content_type, {"Transfer-Encoding": "chunked"}))
        with concurrent.futures.ThreadPoolExecutor(1) as reader:
            answer = reader.submit(_read_response, sock)
            with contextlib.suppress(OSError):  # the server hangs up once it has answered
                while sent < total and not answer.done():
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
            status, headers, body = answer.result(timeout=15)
    return status, headers, body, sent


# --- oversized bodies ----------------------------------------------------------------------


def test_an_anonymous_declared_64_mib_sign_in_is_refused_before_reading(server: PyzServer, baseline_rss: int) -> None:
    status, headers, body = declared_only(server.port, SIGN_IN_CONNECT, HOSTILE_BODY)
    assert status == 413 and headers["content-type"] == "application/json"
    assert json.loads(body) == {
        "code": "resource_exhausted",
        "message": f"request body of {HOSTILE_BODY} bytes is too large: the limit is {ANONYMOUS_CAP}",
    }
    status, _, body = declared_only(server.port, SIGN_IN_REST, HOSTILE_BODY)
    assert status == 413
    assert json.loads(body) == {
        "code": 8,
        "message": f"request body of {HOSTILE_BODY} bytes is too large: the limit is {ANONYMOUS_CAP}",
        "details": [],
    }
    assert server.healthy()


def test_an_anonymous_sign_in_without_a_length_is_cut_at_the_cap(server: PyzServer, baseline_rss: int) -> None:
    status, _, body, sent = chunked_flood(server.port, SIGN_IN_CONNECT, HOSTILE_BODY)
    assert status == 413
    assert json.loads(body) == {
        "code": "resource_exhausted",
        "message": f"request body is too large: the limit is {ANONYMOUS_CAP}",
    }
    assert sent < HOSTILE_BODY  # answered long before the whole body was sent
    status, _, body, _ = chunked_flood(server.port, SIGN_IN_REST, HOSTILE_BODY)
    assert status == 413 and json.loads(body)["code"] == 8
    assert server.healthy()


def test_four_concurrent_64_mib_sign_ins_leave_memory_as_it_was(server: PyzServer, baseline_rss: int) -> None:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        declared = [pool.submit(declared_only, server.port, SIGN_IN_CONNECT, HOSTILE_BODY) for _ in range(4)]
        streamed = [pool.submit(chunked_flood, server.port, SIGN_IN_REST, HOSTILE_BODY) for _ in range(4)]
        statuses = [future.result(timeout=60)[0] for future in declared + streamed]
    assert statuses == [413] * 8
    assert server.healthy()
    assert server.rss_kib() - baseline_rss < RSS_SLACK_KIB


def test_a_signed_in_body_gets_the_upload_sized_cap(server: PyzServer, access_token: str, baseline_rss: int) -> None:
    auth = {"Authorization": f"Bearer {access_token}"}
    status, _, body = declared_only(server.port, CREATE_ATTACHMENT, SIGNED_IN_CAP + 1, headers=auth)
    assert status == 413
    assert json.loads(body)["message"] == (
        f"request body of {SIGNED_IN_CAP + 1} bytes is too large: the limit is {SIGNED_IN_CAP} bytes (41 MiB)"
    )
    # A body over the anonymous cap but within the signed-in one is read and reaches the service.
    payload = json.dumps({"attachment": {"filename": "a.bin", "content": "A" * (1024 * 1024)}}).encode()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        accepted = client.post(
            CREATE_ATTACHMENT, content=payload, headers={"Content-Type": "application/json", **auth}
        )
        anonymous = client.post(CREATE_ATTACHMENT, content=payload, headers={"Content-Type": "application/json"})
    assert accepted.status_code == 200, accepted.text  # the upload was stored
    assert anonymous.status_code == 413
    assert server.healthy()
    assert server.rss_kib() - baseline_rss < RSS_SLACK_KIB


# --- connection churn ----------------------------------------------------------------------------


def test_thousands_of_short_connections_are_released_at_once(server: PyzServer, baseline_rss: int) -> None:
    before = server.sockets()
    deadline = time.monotonic() + 60
    done = 0
    while done < 2000 and time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        done += 1
    assert done >= 500, "too few connections within the time bound to judge"
    # Closed by the client, so closed by the server too: no pile-up in CLOSE-WAIT.
    assert settle_sockets(server, at_most=before + 3) <= before + 3
    assert server.healthy()
    assert server.rss_kib() - baseline_rss < RSS_SLACK_KIB


# --- out of file descriptors -----------------------------------------------------------------------


def test_running_out_of_descriptors_is_logged_once_and_the_server_recovers(
    built_pyz: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    with start_pyz(built_pyz, tmp_path) as low:
        limit = len(os.listdir(f"/proc/{low.process.pid}/fd")) + 20
        resource.prlimit(low.process.pid, resource.RLIMIT_NOFILE, (limit, limit))
        held = []
        try:
            for _ in range(limit + 40):  # the kernel queues what the server cannot accept
                held.append(socket.create_connection(("127.0.0.1", low.port), timeout=10))
            time.sleep(3)  # several of asyncio's one-second accept retries
        finally:
            for sock in held:
                sock.close()
        assert settle_sockets(low, at_most=3, within=5) <= 3
        assert low.healthy()
        log = low.log.read_text()
    exhausted = [line for line in log.splitlines() if "cannot accept connections" in line]
    assert len(exhausted) == 1, log[-2000:]
    assert "level=ERROR" in exhausted[0] and 'error="Too many open files"' in exhausted[0]
    assert f"open_files_limit={limit}" in exhausted[0]
    assert "Traceback" not in log and "socket.accept() out of system resource" not in log
