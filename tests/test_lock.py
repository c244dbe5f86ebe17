"""locks/*.txt agree with pyproject.toml: every dependency pinned within its range, no pin that nothing needs.

When one fails, refresh the locks: python scripts/lock.py
"""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from support import ROOT, load_builder

REFRESH = "refresh the locks: python scripts/lock.py"
BUILDER = load_builder()


def _pyproject_groups() -> dict[str, list[Requirement]]:
    """Which requirements of pyproject.toml each lock file holds."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    runtime = [Requirement(text) for text in project["dependencies"]]
    extras = project["optional-dependencies"]
    return {
        "runtime.txt": runtime,
        "test.txt": runtime + [Requirement(text) for text in extras["test"]],
        "build.txt": [Requirement(text) for text in extras["build"]],
    }


def _pins(lock: str) -> dict[str, Any]:
    return {canonicalize_name(pin.name): pin for pin in BUILDER.read_lock(ROOT / "locks" / lock)}


def unpinned(requirements: list[Requirement], pins: dict[str, Any]) -> list[str]:
    """The requirements that have no pin, or a pin outside their range."""
    problems = []
    for requirement in requirements:
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement} has no pin")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement} is pinned to {pin.version}")
    return problems


def unneeded(requirements: list[Requirement], pins: dict[str, Any]) -> list[str]:
    """The pins that no requirement leads to, following the resolver's "via" notes.

    A pin the resolver noted as asked for by the project itself ("memos (pyproject.toml)", or
    no note for a list given on standard input) is needed only while the project still asks for it.
    """
    direct = {canonicalize_name(r.name) for r in requirements}
    parents: dict[str, set[str]] = {}
    asked_by_project: set[str] = set()
    for name, pin in pins.items():
        notes = [note for note in pin.via if not note.startswith("-c ")]
        parents[name] = {
            canonicalize_name(note.split("[")[0]) for note in notes if " " not in note and not note.startswith("-")
        }
        if not notes or any(" " in note or note.startswith("-r") for note in notes):
            asked_by_project.add(name)
    needed = {name for name in asked_by_project if name in direct}
    grown = True
    while grown:
        more = {name for name, above in parents.items() if name not in needed and above & needed}
        needed |= more
        grown = bool(more)
    return sorted(set(pins) - needed)


@pytest.mark.parametrize("lock", ["runtime.txt", "test.txt", "build.txt"])
def test_every_dependency_is_pinned_within_its_range(lock: str) -> None:
    problems = unpinned(_pyproject_groups()[lock], _pins(lock))
    assert problems == [], f"locks/{lock}: {problems}; {REFRESH}"


@pytest.mark.parametrize("lock", ["runtime.txt", "test.txt", "build.txt"])
def test_nothing_is_pinned_that_no_dependency_needs(lock: str) -> None:
    stale = unneeded(_pyproject_groups()[lock], _pins(lock))
    assert stale == [], f"locks/{lock} pins {stale}, which pyproject.toml no longer needs; {REFRESH}"


@pytest.mark.parametrize("lock", ["runtime.txt", "test.txt", "build.txt"])
def test_every_pin_is_one_version_with_its_hashes(lock: str) -> None:
    pins = BUILDER.read_lock(ROOT / "locks" / lock)  # refuses anything but ==
    assert pins and all(pin.hashes and all(h.startswith("sha256:") for h in pin.hashes) for pin in pins)


def test_the_tests_run_the_versions_memos_pyz_ships() -> None:
    runtime, test = _pins("runtime.txt"), _pins("test.txt")
    differing = {
        name: (pin.version, test[name].version)
        for name, pin in runtime.items()
        if name not in test or test[name].version != pin.version
    }
    assert differing == {}, f"runtime.txt and test.txt differ: {differing}; {REFRESH}"


def test_the_checks_notice_a_missing_pin_and_a_stale_one(tmp_path: Path) -> None:
    lock = tmp_path / "lock.txt"
    lock.write_text(
        "anyio==4.16.0 \\\n    --hash=sha256:aa\n    # via httpx\n"
        "httpx==0.29.0 \\\n    --hash=sha256:bb\n    # via memos (pyproject.toml)\n"
        "idna==3.20 \\\n    --hash=sha256:cc\n    # via\n    #   -c locks/test.txt\n    #   anyio\n"
        "starlette==1.10.0 \\\n    --hash=sha256:dd\n    # via memos (pyproject.toml)\n"
    )
    pins = {canonicalize_name(pin.name): pin for pin in BUILDER.read_lock(lock)}
    asks = [Requirement("starlette>=2"), Requirement("bcrypt>=4.1")]
    assert unpinned(asks, pins) == ["starlette>=2 is pinned to 1.10.0", "bcrypt>=4.1 has no pin"]
    # httpx left pyproject.toml: it and what only it needed are stale.
    assert unneeded([Requirement("starlette")], pins) == ["anyio", "httpx", "idna"]
    assert unneeded([Requirement("starlette"), Requirement("httpx")], pins) == []
