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
`_arch/<cpu>-linux-gnu-cp3XX/` (apsw's differ beyond the file names); files all
versions of a CPU share are stored once under `_arch/<cpu>-linux-gnu-cpany/`. The
archive's start-up (pyz/launcher.py as __main__.py, pyz/unpack.py as
_memos_unpack.py) refuses a machine the archive was not built for and unpacks only
the running CPU's and Python's files; the preamble puts their folders on sys.path
and removes extractions of older builds of the same archive (shiv never does).
Payload memos never loads (LEFT_OUT, and bundled libraries no kept module needs)
is left out of every build.

Builds are reproducible: the same wheels and sources give the same bytes.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import struct
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


# Payload of dependencies memos never loads, left out of every build (paths inside site-packages).
LEFT_OUT = (
    # apsw's SQLite shell, tools and loadable extensions (12 MiB per Python on arm64): memos loads none.
    re.compile(r"apsw/sqlite_extra_binaries/"),
    # apsw's Unicode tables, for its shell and FTS5 helpers: memos uses neither (1.1 MiB on arm64).
    re.compile(r"apsw/_unicode\."),
    # Test suites that dependencies ship inside their packages.
    re.compile(r"[^/]+/tests?/"),
    # Type stubs: read by type checkers, never at run time.
    re.compile(r".*\.pyi$"),
    # Pillow's optional modules memos never imports: AVIF, FreeType fonts, colour management, Tk,
    # ImageMath and ImageMorph (thumbnails only open JPEG, PNG and WebP). The libraries only these
    # need go too (unneeded_libraries).
    re.compile(r"PIL/_(avif|imagingft|imagingcms|imagingtk|imagingmath|imagingmorph)\."),
)


def left_out(name: str) -> bool:
    return any(rule.match(name) for rule in LEFT_OUT)


def elf_needed(data: bytes) -> list[str]:
    """The DT_NEEDED entries of a 64-bit little-endian ELF file (x86-64 and arm64); [] for anything else."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    section_offset, = struct.unpack_from("<Q", data, 0x28)
    entry_size, count = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, section_offset + i * entry_size) for i in range(count)]
    needed: list[str] = []
    for _name, kind, _flags, _addr, offset, size, link, *_rest in sections:
        if kind != 6:  # SHT_DYNAMIC
            continue
        strings_offset = sections[link][4]
        for position in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, position)
            if tag == 1:  # DT_NEEDED
                end = data.index(b"\0", strings_offset + value)
                needed.append(data[strings_offset + value : end].decode())
    return needed


def unneeded_libraries(files: dict[str, bytes]) -> set[str]:
    """Libraries bundled by auditwheel (`<project>.libs/`) that no kept extension module loads, even indirectly."""
    bundled = {name.rsplit("/", 1)[-1]: name for name in files if name.split("/", 1)[0].endswith(".libs")}
    wanted: set[str] = set()
    pending = [name for name in files if name not in bundled.values()]
    while pending:
        for library in elf_needed(files[pending.pop()]):
            if library in bundled and library not in wanted:
                wanted.add(library)
                pending.append(bundled[library])
    return {path for library, path in bundled.items() if library not in wanted}


def wheel_files(wheel: Wheel) -> dict[str, bytes]:
    """What a wheel installs into site-packages, less what memos never loads."""
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel.path) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            name = None if info.is_dir() else _installed_name(info.filename)
            if name is not None and not left_out(name):
                files[name] = archive.read(info)
    for name in unneeded_libraries(files):
        del files[name]
    return files


def unpack(wheel: Wheel, dest: Path) -> None:
    """Unpack into dest; an existing file must be identical (dist-info excepted: first wins)."""
    for name, data in wheel_files(wheel).items():
        target = dest / name
        if target.exists():
            if target.read_bytes() != data and ".dist-info/" not in name:
                raise BuildError(f"{name} from {wheel.path.name} clashes with a different file of another wheel")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def copy_project(site: Path) -> None:
    shutil.copytree(
        ROOT / "memos", site / "memos", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "*.pyi")
    )


# --- preamble ------------------------------------------------------------------

PREAMBLE = '''\
# memos.pyz preamble: run by shiv after extraction, before memos.cli:main. The launcher
# (pyz/launcher.py) has already refused a machine the archive was not built for.
import os, platform, shutil, sys

sys.dont_write_bytecode = False  # the extraction is ours; keep its bytecode cache

MULTI_ARCH = {multi_arch!r}
CPU_ALIASES = {aliases!r}

if MULTI_ARCH:
    cpu = platform.machine().lower()
    cpu = CPU_ALIASES.get(cpu, cpu)
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


# The archive's start-up (pyz/): __main__.py checks the machine, chooses where to unpack and unpacks only
# what this CPU and Python load, with _memos_unpack.py; memos_targets.json names what the build holds.
START_UP = ROOT / "pyz"
TARGETS_MEMBER = "memos_targets.json"


def replace_main(archive_path: Path, targets: list[Target]) -> None:
    """Swap shiv's __main__.py for ours and add the start-up members, keeping every other member, its order
    and its date."""
    added = {
        "_memos_unpack.py": (START_UP / "unpack.py").read_bytes(),
        TARGETS_MEMBER: json.dumps(sorted({(t.cpu, t.python) for t in targets})).encode(),
    }
    rewritten = archive_path.with_name(archive_path.name + ".tmp")
    with archive_path.open("rb") as source:
        shebang = source.readline()
        with zipfile.ZipFile(source) as old, rewritten.open("wb") as target:
            target.write(shebang)
            with zipfile.ZipFile(target, "w") as new:
                for info in old.infolist():
                    if info.filename == "__main__.py":
                        new.writestr(info, (START_UP / "launcher.py").read_bytes())
                        for name, data in added.items():
                            member = zipfile.ZipInfo(name, date_time=info.date_time)
                            member.compress_type, member.external_attr = info.compress_type, info.external_attr
                            new.writestr(member, data)
                    else:
                        new.writestr(info, old.read(info))
    rewritten.chmod(archive_path.stat().st_mode)
    rewritten.replace(archive_path)


def write_preamble(path: Path, targets: list[Target]) -> None:
    path.write_text(
        PREAMBLE.format(
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
    if multi_arch:
        share_across_versions(site / "_arch")
    copy_project(site)
    return site


def share_across_versions(arch: Path) -> None:
    """Store once, in <cpu>-linux-gnu-cpany/, each file that every Python version of a CPU has alike.

    Pillow's bundled libraries and most of apsw are the same for every Python; the start-up
    (pyz/unpack.py) writes them back into the running version's folder.
    """
    by_cpu: dict[str, list[Path]] = {}
    for folder in sorted(arch.glob("*-linux-gnu-cp3*")):
        by_cpu.setdefault(folder.name.split("-linux-gnu-")[0], []).append(folder)
    for cpu, folders in by_cpu.items():
        if len(folders) < 2:
            continue
        shared = arch / f"{cpu}-linux-gnu-cpany"
        first, *others = folders
        for path in sorted(p for p in first.rglob("*") if p.is_file()):
            relative = path.relative_to(first)
            copies = [other / relative for other in others]
            if all(c.is_file() and c.read_bytes() == path.read_bytes() for c in copies):
                (shared / relative).parent.mkdir(parents=True, exist_ok=True)
                path.rename(shared / relative)
                for copy in copies:
                    copy.unlink()


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
    replace_main(output, targets)
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
