"""The checkout stands on its own: no path of one machine in it, and its tests cannot vanish under CI."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
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


def _readme_test_command() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("Run the type checker, the linter and the tests."):]
    block = section[section.index("```sh\n") + len("```sh\n"):]
    return [line for line in block[: block.index("```")].splitlines() if line.strip()]


def test_ci_runs_the_readmes_test_command_line_for_line() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    readme = _readme_test_command()
    assert readme and "python -m pytest" in readme[-1]
    ran = [line.removesuffix(" || status=$?") for line in ci]
    start = ran.index(readme[0])
    assert ran[start : start + len(readme)] == readme
    # Under set -e a failure on the left of && does not stop the script: one command a line.
    assert not [line for line in readme if "&&" in line or "||" in line]


@pytest.mark.parametrize(("pytest_status", "ci_status"), [(0, 0), (1, 1), (5, 1)])
def test_ci_fails_a_run_that_collected_no_tests(tmp_path: pathlib.Path, pytest_status: int, ci_status: int) -> None:
    """The end of .ci/run, from the pytest line on, with pytest's exit status stood in for (5: nothing collected)."""
    ci = (ROOT / ".ci" / "run").read_text()
    ending = ci[ci.index("python -m pytest") :].replace("python -m pytest", f"(exit {pytest_status})", 1)
    script = tmp_path / "ending"
    script.write_text("set -euo pipefail\n" + ending)
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=30)
    assert done.returncode == ci_status, done.stderr
    assert ("collected no tests" in done.stderr) == (pytest_status == 5)


def test_databases_made_in_the_checkout_stay_out_of_git() -> None:
    """memos started in the checkout without --data writes its database there (Memos's default data directory)."""
    names = ["memos_prod.db", "memos_prod.db-wal", "memos_prod.db-shm", "memos_demo.db", "data/memos_prod.db"]
    done = subprocess.run(["git", "check-ignore", *names], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.split() == names
