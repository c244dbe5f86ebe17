"""The checkout stands on its own: no path of one machine in it, and its tests cannot vanish under CI."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from support import ROOT


def _tracked_files() -> list[pathlib.Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def _machine_paths() -> set[str]:
    """Absolute paths of this machine that a tracked file must not name.

    Built at run time, so this file does not hold them itself.
    """
    paths = {"/" + "work" + "/", str(ROOT) + "/", str(ROOT.parent / "shared")}
    home = pathlib.Path.home()
    if len(home.parts) > 1:
        paths.add(str(home) + "/")
    return paths


def test_no_tracked_file_names_a_path_of_this_machine() -> None:
    patterns = {path.encode() for path in _machine_paths()}
    found = [
        f"{path.relative_to(ROOT)} names {pattern.decode()}"
        for path in _tracked_files()
        for pattern in patterns
        if pattern in path.read_bytes()
    ]
    assert found == []


def test_a_missing_contract_fails_the_run_under_ci(tmp_path: pathlib.Path) -> None:
    env = {**os.environ, "CI": "true", "MEMOS_CONTRACT_DIR": str(tmp_path / "absent")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", "tests/test_layering.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    assert "CI is set and the contract directory" in done.stderr + done.stdout
    assert "MEMOS_CONTRACT_DIR" in done.stderr + done.stdout


def test_the_contract_directory_can_be_named_by_the_environment(tmp_path: pathlib.Path) -> None:
    env = {**os.environ, "CI": "true", "MEMOS_CONTRACT_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", "tests/test_layering.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
