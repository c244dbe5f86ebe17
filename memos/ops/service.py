"""`memos install-service` and `memos uninstall-service`: memos.pyz as a hardened systemd service.

install-service (as root) creates the system user if missing, copies the running memos.pyz to a
stable path (keeping the one it replaces as .previous, for a rollback), writes the unit, and runs
`systemctl daemon-reload` and `enable --now`. uninstall-service removes the unit and the binary and
keeps the data, the cache and the user. Both print every step and how to undo it.

--dry-run prints the steps and the unit and changes nothing; --root PREFIX writes the files under
PREFIX and only prints the commands (useradd, systemctl), for packaging and for tests.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

EXIT_FAILED = 1
EXIT_USAGE = 2
# Paths and names go into the unit unquoted: keep them to characters systemd reads literally.
SAFE_PATH = re.compile(r"/[A-Za-z0-9._/+-]*")
SAFE_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
ADDRESS = re.compile(r"[0-9A-Fa-f.:]*")


class ServiceError(Exception):
    """A step that cannot be done; one line for the user."""


@dataclasses.dataclass(frozen=True)
class Settings:
    name: str  # the unit is <name>.service; also the user, state and cache directory names
    user: str
    binary: Path  # where the pyz is installed
    python: str
    data: Path
    addr: str
    port: int
    instance_url: str
    trusted_proxies: str

    @property
    def cache(self) -> Path:
        return Path("/var/cache") / self.name

    @property
    def unit_path(self) -> Path:
        return Path("/etc/systemd/system") / f"{self.name}.service"

    @property
    def state_directory(self) -> str | None:
        """The data directory as systemd's StateDirectory= (None: elsewhere, made by the install)."""
        parent, name = self.data.parent, self.data.name
        return name if parent == Path("/var/lib") else None


@dataclasses.dataclass(frozen=True)
class Step:
    """One thing the command does: what it prints, and what it runs unless only printing."""

    says: str
    run: Callable[[], None]
    command: bool = False  # a system command: only printed under --root


def unit_text(settings: Settings) -> str:
    """The [Unit], [Service] and [Install] sections of the service."""
    command = [settings.python, str(settings.binary), "--data", str(settings.data), "--port", str(settings.port)]
    if settings.addr:
        command += ["--addr", settings.addr]
    if settings.instance_url:
        command += ["--instance-url", settings.instance_url.replace("%", "%%")]
    if settings.trusted_proxies:
        command += ["--trusted-proxies", settings.trusted_proxies]
    state = settings.state_directory
    lines = [
        "[Unit]",
        "Description=Memos, the self-hosted notes app (memos.pyz)",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"User={settings.user}",
        f"Group={settings.user}",
        f"ExecStart={' '.join(command)}",
        # memos.pyz unpacks its libraries here on first start and removes older builds' copies.
        f"Environment=SHIV_ROOT={settings.cache}",
        "Environment=PYTHONUNBUFFERED=1",
        f"CacheDirectory={settings.name}",
        "CacheDirectoryMode=0750",
        *([f"StateDirectory={state}", "StateDirectoryMode=0750"] if state else []),
        f"WorkingDirectory={settings.data}",
        "UMask=0027",
        "Restart=on-failure",
        "RestartSec=5",
        # Open requests get time to finish on stop (SIGTERM starts a graceful drain).
        "TimeoutStopSec=30",
        "LimitNOFILE=65536",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "SystemCallArchitectures=native",
        *_capabilities(settings.port),
        # The state and cache directories above are writable already; a data directory elsewhere is not.
        *([] if state else [f"ReadWritePaths={settings.data}"]),
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def _capabilities(port: int) -> list[str]:
    """None at all, unless the port is a privileged one (below 1024)."""
    if port >= 1024:
        return ["CapabilityBoundingSet="]
    return ["CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "AmbientCapabilities=CAP_NET_BIND_SERVICE"]


# --- arguments ---------------------------------------------------------------------------------------


# Not taken from the module docstring: memos.pyz runs under -OO, which drops docstrings.
DESCRIPTION = (
    "install-service (as root) creates the system user if missing, copies the running memos.pyz to a stable "
    "path (keeping the one it replaces as .previous, for a rollback), writes a hardened unit, and runs "
    "`systemctl daemon-reload` and `enable --now`. uninstall-service removes the unit and the binary and keeps "
    "the data, the cache and the user."
)


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"memos {command}", description=DESCRIPTION)
    parser.add_argument("--name", default="memos", help="unit, user and directory name (default: memos)")
    parser.add_argument("--binary", default="/opt/memos/memos.pyz", help="where memos.pyz is installed")
    parser.add_argument("--root", default="", help="write the files under this prefix; run no command")
    parser.add_argument("--dry-run", action="store_true", help="print every step and the unit; change nothing")
    if command == "install-service":
        parser.add_argument("--pyz", default="", help="the memos.pyz to install (default: the one running)")
        parser.add_argument("--python", default=sys.executable, help="the interpreter (default: this one)")
        parser.add_argument("--user", default="", help="the system user (default: the name; made if missing)")
        parser.add_argument("--data", default="", help="data directory (default: /var/lib/<name>)")
        parser.add_argument("--port", type=int, default=8081, help="TCP port (default: 8081)")
        parser.add_argument("--addr", default=None, help="bind address (default: all, or 127.0.0.1 behind a proxy)")
        parser.add_argument(
            "--behind-proxy", action="store_true",
            help="a reverse proxy on this machine forwards to memos: bind 127.0.0.1 and trust only loopback",
        )
        parser.add_argument("--instance-url", default="", help="the public URL, e.g. https://notes.example.com")
        parser.add_argument("--trusted-proxies", default="", help="passed to memos (default: memos's own)")
        parser.add_argument("--no-start", action="store_true", help="install and enable, but do not start")
    return parser


def _checked_path(text: str, what: str) -> Path:
    if not SAFE_PATH.fullmatch(text) or "/../" in f"{text}/" or text == "/":
        raise ServiceError(f"{what} must be an absolute path of letters, digits and ._+-: {text!r}")
    return Path(text)


def _checked_url(text: str) -> str:
    parts = urlsplit(text)
    if text and (parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s|\"|'|\\", text)):
        raise ServiceError(f"--instance-url must be an http(s) URL such as https://notes.example.com: {text!r}")
    return text.rstrip("/")


def _settings(options: argparse.Namespace) -> Settings:
    if not SAFE_NAME.fullmatch(options.name) or not SAFE_NAME.fullmatch(options.user or options.name):
        raise ServiceError("--name and --user must be lower-case system names (letters, digits, _ and -)")
    addr = options.addr if options.addr is not None else ("127.0.0.1" if options.behind_proxy else "")
    if not ADDRESS.fullmatch(addr):
        raise ServiceError(f"--addr must be an IP address: {addr!r}")
    if not 0 < options.port < 65536:
        raise ServiceError(f"--port must be 1-65535: {options.port}")
    proxies = options.trusted_proxies or ("127.0.0.0/8,::1" if options.behind_proxy else "")
    if not re.fullmatch(r"[0-9A-Fa-f.:/,]*|none", proxies):
        raise ServiceError(f"--trusted-proxies must be addresses or networks separated by commas: {proxies!r}")
    python = _checked_path(options.python, "--python")
    if python.parts[1:2] in (("root",), ("home",)):
        # ProtectHome=yes hides /root and /home from the service: it could not start its interpreter.
        raise ServiceError(
            f"the interpreter {python} lies in a home directory, which the hardened unit cannot reach; "
            "name a system one with --python (e.g. /usr/bin/python3)"
        )
    return Settings(
        name=options.name, user=options.user or options.name,
        binary=_checked_path(options.binary, "--binary"), python=str(python),
        data=_checked_path(options.data or f"/var/lib/{options.name}", "--data"),
        addr=addr, port=options.port, instance_url=_checked_url(options.instance_url), trusted_proxies=proxies,
    )


def _source_pyz(given: str) -> Path:
    source = Path(given or sys.argv[0]).resolve()
    if not source.is_file() or not zipfile.is_zipfile(source):
        raise ServiceError("this memos is not running from memos.pyz: name the file to install with --pyz")
    return source


# --- steps --------------------------------------------------------------------------------------------


def _under(root: str, path: Path) -> Path:
    return Path(root + str(path)) if root else path


def _system(*command: str) -> Callable[[], None]:
    def run() -> None:
        done = subprocess.run(list(command), capture_output=True, text=True)
        if done.returncode != 0:
            raise ServiceError(f"{' '.join(command)} failed: {(done.stderr or done.stdout).strip()}")

    return run


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    """Replace path in one rename: a running service never sees half a binary or half a unit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(data)
        os.chmod(staging, mode)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def _copy_binary(source: Path, target: Path) -> Callable[[], None]:
    def run() -> None:
        if target.is_file() and target.read_bytes() != source.read_bytes():
            shutil.copy2(target, target.with_name(target.name + ".previous"))
        _write_atomically(target, source.read_bytes(), 0o755)

    return run


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _make_data_directory(path: Path, user: str) -> Callable[[], None]:
    def run() -> None:
        path.mkdir(mode=0o750, parents=True, exist_ok=True)
        shutil.chown(path, user, user)

    return run


def install_steps(settings: Settings, source: Path, root: str, start: bool) -> list[Step]:
    steps: list[Step] = []
    if not _user_exists(settings.user):
        home = str(settings.data)
        steps.append(Step(
            f"create the system user {settings.user}",
            _system("useradd", "--system", "--user-group", "--home-dir", home, "--no-create-home",
                    "--shell", "/usr/sbin/nologin", settings.user),
            command=True,
        ))
    binary = _under(root, settings.binary)
    steps.append(Step(f"copy {source} to {settings.binary} (a different one there is kept as "
                      f"{settings.binary.name}.previous)", _copy_binary(source, binary)))
    if settings.state_directory is None:
        steps.append(Step(f"create {settings.data} owned by {settings.user}",
                          _make_data_directory(settings.data, settings.user), command=True))
    text = unit_text(settings).encode()
    unit = _under(root, settings.unit_path)
    steps.append(Step(f"write {settings.unit_path}", lambda: _write_atomically(unit, text, 0o644)))
    steps.append(Step("systemctl daemon-reload", _system("systemctl", "daemon-reload"), command=True))
    enable = ["systemctl", "enable", *(["--now"] if start else []), f"{settings.name}.service"]
    steps.append(Step(" ".join(enable), _system(*enable), command=True))
    return steps


def _remove(path: Path) -> Callable[[], None]:
    return lambda: path.unlink(missing_ok=True)


def uninstall_steps(name: str, binary: Path, root: str) -> list[Step]:
    unit = Path("/etc/systemd/system") / f"{name}.service"
    steps = [Step(f"systemctl disable --now {name}.service",
                  _system("systemctl", "disable", "--now", f"{name}.service"), command=True)]
    for path in (unit, binary, binary.with_name(binary.name + ".previous")):
        steps.append(Step(f"remove {path}", _remove(_under(root, path))))
    steps.append(Step("systemctl daemon-reload", _system("systemctl", "daemon-reload"), command=True))
    return steps


def perform(steps: Sequence[Step], *, dry_run: bool, root: str) -> None:
    for step in steps:
        if dry_run or (root and step.command):
            print(f"would {step.says}")
            continue
        step.run()
        print(f"done: {step.says}")


# --- commands -----------------------------------------------------------------------------------------


def _install(options: argparse.Namespace) -> None:
    settings = _settings(options)
    source = _source_pyz(options.pyz)
    steps = install_steps(settings, source, options.root, start=not options.no_start)
    if options.dry_run:
        print(f"# {settings.unit_path}\n{unit_text(settings)}")
    perform(steps, dry_run=options.dry_run, root=options.root)
    where = f"http://{settings.addr or 'this-host'}:{settings.port}/"
    print(
        f"\nmemos runs as {settings.user} from {settings.binary}, data in {settings.data}, libraries unpacked in "
        f"{settings.cache}; it answers on {where}{' behind your proxy' if options.behind_proxy else ''}.\n"
        f"Logs: journalctl -u {settings.name} -f    Status: systemctl status {settings.name}\n"
        f"Undo: {settings.binary} uninstall-service{_name_option(settings.name)} (keeps {settings.data}); "
        f"roll back to the binary this one replaced: cp {settings.binary}.previous {settings.binary} "
        f"&& systemctl restart {settings.name}"
    )


def _name_option(name: str) -> str:
    return "" if name == "memos" else f" --name {name}"


def _uninstall(options: argparse.Namespace) -> None:
    name = options.name
    if not SAFE_NAME.fullmatch(name):
        raise ServiceError("--name must be a lower-case system name (letters, digits, _ and -)")
    binary = _checked_path(options.binary, "--binary")
    perform(uninstall_steps(name, binary, options.root), dry_run=options.dry_run, root=options.root)
    print(
        f"\nKept: the data in /var/lib/{name} (or the --data directory you chose), the unpacked libraries in "
        f"/var/cache/{name} and the user {name}. Remove them for good with: "
        f"userdel {name}; rm -r /var/lib/{name} /var/cache/{name}"
    )


def main(args: Sequence[str]) -> int:
    """`memos install-service ...` or `memos uninstall-service ...` (args include the subcommand)."""
    command, *rest = args
    try:
        options = _parser(command).parse_args(rest)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    if not options.dry_run and not options.root and os.geteuid() != 0:
        print(f"memos {command}: run it as root (sudo), or look first with --dry-run", file=sys.stderr)
        return EXIT_FAILED
    try:
        (_install if command == "install-service" else _uninstall)(options)
    except (ServiceError, OSError) as error:
        print(f"memos {command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    return 0
