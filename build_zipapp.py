#!/usr/bin/env python3
"""Build dist/memos.pyz: the app and its runtime dependencies in one file, run by shiv.

    python build_zipapp.py                      # this machine's CPU and Python version
    python build_zipapp.py --target aarch64:3.11
    python build_zipapp.py --all                # x86_64 and aarch64, CPython 3.11-3.13

Wheels come from `pip download --only-binary=:all:` of exactly the versions and
hashes in locks/runtime.txt (refreshed by `python scripts/lock.py`), with its
environment markers evaluated for each target, so every target gets the same
versions; the `memos` package is copied from this checkout. The build's own tools
(shiv, from locks/build.txt) are installed by the build under build/, so a fresh
clone needs only Python 3.11+ with pip.
With one target the wheels are unpacked flat. With several, pure-Python wheels
go to the root, compiled wheels for every Python version (abi3) under
`_arch/<cpu>-linux-gnu/` and those built for one version under
`_arch/<cpu>-linux-gnu-cp3XX/` (apsw's differ beyond the file names); the
preamble puts the folders of the running CPU and Python on sys.path. The preamble also
refuses a Python the archive was not built for, and removes extractions of
older builds of the same archive from the shiv root (shiv never does). The
archive's __main__.py chooses where shiv unpacks when the home directory cannot
be used and SHIV_ROOT is not set.

Builds are reproducible: the same wheels and sources give the same bytes.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_OUTPUT = ROOT / "dist" / "memos.pyz"
RUNTIME_LOCK = ROOT / "locks" / "runtime.txt"
BUILD_LOCK = ROOT / "locks" / "build.txt"
TOOLS_HOME = ROOT / "build"
ENTRY_POINT = "memos.cli:main"
SHEBANG = "/usr/bin/env python3"
ALL_CPUS = ("x86_64", "aarch64")
ALL_PYTHONS = ("3.11", "3.12", "3.13")
MIN_PYTHON = (3, 11)
_CPU_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}


class BuildError(Exception):
    pass


@dataclass(frozen=True)
class Target:
    cpu: str  # x86_64 or aarch64
    python: str  # "3.11"
    native: bool = False  # this machine: let pip use its own tags (works off Linux too)

    @property
    def label(self) -> str:
        return f"{self.cpu}:{self.python}"

    def pip_options(self) -> list[str]:
        if self.native:
            return []
        return [
            "--implementation", "cp",
            "--python-version", self.python,
            # manylinux_2_28 also admits every older manylinux tag; apsw needs glibc 2.28.
            "--platform", f"manylinux_2_28_{self.cpu}",
            "--platform", f"manylinux2014_{self.cpu}",
        ]

    def marker_environment(self) -> dict[str, str] | None:
        """What the lock's environment markers see on this target (None: this machine's own)."""
        if self.native:
            return None
        return {
            "python_version": self.python,
            "python_full_version": f"{self.python}.0",
            "implementation_version": f"{self.python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "platform_machine": self.cpu,
            "platform_system": "Linux",
            "sys_platform": "linux",
            "os_name": "posix",
        }


def normalise_cpu(name: str) -> str:
    cpu = name.lower()
    return _CPU_ALIASES.get(cpu, cpu)


def native_target() -> Target:
    return Target(normalise_cpu(platform.machine()), f"{sys.version_info[0]}.{sys.version_info[1]}", native=True)


def parse_target(text: str) -> Target:
    cpu, sep, python = text.partition(":")
    cpu = normalise_cpu(cpu)
    if not sep or cpu not in ALL_CPUS or not re.fullmatch(r"3\.\d+", python):
        raise argparse.ArgumentTypeError(f"target must be CPU:PYTHON with CPU in {ALL_CPUS}, e.g. aarch64:3.11")
    if tuple(int(p) for p in python.split(".")) < MIN_PYTHON:
        raise argparse.ArgumentTypeError(f"memos needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer")
    return Target(cpu, python)


# --- the lock ------------------------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """One package of a lock file (as scripts/lock.py writes them)."""

    name: str
    version: str
    marker: str = ""  # an environment marker; empty: everywhere
    hashes: tuple[str, ...] = ()
    via: tuple[str, ...] = ()  # what requires it, as annotated by the resolver

    def requirement(self) -> str:
        """One line of a requirements file: exactly this version, one of these files."""
        return " ".join([f"{self.name}=={self.version}", *(f"--hash={h}" for h in self.hashes)])


@dataclass
class _PinText:
    requirement: str
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)

    def pin(self) -> Pin:
        spec, _, marker = self.requirement.partition(";")
        name, equals, version = spec.strip().partition("==")
        if not equals or not version:
            raise BuildError(f"lock entry {self.requirement!r} is not pinned to one version with ==")
        return Pin(name.lower(), version, marker.strip(), tuple(self.hashes), tuple(self.via))


def read_lock(path: Path) -> list[Pin]:
    entries: list[_PinText] = []
    for line in path.read_text().splitlines():
        text = line.strip()
        if line and not line[0].isspace() and not text.startswith("#"):
            entries.append(_PinText(text.removesuffix("\\").strip()))
        elif not entries or not text:
            continue
        elif text.startswith("--hash="):
            entries[-1].hashes.append(text.removeprefix("--hash=").removesuffix("\\").strip())
        elif text.startswith("# via"):
            entries[-1].via.extend(filter(None, [text.removeprefix("# via").strip()]))
        elif text.startswith("#   "):
            entries[-1].via.append(text.removeprefix("#").strip())
    return [entry.pin() for entry in entries]


def pins_for(target: Target, pins: list[Pin]) -> list[Pin]:
    """The pins whose environment marker holds on the target."""
    from packaging.markers import Marker  # from the build tools (locks/build.txt)

    environment = target.marker_environment()
    return [pin for pin in pins if not pin.marker or Marker(pin.marker).evaluate(environment)]


# --- the build's own tools -----------------------------------------------------------


def build_tools() -> Path:
    """A folder holding locks/build.txt's packages (shiv, pip, packaging), installed on first use.

    Named by the lock's hash: a refreshed lock gets a fresh folder. Installed beside and then
    renamed, so concurrent builds never see a half-installed one. The folder also goes on this
    process's sys.path, for pins_for's import of packaging.
    """
    digest = hashlib.sha256(BUILD_LOCK.read_bytes()).hexdigest()[:16]
    tools = TOOLS_HOME / f"tools-{digest}"
    if not tools.is_dir():
        TOOLS_HOME.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f"{tools.name}.", dir=TOOLS_HOME))
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
            "--require-hashes", "--only-binary=:all:", "--target", str(staging), "-r", str(BUILD_LOCK),
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise BuildError(
                f"could not install the build tools of {BUILD_LOCK.relative_to(ROOT)} "
                f"(this needs pip: python3 -m ensurepip, or the python3-pip package):\n{done.stderr.strip()}"
            )
        try:
            staging.rename(tools)
        except OSError:  # another build got there first
            shutil.rmtree(staging, ignore_errors=True)
    if str(tools) not in sys.path:
        sys.path.insert(0, str(tools))
    return tools


def tools_environment(tools: Path) -> dict[str, str]:
    """The environment that runs the build tools' pip and shiv with this interpreter."""
    return {**os.environ, "PYTHONPATH": str(tools), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


# --- wheels ------------------------------------------------------------------


@dataclass(frozen=True)
class Wheel:
    path: Path

    @property
    def parts(self) -> list[str]:
        return self.path.name[: -len(".whl")].split("-")

    @property
    def project(self) -> str:
        return self.parts[0].lower().replace("_", "-")

    @property
    def version(self) -> str:
        return self.parts[1]

    @property
    def pure(self) -> bool:
        return self.parts[-1] == "any"

    @property
    def abi(self) -> str:
        return self.parts[-2]


def download(target: Target, pins: list[Pin], into: Path, tools: Path) -> list[Wheel]:
    """Exactly the pinned wheels for the target, checked against the lock's hashes."""
    into.mkdir(parents=True, exist_ok=True)
    requirements = into.with_suffix(".txt")
    requirements.write_text("".join(f"{pin.requirement()}\n" for pin in pins))
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
        "--only-binary=:all:", "--dest", str(into), *target.pip_options(), "-r", str(requirements),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=tools_environment(tools))
    if done.returncode != 0:
        raise BuildError(f"pip could not get wheels for {target.label}:\n{done.stderr.strip()}")
    return sorted((Wheel(p) for p in into.glob("*.whl")), key=lambda w: w.path.name)


def check_versions(wheels_by_target: dict[Target, list[Wheel]]) -> None:
    """Refuse targets that resolved one project to different versions."""
    seen: dict[str, tuple[str, Target]] = {}
    for target, wheels in wheels_by_target.items():
        for wheel in wheels:
            earlier = seen.setdefault(wheel.project, (wheel.version, target))
            if earlier[0] != wheel.version:
                raise BuildError(
                    f"{wheel.project} is {earlier[0]} for {earlier[1].label} but {wheel.version} for {target.label}; "
                    "refresh the lock: python scripts/lock.py"
                )


def _installed_name(member: str) -> str | None:
    """Where a wheel member goes inside site-packages (None: not installed by us)."""
    first, _, rest = member.partition("/")
    if first.endswith(".data"):
        kind, _, inner = rest.partition("/")
        return inner if kind in ("purelib", "platlib") and inner else None
    return member


def unpack(wheel: Wheel, dest: Path) -> None:
    """Unpack into dest; an existing file must be identical (dist-info excepted: first wins)."""
    with zipfile.ZipFile(wheel.path) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            name = None if info.is_dir() else _installed_name(info.filename)
            if name is None:
                continue
            data = archive.read(info)
            target = dest / name
            if target.exists():
                if target.read_bytes() != data and ".dist-info/" not in name:
                    raise BuildError(f"{name} from {wheel.path.name} clashes with a different file of another wheel")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def copy_project(site: Path) -> None:
    shutil.copytree(
        ROOT / "memos", site / "memos", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    )


# --- preamble ------------------------------------------------------------------

PREAMBLE = '''\
# memos.pyz preamble: run by shiv after extraction, before memos.cli:main.
import os, platform, shutil, sys
from pathlib import Path

sys.dont_write_bytecode = False  # the extraction is ours; keep its bytecode cache

TARGETS = {targets!r}
MULTI_ARCH = {multi_arch!r}
CPU_ALIASES = {aliases!r}

cpu = platform.machine().lower()
cpu = CPU_ALIASES.get(cpu, cpu)
python = "%d.%d" % sys.version_info[:2]
if sys.version_info < (3, 11) or (cpu, python) not in TARGETS:
    built = ", ".join("%s with CPython %s" % t for t in sorted(TARGETS))
    sys.stderr.write(
        "memos: this memos.pyz was built for %s; this is %s with Python %s. "
        "Build one for this machine with build_zipapp.py.\\n" % (built, cpu, platform.python_version())
    )
    sys.exit(1)

if MULTI_ARCH:
    position = sys.path.index(str(site_packages)) if str(site_packages) in sys.path else 0
    arch = site_packages / "_arch"
    version_tag = "cp%d%d" % sys.version_info[:2]
    sys.path[position:position] = [
        str(arch / ("%s-linux-gnu-%s" % (cpu, version_tag))),
        str(arch / (cpu + "-linux-gnu")),
    ]

# Every build unpacks into <root>/<name>_<build id>; remove the older ones.
current = site_packages.parent
prefix = current.name[: current.name.rfind("_") + 1]
for sibling in current.parent.iterdir():
    name = sibling.name
    if sibling == current or name.endswith(".tmp"):
        continue
    if name.startswith(prefix) and sibling.is_dir():
        shutil.rmtree(sibling, ignore_errors=True)
    elif name.startswith("." + prefix) and name.endswith("_lock") and name != "." + current.name + "_lock":
        try:
            os.remove(sibling)
        except OSError:
            pass
'''


# shiv's own __main__.py only calls its bootstrap, which unpacks into $SHIV_ROOT or ~/.shiv and fails
# without a usable home directory; ours first chooses a private cache directory for that case.
LAUNCHER = '''\
# memos.pyz: where to unpack, then shiv's bootstrap (which runs memos).
import os, stat, sys, tempfile

# A long-running server has no use for docstrings and asserts: running under -OO keeps
# about 1.5 MiB less resident. Re-executing once is cheaper than shipping a second interpreter flag
# in the shebang (env -S is not everywhere).
if sys.flags.optimize < 2 and sys.executable and not os.environ.get("MEMOS_PYZ_KEEP_DOCSTRINGS"):
    os.execv(sys.executable, [sys.executable, "-OO", *sys.orig_argv[1:]])


def usable_home():
    home = os.path.expanduser("~")
    shiv = os.path.join(home, ".shiv")
    if os.path.isdir(shiv):
        return os.access(shiv, os.W_OK | os.X_OK)
    return home != "~" and os.path.isdir(home) and os.access(home, os.W_OK | os.X_OK)


def private_directory(base):
    """base/memos-pyz-<uid>, made if missing; None unless it is ours alone (a shared temp dir may hold a trap)."""
    path = os.path.join(base, "memos-pyz-%d" % os.geteuid())
    try:
        os.mkdir(path, 0o700)  # the umask may only narrow this
    except FileExistsError:
        pass
    except OSError:
        return None
    info = os.lstat(path)
    mine = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022
    return path if mine and os.access(path, os.W_OK | os.X_OK) else None


if not os.environ.get("SHIV_ROOT") and not usable_home():
    try:
        temp = tempfile.gettempdir()  # $TMPDIR, else /tmp, /var/tmp...
    except OSError:
        temp = "no temporary directory"
    root = private_directory(temp) if os.path.isabs(temp) else None
    if root is None:
        sys.stderr.write(
            "memos: nowhere to unpack memos.pyz: the home directory %s is missing or not writable and %s "
            "holds no folder private to this user; set SHIV_ROOT to a writable directory "
            "(e.g. SHIV_ROOT=/var/cache/memos)\\n" % (os.path.expanduser("~"), temp)
        )
        sys.exit(1)
    os.environ["SHIV_ROOT"] = root

import _bootstrap  # noqa: E402  (shiv's, at the root of the archive)

_bootstrap.bootstrap()
'''


def replace_main(archive_path: Path) -> None:
    """Swap shiv's __main__.py for LAUNCHER, keeping every other member, its order and its date."""
    rewritten = archive_path.with_name(archive_path.name + ".tmp")
    with archive_path.open("rb") as source:
        shebang = source.readline()
        with zipfile.ZipFile(source) as old, rewritten.open("wb") as target:
            target.write(shebang)
            with zipfile.ZipFile(target, "w") as new:
                for info in old.infolist():
                    data = LAUNCHER.encode() if info.filename == "__main__.py" else old.read(info)
                    new.writestr(info, data)
    rewritten.chmod(archive_path.stat().st_mode)
    rewritten.replace(archive_path)


def write_preamble(path: Path, targets: list[Target]) -> None:
    path.write_text(
        PREAMBLE.format(
            targets=sorted({(t.cpu, t.python) for t in targets}),
            multi_arch=len(targets) > 1,
            aliases=_CPU_ALIASES,
        )
    )


# --- build ---------------------------------------------------------------------


def arch_folder(wheel: Wheel, target: Target) -> str:
    """Where a wheel goes in a multi-target archive ('' for the root)."""
    if wheel.pure:
        return ""
    if wheel.abi.startswith("cp3"):
        return f"_arch/{target.cpu}-linux-gnu-{wheel.abi}"
    return f"_arch/{target.cpu}-linux-gnu"


def stage(targets: list[Target], work: Path, tools: Path) -> Path:
    """Fill work/site with everything the archive contains; returns that folder."""
    pins = read_lock(RUNTIME_LOCK)
    wheels = {t: download(t, pins_for(t, pins), work / "wheels" / f"{t.cpu}-{t.python}", tools) for t in targets}
    check_versions(wheels)
    site = work / "site"
    site.mkdir()
    multi_arch = len(targets) > 1
    for target, target_wheels in wheels.items():
        for wheel in target_wheels:
            unpack(wheel, site / arch_folder(wheel, target) if multi_arch else site)
    copy_project(site)
    return site


def build(output: Path, targets: list[Target]) -> Path:
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="memos-build-") as tmp:
        work = Path(tmp)
        tools = build_tools()
        site = stage(targets, work, tools)
        preamble = work / "memos_preamble.py"
        write_preamble(preamble, targets)
        command = [
            sys.executable, "-m", "shiv",
            "--site-packages", str(site),
            "--entry-point", ENTRY_POINT,
            "--output-file", str(output),
            "--python", SHEBANG,
            "--preamble", str(preamble),
            "--reproducible",
        ]
        done = subprocess.run(command, capture_output=True, text=True, env=tools_environment(tools))
        if done.returncode != 0:
            raise BuildError(f"shiv failed:\n{done.stdout}{done.stderr}".strip())
    replace_main(output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build memos.pyz with shiv.")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="default: dist/memos.pyz")
    parser.add_argument(
        "--target", dest="targets", action="append", type=parse_target, metavar="CPU:PYTHON",
        help="Linux CPU (x86_64, aarch64) and CPython version to include; repeatable; default: this machine",
    )
    parser.add_argument("--all", action="store_true", help=f"every CPU of {ALL_CPUS} x CPython {ALL_PYTHONS}")
    args = parser.parse_args(argv)
    if args.all:
        targets = [Target(cpu, python) for cpu in ALL_CPUS for python in ALL_PYTHONS]
    else:
        targets = list(dict.fromkeys(args.targets or [native_target()]))
    try:
        output = build(args.output, targets)
    except BuildError as error:
        print(f"build_zipapp: {error}", file=sys.stderr)
        return 1
    size = output.stat().st_size / (1 << 20)
    print(f"built {output} ({size:.1f} MiB) for {', '.join(t.label for t in targets)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
