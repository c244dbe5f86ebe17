"""Run an ASGI app with hypercorn inside this process: one listener, plain HTTP/1.1.

The listening socket is opened here, before the app starts, so that a port in
use or a leftover Unix socket file fails fast with a clear message, and so the
greeting can be printed as soon as the app's startup has completed (the socket
already accepts connections at that point).
"""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import stat
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from memos.profile import Profile

log = logging.getLogger("memos.server")

ASGIApp = Callable[..., Awaitable[None]]
SHUTDOWN_BUDGET_SECONDS = 10.0
STARTUP_BUDGET_SECONDS = 300.0  # migrations of a big database run during startup
BACKLOG = 511
MAX_HEADER_BYTES = 1 << 20  # what Go's net/http accepts by default


class ListenError(Exception):
    """The listener could not be opened; the message is meant for the operator."""


def listen(profile: Profile) -> socket.socket:
    """Open the listening socket the profile asks for (Unix socket or TCP)."""
    if profile.unix_sock:
        return _listen_unix(profile.unix_sock)
    return _listen_tcp(profile.addr, profile.port)


def _listen_unix(path: str) -> socket.socket:
    if os.path.lexists(path):
        raise ListenError(f"unix socket {path} already exists; remove it if no other server uses it")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        os.chmod(path, 0o660)
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        raise ListenError(f"cannot listen on unix socket {path}: {error.strerror or error}") from None
    return sock


def _listen_tcp(addr: str, port: int) -> socket.socket:
    host = addr.strip("[]")
    if not host:
        return _listen_all_interfaces(port)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise ListenError(f"cannot resolve address {addr!r}: {error.strerror}") from None
    family, type_, proto, _, sockaddr = infos[0]
    return _bind(socket.socket(family, type_, proto), sockaddr, f"{addr}:{port}")


def _listen_all_interfaces(port: int) -> socket.socket:
    # One dual-stack IPv6 socket serves IPv4 too; hosts without IPv6 get plain IPv4.
    if socket.has_ipv6:
        try:
            sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        except OSError:
            pass
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            try:
                return _bind(sock, ("::", port), f":{port}")
            except ListenError:
                if not _ipv4_only_host():
                    raise
    return _bind(socket.socket(socket.AF_INET, socket.SOCK_STREAM), ("0.0.0.0", port), f":{port}")


def _ipv4_only_host() -> bool:
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
    except OSError:
        return True
    probe.close()
    return False


def _bind(sock: socket.socket, sockaddr: Any, label: str) -> socket.socket:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        raise ListenError(f"cannot listen on {label}: {error.strerror or error}") from None
    return sock


def greeting(profile: Profile) -> str:
    """The startup banner printed on stdout once the server accepts requests."""
    lines = [
        f"Memos {profile.version} started successfully!",
        f"Data directory: {profile.data}",
        f"Database driver: {profile.driver}",
    ]
    if profile.unix_sock:
        lines.append(f"Server running on unix socket: {profile.unix_sock}")
    elif not profile.addr:
        lines += [f"Server running on port {profile.port}", f"Access your memos at: http://localhost:{profile.port}"]
    else:
        lines += [
            f"Server running on {profile.addr}:{profile.port}",
            f"Access your memos at: http://{profile.addr}:{profile.port}",
        ]
    lines += [
        f"Access mode: {'public' if profile.is_public else 'private'}",
        "",
        "Documentation: https://usememos.com",
        "Source code: https://github.com/usememos/memos",
        "",
        "Happy note-taking!",
    ]
    return "\n".join(lines) + "\n"


def _announce_after_startup(app: ASGIApp, announce: Callable[[], None]) -> ASGIApp:
    """Wrap `app` so that `announce` runs once its lifespan startup has completed."""

    async def wrapped(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        replied = False

        async def watch(message: dict) -> None:
            nonlocal replied
            replied = True
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                announce()

        try:
            await app(scope, receive, watch)
        except Exception:
            # An app without lifespan support fails before replying; hypercorn then
            # serves it anyway, so it is started as far as anyone can tell.
            if not replied:
                announce()
            raise

    return wrapped


def _hypercorn_config(fd: int, profile: Profile) -> Any:
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"fd://{fd}"]
    config.accesslog = None
    error_logger = logging.getLogger("hypercorn.error")
    # hypercorn's own info lines ("Running on ...") would repeat the greeting.
    error_logger.setLevel(logging.DEBUG if profile.log_level == "debug" else logging.WARNING)
    config.errorlog = error_logger
    config.include_server_header = False
    config.graceful_timeout = SHUTDOWN_BUDGET_SECONDS
    config.shutdown_timeout = SHUTDOWN_BUDGET_SECONDS
    config.startup_timeout = STARTUP_BUDGET_SECONDS
    config.backlog = BACKLOG
    config.h11_max_incomplete_size = MAX_HEADER_BYTES
    return config


async def _run(
    profile: Profile, app: ASGIApp, fd: int, on_shutdown_signal: Callable[[], None] | None
) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve

    stop = asyncio.Event()

    def request_stop() -> None:
        if stop.is_set():
            return
        log.info("server shutting down")
        if on_shutdown_signal is not None:
            on_shutdown_signal()
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop)

    def announce() -> None:
        sys.stdout.write(greeting(profile))
        sys.stdout.flush()

    wrapped = _announce_after_startup(app, announce)
    await hypercorn_serve(wrapped, _hypercorn_config(fd, profile), shutdown_trigger=stop.wait, mode="asgi")


def serve(profile: Profile, app: ASGIApp, *, on_shutdown_signal: Callable[[], None] | None = None) -> int:
    """Serve `app` until SIGINT/SIGTERM; returns the exit status (0 after a clean stop).

    `on_shutdown_signal` runs as soon as the signal arrives, before in-flight
    requests are drained: the place to end endless responses such as SSE.
    The app's lifespan shutdown (closing the store) runs after the drain.
    """
    try:
        sock = listen(profile)
    except ListenError as error:
        log.error("failed to start server", extra={"error": str(error)})
        return 1
    # hypercorn takes the descriptor over through its fd:// bind and closes it.
    fd = sock.detach()
    try:
        asyncio.run(_run(profile, app, fd, on_shutdown_signal))
    except Exception as error:
        log.error("failed to start server", extra={"error": _describe(error)})
        return 1
    finally:
        _remove_socket_file(profile.unix_sock)
    log.info("memos stopped properly")
    return 0


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _remove_socket_file(path: str) -> None:
    # Go removes its Unix socket file on close; do the same so a restart works.
    if not path:
        return
    try:
        if stat.S_ISSOCK(os.lstat(path).st_mode):
            os.remove(path)
    except OSError:
        pass
