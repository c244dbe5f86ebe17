"""memos.server.serve: listener, greeting, graceful stop, Unix socket rules.

A stand-in Starlette app (not memos.app) runs in a child process so that real
signals can be sent to it.
"""
from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from support import free_port, socket_count

from memos.profile import Profile
from memos.server import AcceptGuard, ExhaustionReport, greeting

ROOT = Path(__file__).resolve().parents[1]

STANDIN = r'''
import asyncio, contextlib, os, sys
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route
from memos.cli import configure_logging, resolve_profile
from memos.server import serve

configure_logging()
profile = resolve_profile(sys.argv[1:], os.environ)
hub_closed = asyncio.Event()

@contextlib.asynccontextmanager
async def lifespan(app):
    if os.environ.get("STANDIN_FAIL_STARTUP"):
        raise RuntimeError("the store would not open")
    yield
    print("lifespan closed", file=sys.stderr, flush=True)

async def healthz(request):
    return PlainTextResponse("Service ready.")

async def slow(request):
    await asyncio.sleep(1.0)
    return PlainTextResponse("slow done")

async def events(request):
    async def body():
        yield b": connected\n\n"
        await hub_closed.wait()
    return StreamingResponse(body(), media_type="text/event-stream")

app = Starlette(routes=[Route("/healthz", healthz), Route("/slow", slow), Route("/events", events)], lifespan=lifespan)
sys.exit(serve(profile, app, on_shutdown_signal=hub_closed.set))
'''


class Running:
    """A child process whose stdout is collected line by line in the background."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def read_until(self, marker: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen = "".join(self.lines)
            if marker in seen:
                return seen
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"no {marker!r} on stdout; got {''.join(self.lines)!r}")

    def stop(self, signum: int | None = signal.SIGTERM) -> tuple[int, str, str]:
        """Send `signum` (None: wait for it to end by itself); returns status, stdout, stderr."""
        if signum is not None and self.proc.poll() is None:
            self.proc.send_signal(signum)
        err = self.proc.stderr.read()
        self.proc.wait(timeout=20)
        self._reader.join(timeout=5)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode, "".join(self.lines), err


def start(tmp_path: Path, *argv: str, **environ: str) -> Running:
    script = tmp_path / "standin.py"
    script.write_text(STANDIN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMOS_")}
    env.update(PYTHONPATH=str(ROOT), **environ)
    proc = subprocess.Popen(
        [sys.executable, str(script), "--data", str(tmp_path / "data"), *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    return Running(proc)


@pytest.fixture
def procs():
    started: list[Running] = []
    yield started
    for running in started:
        if running.proc.poll() is None:
            running.proc.kill()
        if not running.proc.stderr.closed:
            running.stop(None)


def test_tcp_greeting_after_listening_and_clean_stop(tmp_path: Path, procs) -> None:
    port = free_port()
    proc = start(tmp_path, "--addr", "127.0.0.1", "--port", str(port))
    procs.append(proc)
    first = proc.read_until("Happy note-taking!")
    assert first.startswith("Memos ")
    response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
    assert (response.status_code, response.text) == (200, "Service ready.")
    assert response.http_version == "HTTP/1.1"
    assert "server" not in response.headers
    status, _, err = proc.stop()
    assert status == 0
    assert f"Server running on 127.0.0.1:{port}" in first
    assert 'msg="server shutting down"' in err
    assert err.index("lifespan closed") < err.index('msg="memos stopped properly"')


def test_sigint_stops_cleanly_too(tmp_path: Path, procs) -> None:
    port = free_port()
    proc = start(tmp_path, "--addr", "127.0.0.1", "--port", str(port))
    procs.append(proc)
    proc.read_until("Happy note-taking!")
    assert proc.stop(signal.SIGINT)[0] == 0


def test_in_flight_request_finishes_and_endless_stream_ends_on_shutdown(tmp_path: Path, procs) -> None:
    port = free_port()
    proc = start(tmp_path, "--addr", "127.0.0.1", "--port", str(port))
    procs.append(proc)
    proc.read_until("Happy note-taking!")
    results: dict[str, object] = {}

    def slow_request() -> None:
        results["slow"] = httpx.get(f"http://127.0.0.1:{port}/slow", timeout=10).text

    def stream_request() -> None:
        with httpx.stream("GET", f"http://127.0.0.1:{port}/events", timeout=10) as response:
            results["events"] = b"".join(response.iter_bytes())

    threads = [threading.Thread(target=slow_request), threading.Thread(target=stream_request)]
    for thread in threads:
        thread.start()
    time.sleep(0.4)
    began = time.monotonic()
    status, _, _ = proc.stop()
    for thread in threads:
        thread.join(timeout=10)
    assert status == 0
    assert results == {"slow": "slow done", "events": b": connected\n\n"}
    assert time.monotonic() - began < 5  # the stream did not hold the 10 s budget


def test_unix_socket_mode_and_cleanup(tmp_path: Path, procs) -> None:
    path = tmp_path / "memos.sock"
    proc = start(tmp_path, "--unix-sock", str(path))
    procs.append(proc)
    first = proc.read_until("Happy note-taking!")
    assert f"Server running on unix socket: {path}" in first
    assert stat.S_IMODE(path.stat().st_mode) == 0o660
    transport = httpx.HTTPTransport(uds=str(path))
    with httpx.Client(transport=transport) as client:
        assert client.get("http://memos/healthz").text == "Service ready."
    assert proc.stop()[0] == 0
    assert not path.exists()


def test_existing_unix_socket_file_fails_clearly(tmp_path: Path, procs) -> None:
    path = tmp_path / "memos.sock"
    path.write_text("")
    proc = start(tmp_path, "--unix-sock", str(path))
    procs.append(proc)
    status, out, err = proc.stop(None)  # it ends by itself
    assert status == 1
    assert "Happy note-taking!" not in out
    assert "failed to start server" in err and "already exists" in err
    assert path.read_text() == ""  # a file we did not create is left alone


def test_port_in_use_fails_clearly(tmp_path: Path, procs) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = start(tmp_path, "--addr", "127.0.0.1", "--port", str(port))
        procs.append(proc)
        status, out, err = proc.stop(None)
    assert status == 1
    assert out == ""
    assert "failed to start server" in err and str(port) in err


def test_startup_failure_means_no_greeting_and_status_1(tmp_path: Path, procs) -> None:
    proc = start(tmp_path, "--addr", "127.0.0.1", "--port", str(free_port()), STANDIN_FAIL_STARTUP="1")
    procs.append(proc)
    status, out, err = proc.stop(None)
    assert status == 1
    assert out == ""
    assert "failed to start server" in err and "the store would not open" in err


def profile(**changes) -> Profile:
    return Profile(data="/srv/memos", dsn="/srv/memos/memos_prod.db", **changes)


def test_greeting_on_all_interfaces() -> None:
    assert greeting(profile(port=5230)) == (
        "Memos 0.30.0 started successfully!\n"
        "Data directory: /srv/memos\n"
        "Database driver: sqlite\n"
        "Server running on port 5230\n"
        "Access your memos at: http://localhost:5230\n"
        "Access mode: private\n"
        "\n"
        "Documentation: https://usememos.com\n"
        "Source code: https://github.com/usememos/memos\n"
        "\n"
        "Happy note-taking!\n"
    )


def test_greeting_with_addr_unix_socket_and_public_mode() -> None:
    with_addr = greeting(profile(addr="10.0.0.2", port=8081, instance_url="https://m.example"))
    assert "Server running on 10.0.0.2:8081\nAccess your memos at: http://10.0.0.2:8081\n" in with_addr
    assert "Access mode: public\n" in with_addr
    on_socket = greeting(profile(unix_sock="/run/memos.sock"))
    assert "Server running on unix socket: /run/memos.sock\nAccess mode: private\n" in on_socket


def test_connections_closed_by_the_client_are_released_at_once(tmp_path: Path, procs) -> None:
    # hypercorn alone keeps each one open (CLOSE-WAIT) until its 5 s keep-alive timer ends.
    port = free_port()
    procs.append(running := start(tmp_path, "--addr", "127.0.0.1", "--port", str(port)))
    running.read_until("Happy note-taking!")
    before = socket_count(running.proc.pid)
    for _ in range(300):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    deadline = time.monotonic() + 1.5
    while socket_count(running.proc.pid) > before + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert socket_count(running.proc.pid) <= before + 2
    # A keep-alive client is still served on its one connection.
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]
        assert socket_count(running.proc.pid) <= before + 2


def test_resource_exhaustion_is_reported_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    report = ExhaustionReport(interval=60, clock=lambda: now[0])
    emfile = OSError(errno.EMFILE, "Too many open files")
    with caplog.at_level(logging.ERROR, logger="memos.server"):
        for _ in range(500):
            report.failed(emfile)
        now[0] += 61
        report.failed(emfile)
    lines = [record for record in caplog.records if record.name == "memos.server"]
    assert [record.getMessage() for record in lines] == ["cannot accept connections: out of resources"] * 2
    assert (lines[0].failed_accepts, lines[1].failed_accepts) == (1, 500)
    assert lines[0].error == "Too many open files"


def test_the_accept_guard_passes_one_exhaustion_per_turn_on(monkeypatch: pytest.MonkeyPatch) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    guard = AcceptGuard(listener, ExhaustionReport())
    try:
        with socket.create_connection(guard.getsockname()):
            accepted, _ = guard.accept()
            accepted.close()

        def out_of_descriptors(self: socket.socket) -> tuple[socket.socket, object]:
            raise OSError(errno.EMFILE, "Too many open files")

        monkeypatch.setattr(socket.socket, "accept", out_of_descriptors)
        with pytest.raises(OSError) as first:
            guard.accept()
        assert first.value.errno == errno.EMFILE  # asyncio pauses the listener on this one
        with pytest.raises(BlockingIOError):
            guard.accept()  # the rest of the turn: "nothing pending", so asyncio stops looping
        assert guard.report.failures == 0  # reported, counter restarted
    finally:
        guard.close()
