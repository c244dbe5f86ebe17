"""The `memos` command: flags and MEMOS_* variables -> Profile -> server.

Precedence for every setting: an explicitly passed flag, then the MEMOS_*
variable, then the built-in default. A bad value stops the program before
anything is opened, with one line on stderr that names the flag (or the
variable it came from) and exit status 2. A driver Memos names but this
program does not support yet, and a start-up failure (a damaged database,
say), are one line too, with exit status 1.
"""
from __future__ import annotations

import sys

# The shiv extraction belongs to this app alone; without its .pyc files every
# start recompiles everything (PYTHONDONTWRITEBYTECODE is set on some hosts).
sys.dont_write_bytecode = False

import argparse  # noqa: E402  (after the bytecode switch on purpose)
import dataclasses  # noqa: E402
import datetime  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
from collections.abc import Mapping, Sequence  # noqa: E402
from typing import NoReturn, TextIO  # noqa: E402

from memos import __version__  # noqa: E402
from memos.ops import OPERATIONS  # noqa: E402
from memos.profile import Profile  # noqa: E402

log = logging.getLogger("memos")

DEFAULT_DATA_DIR = "/var/opt/memos"
DRIVERS = ("sqlite", "mysql", "postgres")
SUPPORTED_DRIVERS = ("sqlite",)
LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
}
EXIT_BAD_CONFIG = 2
EXIT_STARTUP_FAILED = 1


@dataclasses.dataclass(frozen=True)
class Flag:
    name: str  # without the leading dashes
    kind: str  # "str", "int" or "bool"
    default: str
    help: str

    @property
    def option(self) -> str:
        return "--" + self.name

    @property
    def env(self) -> str:
        return "MEMOS_" + self.name.upper().replace("-", "_")

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


FLAGS: tuple[Flag, ...] = (
    Flag("addr", "str", "", "bind host; empty means all interfaces"),
    Flag("port", "int", "8081", "TCP port"),
    Flag("unix-sock", "str", "", "listen on this Unix socket instead of TCP (addr and port are ignored)"),
    Flag("data", "str", "", "data directory; default /var/opt/memos if writable, else the current directory"),
    Flag("driver", "str", "sqlite", "database driver: sqlite (mysql and postgres: not supported yet)"),
    Flag("dsn", "str", "", "database source; sqlite default <data>/memos_prod.db (memos_demo.db in demo mode)"),
    Flag("instance-url", "str", "", "public base URL; when set the instance is public"),
    Flag("demo", "bool", "false", "demo mode: demo database with seed data"),
    Flag("allow-private-webhooks", "bool", "false", "allow webhook targets on private or reserved IPs"),
    Flag("log-level", "str", "info", "debug, info, warn or error"),
    Flag(
        "trusted-proxies", "str", "127.0.0.0/8,::1",
        "reverse proxies whose X-Forwarded-For, X-Forwarded-Proto and Forwarded headers are believed: "
        "comma-separated addresses or CIDR networks, or none",
    ),
)


class ConfigError(Exception):
    """A setting that cannot be used; `source` is the flag or variable that gave it."""

    def __init__(self, source: str, message: str, *, exit_status: int = EXIT_BAD_CONFIG) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message
        self.exit_status = exit_status


@dataclasses.dataclass(frozen=True)
class _Raw:
    """One setting as given, before validation, with where it came from."""

    flag: Flag
    value: str
    source: str  # "--port", "MEMOS_PORT" or "default"

    @property
    def label(self) -> str:
        if self.source == self.flag.env:
            return f"{self.flag.env} ({self.flag.option})"
        return self.flag.option


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line, like every other bad value."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_CONFIG, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="memos",
        description=(
            "Memos, the self-hosted notes app, as one Python program. "
            "Every flag can also be set as the MEMOS_* variable shown; a flag beats the variable. "
            "Subcommands: 'memos version' prints the version; 'memos backup', 'memos restore', "
            "'memos export' and 'memos import' (each with --help) save and move an instance's data."
        ),
    )
    parser.add_argument("--version", action="version", version=__version__, help="print the version and exit")
    for flag in FLAGS:
        text = f"{flag.help} (env {flag.env}, default {flag.default or 'empty'})"
        if flag.kind == "bool":
            parser.add_argument(
                flag.option, dest=flag.dest, nargs="?", const="true", default=None,
                metavar="true|false", help=text,
            )
        else:
            parser.add_argument(flag.option, dest=flag.dest, default=None, metavar=flag.dest.upper(), help=text)
    return parser


def _collect(
    argv: Sequence[str], environ: Mapping[str, str], parser: argparse.ArgumentParser | None = None
) -> dict[str, _Raw]:
    """Pick each setting's raw text: flag, else non-empty variable, else default."""
    namespace = (parser or build_parser()).parse_args(list(argv))
    raw: dict[str, _Raw] = {}
    for flag in FLAGS:
        given = getattr(namespace, flag.dest)
        if given is not None:
            raw[flag.dest] = _Raw(flag, given, flag.option)
        elif environ.get(flag.env, ""):
            # An empty variable counts as unset, so `MEMOS_PORT=` does not break a start.
            raw[flag.dest] = _Raw(flag, environ[flag.env], flag.env)
        else:
            raw[flag.dest] = _Raw(flag, flag.default, "default")
    return raw


def _parse_port(raw: _Raw) -> int:
    text = raw.value.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise ConfigError(raw.label, f"invalid port {raw.value!r}: must be a number from 1 to 65535")
    return int(text)


_TRUE = {"1", "t", "true"}
_FALSE = {"0", "f", "false"}


def _parse_bool(raw: _Raw) -> bool:
    # The same spellings Go's strconv.ParseBool accepts, which is what Memos reads.
    text = raw.value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(raw.label, f"invalid boolean {raw.value!r}: use true or false")


def _parse_driver(raw: _Raw) -> str:
    if raw.value not in DRIVERS:
        raise ConfigError(raw.label, f"unknown db driver {raw.value!r}: use one of {', '.join(DRIVERS)}")
    if raw.value not in SUPPORTED_DRIVERS:
        # A valid Memos setting this program cannot honour yet: not a typo, so not status 2.
        raise ConfigError(
            raw.label,
            f"the {raw.value} driver is not supported yet; memos.pyz stores its data in SQLite (--driver sqlite)",
            exit_status=EXIT_STARTUP_FAILED,
        )
    return raw.value


def parse_log_level(raw: _Raw) -> str:
    """A log level, case-insensitive; anything else stops the program like every other bad value.

    (Memos warns and falls back to info, which hides a typo in a service file.)
    """
    level = raw.value.strip().lower()
    if level not in LOG_LEVELS:
        raise ConfigError(raw.label, f"invalid log level {raw.value!r}: use one of {', '.join(LOG_LEVELS)}")
    return level


def _parse_trusted_proxies(raw: _Raw) -> tuple[str, ...]:
    from memos.rpc.forwarding import parse_trusted_proxies

    try:
        return tuple(str(network) for network in parse_trusted_proxies(raw.value))
    except ValueError as error:
        raise ConfigError(raw.label, str(error)) from None


def _takes_probe_file(directory: str) -> bool:
    """Whether a file can really be created there (permission bits lie to root and on read-only mounts)."""
    probe = os.path.join(directory, ".write-test")
    try:
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError:
        return False
    return True


def _default_data_dir(preferred: str) -> str:
    """The preferred system directory when it exists and takes a probe file, else '.'."""
    if not os.path.isdir(preferred):
        return "."
    if not _takes_probe_file(preferred):
        log.warning(f"{preferred} is not writable, using current directory")
        return "."
    return preferred


def _resolve_data_dir(raw: _Raw, preferred: str) -> str:
    path = raw.value or _default_data_dir(preferred)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ConfigError(raw.label, f"data directory {path!r} exists and is not a directory")
    try:
        os.makedirs(path, mode=0o770, exist_ok=True)
    except OSError as error:
        raise ConfigError(raw.label, f"cannot create data directory {path!r}: {error.strerror}") from None
    absolute = os.path.abspath(path)  # also drops trailing separators
    try:
        os.stat(absolute)
    except OSError as error:
        raise ConfigError(raw.label, f"cannot use data directory {absolute!r}: {error.strerror}") from None
    if not _takes_probe_file(absolute):
        raise ConfigError(raw.label, f"data directory {absolute!r} is not writable")
    return absolute


def _resolve_dsn(raw: _Raw, driver: str, data: str, demo: bool) -> str:
    if raw.value:
        return raw.value
    if driver != "sqlite":
        raise ConfigError(raw.label, f"a database source is required for driver {driver}")
    return os.path.join(data, "memos_demo.db" if demo else "memos_prod.db")


def resolve_profile(
    argv: Sequence[str],
    environ: Mapping[str, str],
    *,
    default_data_dir: str = DEFAULT_DATA_DIR,
    parser: argparse.ArgumentParser | None = None,
) -> Profile:
    """Turn command-line arguments (without the program name) and an environment into a Profile.

    Raises ConfigError for a value that cannot be used; argparse usage errors
    exit with status 2 themselves. May create the data directory. ``parser`` is
    ``build_parser()`` with a subcommand's own flags added.
    """
    raw = _collect(argv, environ, parser)
    port = _parse_port(raw["port"])
    driver = _parse_driver(raw["driver"])
    demo = _parse_bool(raw["demo"])
    allow_private_webhooks = _parse_bool(raw["allow_private_webhooks"])
    log_level = parse_log_level(raw["log_level"])
    trusted_proxies = _parse_trusted_proxies(raw["trusted_proxies"])
    data = _resolve_data_dir(raw["data"], default_data_dir)
    dsn = _resolve_dsn(raw["dsn"], driver, data, demo)
    return Profile(
        data=data,
        dsn=dsn,
        driver=driver,
        addr=raw["addr"].value,
        port=port,
        unix_sock=raw["unix_sock"].value,
        instance_url=raw["instance_url"].value,
        demo=demo,
        allow_private_webhooks=allow_private_webhooks,
        log_level=log_level,
        trusted_proxies=trusted_proxies,
    )


# --- logging -----------------------------------------------------------------

_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_LEVEL_NAMES = {logging.WARNING: "WARN", logging.CRITICAL: "ERROR"}


def _kv_value(value: object) -> str:
    text = str(value)
    if text == "" or any(c in text for c in ' ="\\') or not text.isprintable():
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    return text


class KeyValueFormatter(logging.Formatter):
    """`time=... level=INFO msg="..." key=value` lines; `extra={...}` keys become attributes."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.datetime.fromtimestamp(record.created).astimezone()
        parts = [
            f"time={stamp.isoformat(timespec='milliseconds')}",
            f"level={_LEVEL_NAMES.get(record.levelno, record.levelname)}",
            f"msg={_kv_value(record.getMessage())}",
        ]
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                parts.append(f"{key}={_kv_value(value)}")
        if record.exc_info:
            parts.append(f"stack={_kv_value(self.formatException(record.exc_info))}")
        return " ".join(parts)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at the moment of each record."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


_handler: logging.Handler | None = None


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Send every log record to stderr (or `stream`) as one key=value line.

    Calling it again replaces the handler it installed before and leaves other
    handlers (a test runner's, say) in place.
    """
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    _handler.setFormatter(KeyValueFormatter())
    root.addHandler(_handler)
    root.setLevel(LOG_LEVELS.get(level, logging.INFO))


# --- entry point -------------------------------------------------------------


def _run_operation(name: str, args: list[str]) -> int:
    """`memos backup|restore|export|import`: the server's flags plus the operation's own (memos.ops)."""
    from memos.ops.command import add_arguments, run

    configure_logging("warn")
    parser = build_parser()
    parser.prog = f"memos {name}"
    add_arguments(name, parser)
    try:
        options = parser.parse_args(args)
        profile = resolve_profile(args, os.environ, parser=parser)
    except ConfigError as error:
        print(f"memos: {error}", file=sys.stderr)
        return error.exit_status
    except SystemExit as stop:  # --help, or a usage error already reported by argparse
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_CONFIG
    return run(name, options, profile)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `memos` command; returns the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["install-service"], ["uninstall-service"]):  # root's set-up, never the server's
        from memos.ops.service import main as service_main

        return service_main(args)
    if args[:1] == ["version"]:  # `--version` is a flag of the parser
        print(__version__)
        return 0
    if args[:1] and args[0] in OPERATIONS:
        return _run_operation(args[0], args[1:])
    configure_logging()
    try:
        profile = resolve_profile(args, os.environ)
    except ConfigError as error:
        print(f"memos: {error}", file=sys.stderr)
        return error.exit_status
    except SystemExit as stop:  # --help, or a usage error already reported by argparse
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_CONFIG
    logging.getLogger().setLevel(LOG_LEVELS[profile.log_level])
    if profile.demo:
        print("Development mode is enabled", file=sys.stderr)
        print(f"Database: {profile.dsn}", file=sys.stderr)

    # Imported only now: `memos version`, `--help` and bad flags stay fast and light.
    from memos.server import serve

    try:
        from memos.app import create_app

        app = create_app(profile)
    except Exception as error:
        log.error("failed to create server", extra={"error": error}, exc_info=profile.log_level == "debug")
        return EXIT_STARTUP_FAILED
    # Open live-event streams end on the signal itself, so they never hold the drain up.
    return serve(profile, app, on_shutdown_signal=app.state.live_hub.close)
