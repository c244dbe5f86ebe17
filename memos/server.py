"""Run an ASGI app with hypercorn inside this process: one listener, plain HTTP/1.1.

The listening socket is opened here, before the app starts, so that a port in
use or a leftover Unix socket file fails fast with a clear message, and so the
greeting can be printed as soon as the app's startup has completed (the socket
already accepts connections at that point).

Two adjustments to how hypercorn 0.18 and asyncio (Python 3.11) drive it keep
connection churn cheap (see ``_release_closed_connections`` and
``AcceptGuard``): a connection the client has closed is released at once, and
running out of file descriptors is logged once per interval.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import socket
import stat
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from memos.profile import Profile

log = logging.getLogger("memos.server")

ASGIApp = Callable[..., Awaitable[None]]
AsgiMessage = dict[str, Any]
AsgiChannel = Callable[..., Awaitable[Any]]
SHUTDOWN_BUDGET_SECONDS = 10.0
STARTUP_BUDGET_SECONDS = 300.0  # migrations of a big database run during startup
BACKLOG = 511
MAX_HEADER_BYTES = 1 << 20  # what Go's net/http accepts by default
EXHAUSTION_REPORT_SECONDS = 60.0
# The errors accept() gives when the process or the machine is out of a resource;
# the pending connection stays queued in the kernel until one is freed.
_EXHAUSTION_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_ACCEPT_EXHAUSTED = "socket.accept() out of system resource"  # asyncio's report of the above


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

    async def wrapped(scope: AsgiMessage, receive: AsgiChannel, send: AsgiChannel) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        replied = False

        async def watch(message: AsgiMessage) -> None:
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


class ExhaustionReport:
    """Logs "out of resources" at most once per interval, with the count of failures since the last line."""

    def __init__(self, interval: float = EXHAUSTION_REPORT_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self.failures = 0
        self._last_report: float | None = None
        self._resource = _resource_module()  # imported now: an import needs a free descriptor

    def failed(self, error: OSError) -> None:
        self.failures += 1
        now = self.clock()
        if self._last_report is not None and now - self._last_report < self.interval:
            return
        self._last_report = now
        log.error(
            "cannot accept connections: out of resources",
            extra={
                "error": os.strerror(error.errno) if error.errno else str(error),
                "failed_accepts": self.failures,
                "open_files_limit": self._open_files_limit(),
                "next_report_in_s": int(self.interval),
            },
        )
        self.failures = 0

    def _open_files_limit(self) -> int | str:
        if self._resource is None:
            return "unknown"
        return int(self._resource.getrlimit(self._resource.RLIMIT_NOFILE)[0])


def _resource_module() -> Any:
    try:
        import resource
    except ImportError:  # not on every platform
        return None
    return resource


class AcceptGuard(socket.socket):
    """The listening socket, with a calmer accept() when the process is out of file descriptors.

    asyncio (3.11) answers such a failure by pausing the listener for a second,
    but then goes on calling accept() up to ``backlog`` times in the same turn,
    each failure scheduling one more retry and one more log line with a stack
    (CPython gh-151615): thousands of ERROR lines a second. Here the first
    failure of a turn is passed on (asyncio pauses), the rest of the turn reads
    as "nothing pending" (asyncio stops looping), and failures are logged by
    ``ExhaustionReport``, once per interval.
    """

    def __init__(self, listener: socket.socket, report: ExhaustionReport) -> None:
        super().__init__(listener.family, listener.type, listener.proto, fileno=listener.detach())
        self.report = report
        self._paused_at: float | None = None

    def accept(self) -> tuple[socket.socket, Any]:
        if self._paused_at is not None and time.monotonic() - self._paused_at < _PAUSE_WINDOW_SECONDS:
            raise BlockingIOError(errno.EAGAIN, "accepting paused: out of resources")
        self._paused_at = None
        try:
            return super().accept()
        except OSError as error:
            if error.errno not in _EXHAUSTION_ERRNOS:
                raise
            self._paused_at = time.monotonic()
            self.report.failed(error)
            raise


# Shorter than asyncio's one-second pause, longer than one turn of the loop.
_PAUSE_WINDOW_SECONDS = 0.5


def _quiet_accept_exhaustion(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler: accept exhaustion is already reported by ExhaustionReport."""
    if context.get("message") == _ACCEPT_EXHAUSTED:
        return
    loop.default_exception_handler(context)


def _release_closed_connections() -> None:
    """Close a connection as soon as its client has closed it (hypercorn 0.18).

    After a response hypercorn starts the connection's keep-alive timer (5 s) in
    the connection's task group, and closes the socket only once that group is
    done; a client that hangs up meanwhile leaves the socket in CLOSE-WAIT
    until the timer ends. 2,000 short connections then hold 2,000 descriptors
    and leave the heap fragmented (RSS +25 MiB, kept). Stopping the timer when
    the read loop ends (end of stream, read error or read timeout) lets the
    group finish at once; a request still running keeps the group open as before.
    """
    from hypercorn.asyncio import run, tcp_server

    # worker_serve looks the class up in its module's namespace for every connection.
    namespace = vars(run)
    if namespace["TCPServer"] is not tcp_server.TCPServer:
        return  # already installed

    class PromptCloseTCPServer(tcp_server.TCPServer):
        async def _read_data(self) -> None:
            await super()._read_data()
            await self.idle_task.stop()

    namespace["TCPServer"] = PromptCloseTCPServer


def _hypercorn_config(listener: socket.socket, profile: Profile) -> Any:
    from hypercorn.config import Config, Sockets

    class OwnListenerConfig(Config):
        """Serves the listener opened (and guarded) here instead of binding one itself."""

        def create_sockets(self) -> Sockets:
            return Sockets(secure_sockets=[], insecure_sockets=[listener], quic_sockets=[])

    config = OwnListenerConfig()
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
    profile: Profile, app: ASGIApp, listener: socket.socket, on_shutdown_signal: Callable[[], None] | None
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
    loop.set_exception_handler(_quiet_accept_exhaustion)
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop)

    def announce() -> None:
        sys.stdout.write(greeting(profile))
        sys.stdout.flush()

    wrapped = _announce_after_startup(app, announce)
    _release_closed_connections()
    guarded = AcceptGuard(listener, ExhaustionReport())
    try:
        await hypercorn_serve(wrapped, _hypercorn_config(guarded, profile), shutdown_trigger=stop.wait, mode="asgi")
    finally:
        guarded.close()  # hypercorn has closed it unless the app failed to start


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
    try:
        # hypercorn closes the listener when it stops serving.
        asyncio.run(_run(profile, app, sock, on_shutdown_signal))
    except Exception as error:
        cause = _startup_cause(error)
        # The operator gets one line; the traceback only when asked for (--log-level debug).
        log.error("failed to start server", extra={"error": _describe(cause)}, exc_info=_debugging(profile, cause))
        return 1
    finally:
        sock.close()  # a no-op once handed over
        _remove_socket_file(profile.unix_sock)
    log.info("memos stopped properly")
    return 0


def _startup_cause(error: BaseException) -> BaseException:
    """The app's own exception behind hypercorn's report of a failed startup.

    hypercorn raises LifespanFailureError (carrying the whole traceback as text)
    while the app's lifespan is handling its own error, so that error is its context.
    """
    from hypercorn.utils import LifespanFailureError

    if isinstance(error, LifespanFailureError) and error.__context__ is not None:
        return error.__context__
    return error


def _debugging(profile: Profile, error: BaseException) -> tuple[type[BaseException], BaseException, Any] | None:
    return (type(error), error, error.__traceback__) if profile.log_level == "debug" else None


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
