#!/usr/bin/env python3
"""Refresh the lock files in locks/ from pyproject.toml: python scripts/lock.py [--upgrade]

    locks/test.txt     the run-time and test dependencies: what .ci/run and the README's test command install
    locks/runtime.txt  the run-time dependencies alone, at the same versions: what memos.pyz is built from
    locks/build.txt    what build_zipapp.py builds with (shiv), installed by the build itself

Every package is pinned to one version with the hashes of all its files, resolved once for
every platform and CPython 3.11 or newer (a universal resolution), so the x86-64 and arm64
targets of build_zipapp.py get the same versions. Pins already in the files are kept unless
pyproject.toml no longer allows them; --upgrade takes the newest versions allowed.

The resolver is uv (fast, maintained, resolves for every platform at once, unlike pip-compile,
which resolves for the machine it runs on). This script fetches the pinned uv into build/ by
itself, with the pip of the Python that runs it, so a fresh clone needs nothing else.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "locks"
UV_VERSION = "0.13.9"
UV_HOME = ROOT / "build" / f"uv-{UV_VERSION}"
COMMAND = "python scripts/lock.py"
COMMON = [
    "--universal", "--python-version", "3.11", "--generate-hashes", "--quiet", "--custom-compile-command", COMMAND,
]


class LockError(Exception):
    pass


def uv_executable() -> Path:
    """The pinned uv, installed under build/ on first use."""
    executable = UV_HOME / "bin" / "uv"
    if executable.is_file():
        return executable
    staging = UV_HOME.with_name(f"{UV_HOME.name}.tmp-{os.getpid()}")
    run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(staging), f"uv=={UV_VERSION}"], what=f"installing uv {UV_VERSION}")
    try:
        staging.rename(UV_HOME)
    except OSError:  # another run installed it first
        shutil.rmtree(staging, ignore_errors=True)
    if not executable.is_file():
        raise LockError(f"uv {UV_VERSION} was installed but {executable.relative_to(ROOT)} is missing")
    return executable


def run(command: list[str], what: str, stdin: str | None = None) -> None:
    done = subprocess.run(command, cwd=ROOT, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise LockError(f"{what} failed:\n{(done.stderr or done.stdout).strip()}")


def build_requirements() -> str:
    with (ROOT / "pyproject.toml").open("rb") as file:
        extras = tomllib.load(file)["project"]["optional-dependencies"]
    return "".join(f"{line}\n" for line in extras["build"])


def compile_locks(uv: Path, upgrade: bool) -> None:
    LOCKS.mkdir(exist_ok=True)
    common = [*COMMON, "--upgrade"] if upgrade else COMMON
    compile_ = [str(uv), "pip", "compile"]
    # The test lock is resolved first: the run-time lock takes its versions, so the tests run what memos.pyz ships.
    run([*compile_, "pyproject.toml", "--extra", "test", *common, "-o", "locks/test.txt"], what="locks/test.txt")
    run([*compile_, "pyproject.toml", *common, "-c", "locks/test.txt", "-o", "locks/runtime.txt"],
        what="locks/runtime.txt")
    # The build tools alone (the build extra without the run-time dependencies it would bring in as an extra).
    run([*compile_, "-", *common, "-o", "locks/build.txt"], what="locks/build.txt", stdin=build_requirements())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Refresh locks/*.txt from pyproject.toml.")
    parser.add_argument("--upgrade", action="store_true", help="take the newest allowed versions, not the pinned ones")
    args = parser.parse_args(argv)
    try:
        compile_locks(uv_executable(), args.upgrade)
    except LockError as error:
        print(f"lock: {error}", file=sys.stderr)
        return 1
    print("locks/test.txt, locks/runtime.txt and locks/build.txt are up to date with pyproject.toml")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
