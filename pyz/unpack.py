"""memos.pyz's extraction: only the files the running machine can load (packed as `_memos_unpack.py`).

An archive built for several targets keeps the compiled wheels of each CPU under
`site-packages/_arch/<cpu>-linux-gnu/` (abi3, any Python) and `.../<cpu>-linux-gnu-cp3XX/` (one
Python). Files every Python version of a CPU shares are stored once, under
`.../<cpu>-linux-gnu-cpany/`, and unpacked into the running version's folder (a shared library
must sit where the extension module's RPATH looks for it). Nothing of another CPU or Python is
written: a second Python version started on the same extraction adds its own folders.

Runs on whatever python3 starts the archive, so it keeps to the standard library.
"""
from __future__ import annotations

import fcntl
import os
import platform
import shutil
import sys
import zipfile
from pathlib import Path

SITE = "site-packages/"
ARCH = SITE + "_arch/"
SHARED = "cpany"  # the per-CPU folder of files every Python version shares
CPU_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}


def running_machine() -> tuple[str, str]:
    """This machine's CPU, as the archive names it, and Python version ("3.11")."""
    cpu = platform.machine().lower()
    return CPU_ALIASES.get(cpu, cpu), "{}.{}".format(*sys.version_info[:2])


def arch_folders(cpu: str, python: str) -> tuple[str, str]:
    """The running machine's two folders under _arch/: any Python, this Python."""
    return cpu + "-linux-gnu", "{}-linux-gnu-cp{}".format(cpu, python.replace(".", ""))


def destination(member: str, cpu: str, python: str) -> str | None:
    """Where a member goes, relative to the extraction folder; None: not for this machine."""
    if not member.startswith(SITE) or member.endswith("/"):
        return None
    if not member.startswith(ARCH):
        return member
    folder, _, rest = member[len(ARCH):].partition("/")
    common, versioned = arch_folders(cpu, python)
    if folder in (common, versioned):
        return member
    if folder == cpu + "-linux-gnu-" + SHARED:
        return ARCH + versioned + "/" + rest
    return None


def _write(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as source, open(path, "wb") as target:
        shutil.copyfileobj(source, target, 1 << 20)  # streamed: a large library never sits in memory
    mode = info.external_attr >> 16
    if mode:
        os.chmod(path, mode & 0o7777)


def _unpack_into(archive: zipfile.ZipFile, staging: Path, members: list[tuple[zipfile.ZipInfo, str]]) -> None:
    if staging.exists():
        shutil.rmtree(staging)  # left by a start that was killed half-way
    staging.mkdir(parents=True)
    for info, relative in members:
        _write(archive, info, staging / relative)


def _lock(path: Path) -> int:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    return descriptor


def ensure_extracted(archive: zipfile.ZipFile, site_packages: Path, force: bool = False) -> None:
    """Unpack what this machine needs into site_packages (shiv's folder), completing an earlier extraction.

    Each step writes a staging folder and renames it, so a killed start leaves nothing half-written
    in place; the lock file is the one shiv itself would use.
    """
    cpu, python = running_machine()
    chosen = [(info, name) for info in archive.infolist() if (name := destination(info.filename, cpu, python))]
    extraction = site_packages.parent
    arch = [(info, name) for info, name in chosen if name.startswith(ARCH)]
    folders = sorted({name[len(ARCH):].split("/", 1)[0] for _, name in arch})
    if not force and site_packages.is_dir() and all((site_packages / "_arch" / f).is_dir() for f in folders):
        return
    extraction.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock(extraction.parent / (f".{extraction.name}_lock"))
    try:
        if force and extraction.exists():
            shutil.rmtree(extraction)
        if not site_packages.is_dir():
            staging = extraction.parent / (extraction.name + ".tmp")
            _unpack_into(archive, staging, [(info, name) for info, name in chosen if not name.startswith(ARCH)])
            if extraction.exists():  # a folder without site-packages: a killed shiv extraction
                shutil.rmtree(extraction)
            staging.rename(extraction)
        for folder in folders:
            final = site_packages / "_arch" / folder
            if final.is_dir():
                continue
            prefix = ARCH + folder + "/"
            staging = final.with_name(folder + ".tmp")
            _unpack_into(archive, staging, [(i, n[len(prefix):]) for i, n in arch if n.startswith(prefix)])
            staging.rename(final)
    finally:
        os.close(lock)

