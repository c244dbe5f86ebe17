#!/usr/bin/env python3
"""Build dist/memos.pyz: the app and its runtime dependencies in one file, run by shiv.

    python build_zipapp.py                      # this machine's CPU and Python version
    python build_zipapp.py --target aarch64:3.11
    python build_zipapp.py --all                # x86_64 and aarch64, CPython 3.11-3.13

Wheels come from `pip download --only-binary=:all:` (the runtime dependencies
listed in pyproject.toml); the `memos` package is copied from this checkout.
With one target the wheels are unpacked flat. With several, pure-Python wheels
go to the root, compiled wheels for every Python version (abi3) under
`_arch/<cpu>-linux-gnu/` and those built for one version under
`_arch/<cpu>-linux-gnu-cp3XX/` (apsw's differ beyond the file names); the
preamble puts the folders of the running CPU and Python on sys.path. The preamble also
refuses a Python the archive was not built for, and removes extractions of
older builds of the same archive from the shiv root (shiv never does).

Builds are reproducible: the same wheels and sources give the same bytes.
"""
from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_OUTPUT = ROOT / "dist" / "memos.pyz"
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


def runtime_dependencies(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    with pyproject.open("rb") as file:
        return list(tomllib.load(file)["project"]["dependencies"])


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


def download(target: Target, requirements: list[str], into: Path) -> list[Wheel]:
    into.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--dest", str(into), *target.pip_options(), *requirements,
    ]
    done = subprocess.run(command, capture_output=True, text=True)
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
                    "pin it in pyproject.toml"
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


def stage(targets: list[Target], work: Path) -> Path:
    """Fill work/site with everything the archive contains; returns that folder."""
    requirements = runtime_dependencies()
    wheels = {t: download(t, requirements, work / "wheels" / f"{t.cpu}-{t.python}") for t in targets}
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
        site = stage(targets, work)
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
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"shiv failed:\n{done.stdout}{done.stderr}".strip())
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
