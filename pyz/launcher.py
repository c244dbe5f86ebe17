"""memos.pyz's __main__.py: refuse a machine it was not built for, choose where to unpack, unpack, run.

shiv's own __main__ only calls its bootstrap, which unpacks every file of the archive into
$SHIV_ROOT or ~/.shiv and fails without a usable home directory. This one checks the machine
first (nothing is unpacked on one that cannot run it), unpacks only what this CPU and Python load
(_memos_unpack), then hands over to shiv's bootstrap, which finds the extraction in place.
"""
from __future__ import annotations  # the refusal below must still run on old Pythons

import json
import os
import platform
import stat
import sys
import tempfile
import zipfile

TARGETS_MEMBER = "memos_targets.json"
CPU_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}


def refuse_other_machines(archive_path: str) -> None:
    with zipfile.ZipFile(archive_path) as archive:
        targets = [tuple(t) for t in json.loads(archive.read(TARGETS_MEMBER))]
    cpu = platform.machine().lower()
    cpu = CPU_ALIASES.get(cpu, cpu)
    python = "{}.{}".format(*sys.version_info[:2])
    if sys.version_info < (3, 11) or (cpu, python) not in targets:
        built = ", ".join("{} with CPython {}".format(*t) for t in sorted(targets))
        sys.stderr.write(
            f"memos: this memos.pyz was built for {built}; this is {cpu} with Python {platform.python_version()}. "
            "Download the build for this machine (see the README) or make one with build_zipapp.py.\n"
        )
        sys.exit(1)


def run_without_docstrings() -> None:
    """Re-execute once under -OO: a long-running server keeps about 1.5 MiB less of docstrings resident.

    Cheaper than a second interpreter flag in the shebang (env -S is not everywhere).
    """
    if sys.flags.optimize < 2 and sys.executable and not os.environ.get("MEMOS_PYZ_KEEP_DOCSTRINGS"):
        os.execv(sys.executable, [sys.executable, "-OO", *sys.orig_argv[1:]])


def usable_home() -> bool:
    home = os.path.expanduser("~")
    shiv = os.path.join(home, ".shiv")
    if os.path.isdir(shiv):
        return os.access(shiv, os.W_OK | os.X_OK)
    return home != "~" and os.path.isdir(home) and os.access(home, os.W_OK | os.X_OK)


def private_directory(base: str) -> str | None:
    """base/memos-pyz-<uid>, made if missing; None unless it is ours alone (a shared temp dir may hold a trap)."""
    path = os.path.join(base, f"memos-pyz-{os.geteuid()}")
    try:
        os.mkdir(path, 0o700)  # the umask may only narrow this
    except FileExistsError:
        pass
    except OSError:
        return None
    info = os.lstat(path)
    mine = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022
    return path if mine and os.access(path, os.W_OK | os.X_OK) else None


def choose_shiv_root() -> None:
    if os.environ.get("SHIV_ROOT") or usable_home():
        return
    try:
        temp = tempfile.gettempdir()  # $TMPDIR, else /tmp, /var/tmp...
    except OSError:
        temp = "no temporary directory"
    root = private_directory(temp) if os.path.isabs(temp) else None
    if root is None:
        sys.stderr.write(
            "memos: nowhere to unpack memos.pyz: the home directory {} is missing or not writable and {} "
            "holds no folder private to this user; set SHIV_ROOT to a writable directory "
            "(e.g. SHIV_ROOT=/var/cache/memos)\n".format(os.path.expanduser("~"), temp)
        )
        sys.exit(1)
    os.environ["SHIV_ROOT"] = root


def unpack_and_run() -> None:
    import _bootstrap  # type: ignore[import-not-found]  # shiv's, at the root of the archive
    import _memos_unpack  # type: ignore[import-not-found]  # pyz/unpack.py
    from _bootstrap.environment import Environment  # type: ignore[import-not-found]

    with _bootstrap.current_zipfile() as archive:
        env = Environment.from_json(archive.read("environment.json").decode())
        site_packages = _bootstrap.cache_path(archive, env.root, env.build_id) / "site-packages"
        _memos_unpack.ensure_extracted(archive, site_packages, force=bool(env.force_extract))
    # The extraction is complete; shiv's bootstrap must not unpack every target again (SHIV_FORCE_EXTRACT).
    _bootstrap.extract_site_packages = lambda *args, **kwargs: None
    _bootstrap.bootstrap()


if __name__ == "__main__":
    refuse_other_machines(sys.argv[0])
    run_without_docstrings()
    choose_shiv_root()
    unpack_and_run()
