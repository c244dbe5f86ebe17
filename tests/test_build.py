"""build_zipapp.py: the pyz builds reproducibly, runs on an empty data dir, cleans old extractions, and a
multi-target pyz unpacks only what the running machine loads. (arm64 itself: tests/test_arm64.py.)

Needs pip to reach a package index (or its cache) for the dependency wheels,
and memos.app for the serving test.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from support import THUMBNAIL_PROBE, THUMBNAIL_PROBE_OUTPUT, build_pyz, free_port, load_builder, tree_size

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def pyz(built_pyz: Path) -> Path:
    """The session's memos.pyz (tests/conftest.py builds it once)."""
    return built_pyz


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEMOS_", "PYTHON"))}
    env["SHIV_ROOT"] = str(tmp_path / "shiv")
    return env


def test_build_is_reproducible(pyz: Path, tmp_path: Path) -> None:
    again = build_pyz(tmp_path / "again.pyz")
    assert again.read_bytes() == pyz.read_bytes()


def test_archive_layout(pyz: Path) -> None:
    assert pyz.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(pyz) as archive:
        names = archive.namelist()
    assert "site-packages/memos/cli.py" in names
    assert "site-packages/memos/static/index.html" in names
    assert "site-packages/bin/memos_preamble.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for project in ("starlette", "hypercorn", "google/protobuf", "apsw"):
        assert any(n.startswith(f"site-packages/{project}/") for n in names), project


def test_pyz_serves_on_an_empty_data_dir(pyz: Path, tmp_path: Path, clean_env: dict[str, str]) -> None:
    data = tmp_path / "data"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(pyz), "--addr", "127.0.0.1", "--port", str(port), "--data", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env, cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "no /healthz within 60 s"
                time.sleep(0.1)
        assert (health.status_code, health.text) == (200, "Service ready.")
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert home.status_code == 200 and "<!doctype html>" in home.text.lower()
        # The launcher re-executes the same process under -OO (no docstrings or asserts kept in memory).
        command_line = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert command_line[:2] == [sys.executable.encode(), b"-OO"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Happy note-taking!" in out
    assert (data / "memos_prod.db").is_file()


def test_preamble_removes_older_extractions_only(pyz: Path, tmp_path: Path, clean_env: dict[str, str]) -> None:
    root = Path(clean_env["SHIV_ROOT"])
    old = root / "memos.pyz_0123456789abcdef"
    (old / "site-packages").mkdir(parents=True)
    (root / ".memos.pyz_0123456789abcdef_lock").write_text("")
    unrelated = root / "other.pyz_0123456789abcdef"
    unrelated.mkdir()
    done = subprocess.run(
        [sys.executable, str(pyz), "version"], capture_output=True, text=True, env=clean_env, timeout=120
    )
    assert done.stdout == "0.30.0\n", done.stderr
    assert not old.exists()
    assert not (root / ".memos.pyz_0123456789abcdef_lock").exists()
    assert unrelated.exists()
    assert len(list(root.glob("memos.pyz_*"))) == 1


def test_pyz_refuses_a_python_it_was_not_built_for(pyz: Path, clean_env: dict[str, str]) -> None:
    others = [f"python3.{minor}" for minor in (10, 12, 13) if minor != sys.version_info[1]]
    others += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.1[0-9].*/bin/python3"))
    found = [name for name in others if _runs(name) and not _same_minor(name)]
    if not found:
        pytest.skip("no other Python 3 on PATH")
    done = subprocess.run([found[0], str(pyz), "version"], capture_output=True, text=True, env=clean_env, timeout=120)
    assert done.returncode == 1
    assert "was built for" in done.stderr and done.stdout == ""


def _same_minor(command: str) -> bool:
    probe = subprocess.run([command, "-c", "import sys; print(sys.version_info[1])"], capture_output=True, text=True)
    return probe.stdout.strip() == str(sys.version_info[1])


def _runs(command: str) -> bool:
    try:
        return subprocess.run([command, "-c", "pass"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def test_targets_and_layout_rules() -> None:
    builder = load_builder()
    target = builder.parse_target("arm64:3.12")
    assert (target.cpu, target.python) == ("aarch64", "3.12")
    assert "--platform" in target.pip_options()
    for bad in ("riscv64:3.11", "x86_64", "x86_64:3.10", "x86_64:three"):
        with pytest.raises(argparse.ArgumentTypeError):
            builder.parse_target(bad)
    wheel = builder.Wheel
    pure = wheel(Path("starlette-1.10.0-py3-none-any.whl"))
    abi3 = wheel(Path("protobuf-7.36.2-cp310-abi3-manylinux2014_aarch64.whl"))
    per_version = wheel(Path("apsw-3.54.1.0-cp312-cp312-manylinux_2_28_aarch64.whl"))
    assert builder.arch_folder(pure, target) == ""
    assert builder.arch_folder(abi3, target) == "_arch/aarch64-linux-gnu"
    assert builder.arch_folder(per_version, target) == "_arch/aarch64-linux-gnu-cp312"


def test_each_target_takes_the_pins_whose_markers_hold_for_it() -> None:
    builder = load_builder()
    pins = [
        builder.Pin("anyio", "4.16.0"),
        builder.Pin("typing-extensions", "4.16.0", marker="python_full_version < '3.13'"),
        builder.Pin("only-arm", "1.0", marker="platform_machine == 'aarch64' and sys_platform == 'linux'"),
        builder.Pin("colorama", "0.4.6", marker="sys_platform == 'win32'"),
    ]
    names = {
        label: [pin.name for pin in builder.pins_for(builder.parse_target(label), pins)]
        for label in ("x86_64:3.11", "x86_64:3.13", "aarch64:3.13")
    }
    assert names == {
        "x86_64:3.11": ["anyio", "typing-extensions"],
        "x86_64:3.13": ["anyio"],
        "aarch64:3.13": ["anyio", "only-arm"],
    }


def test_the_archive_holds_exactly_the_locked_versions(pyz: Path) -> None:
    builder = load_builder()
    target = builder.native_target()
    locked = {(pin.name.replace("-", "_"), pin.version)
              for pin in builder.pins_for(target, builder.read_lock(ROOT / "locks" / "runtime.txt"))}
    with zipfile.ZipFile(pyz) as archive:
        packed = {
            tuple(name.split("/")[1].removesuffix(".dist-info").lower().split("-", 1))
            for name in archive.namelist()
            if name.count("/") == 2 and name.split("/")[1].endswith(".dist-info")
        }
    assert packed == {(name.lower(), version) for name, version in locked}


def test_pyz_without_a_home_directory_unpacks_into_a_private_temporary_folder(
    pyz: Path, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    del clean_env["SHIV_ROOT"]
    env = {**clean_env, "HOME": "/nonexistent", "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, str(pyz), "version"], capture_output=True, text=True, env=env, timeout=120)
    assert (done.returncode, done.stdout) == (0, "0.30.0\n"), done.stderr
    private = tmp_path / f"memos-pyz-{os.geteuid()}"
    assert private.stat().st_mode & 0o777 == 0o700
    assert len(list(private.glob("memos.pyz_*/site-packages/memos"))) == 1
    assert not Path("/nonexistent").exists()


def test_pyz_refuses_a_temporary_folder_others_may_write(
    pyz: Path, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    del clean_env["SHIV_ROOT"]
    planted = tmp_path / f"memos-pyz-{os.geteuid()}"
    planted.mkdir()
    planted.chmod(0o777)  # as another user could leave it in a shared /tmp
    env = {**clean_env, "HOME": "/nonexistent", "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, str(pyz), "version"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "set SHIV_ROOT to a writable directory" in done.stderr
    assert list(planted.iterdir()) == []


def test_differing_versions_between_targets_are_refused() -> None:
    builder = load_builder()
    a, b = builder.Target("x86_64", "3.11"), builder.Target("aarch64", "3.11")
    wheels = {
        a: [builder.Wheel(Path("idna-3.20-py3-none-any.whl"))],
        b: [builder.Wheel(Path("idna-3.10-py3-none-any.whl"))],
    }
    with pytest.raises(builder.BuildError, match="idna"):
        builder.check_versions(wheels)


# --- lean extraction and payload left out ------------------------------------------------------------

EXTRACTION_LIMIT = 30_000_000  # bytes unpacked for one CPU and Python (issue 10)
FILE_LIMIT = 30 << 20


def _machine() -> tuple[str, str]:
    builder = load_builder()
    return builder.native_target().cpu, f"cp3{sys.version_info[1]}"


def _run_version(pyz: Path, env: dict[str, str], python: str = sys.executable) -> None:
    done = subprocess.run([python, str(pyz), "version"], capture_output=True, text=True, env=env, timeout=300)
    assert (done.returncode, done.stdout) == (0, "0.30.0\n"), done.stderr


def _extraction(env: dict[str, str]) -> Path:
    [extraction] = Path(env["SHIV_ROOT"]).glob("memos.pyz_*")
    return extraction


def test_a_multi_target_pyz_unpacks_only_this_machines_cpu_and_python(
    built_pyz_all: Path, clean_env: dict[str, str]
) -> None:
    _run_version(built_pyz_all, clean_env)
    extraction = _extraction(clean_env)
    cpu, version = _machine()
    arch = extraction / "site-packages" / "_arch"
    assert sorted(p.name for p in arch.iterdir()) == [f"{cpu}-linux-gnu", f"{cpu}-linux-gnu-{version}"]
    assert tree_size(extraction) < EXTRACTION_LIMIT
    # Files every Python shares are stored once but unpacked where the extension modules look for them.
    assert list((arch / f"{cpu}-linux-gnu-{version}" / "pillow.libs").glob("libjpeg-*"))


def test_another_python_on_the_same_extraction_adds_only_its_own_folder(
    built_pyz_all: Path, clean_env: dict[str, str]
) -> None:
    others = [p for p in _other_pythons() if _minor(p) in (11, 12, 13) and _minor(p) != sys.version_info[1]]
    if not others:
        pytest.skip("no second CPython 3.11-3.13 on this machine")
    _run_version(built_pyz_all, clean_env)
    _run_version(built_pyz_all, clean_env, others[0])
    _run_version(built_pyz_all, clean_env)
    cpu, version = _machine()
    arch = _extraction(clean_env) / "site-packages" / "_arch"
    expected = {f"{cpu}-linux-gnu", f"{cpu}-linux-gnu-{version}", f"{cpu}-linux-gnu-cp3{_minor(others[0])}"}
    assert {p.name for p in arch.iterdir()} == expected


def test_the_multi_target_pyz_holds_shared_files_once_and_no_unused_payload(built_pyz_all: Path) -> None:
    assert built_pyz_all.stat().st_size < FILE_LIMIT
    with zipfile.ZipFile(built_pyz_all) as archive:
        names = archive.namelist()
    assert not [n for n in names if "sqlite_extra_binaries" in n or "/tests/" in n or "apsw/_unicode." in n]
    assert not [n for n in names if n.endswith(".pyi")]
    assert not [n for n in names if "/PIL/_avif." in n or "/PIL/_imagingft." in n or "/libavif-" in n]
    for cpu in ("x86_64", "aarch64"):
        libjpeg = [n for n in names if f"_arch/{cpu}-linux-gnu-" in n and "/pillow.libs/libjpeg-" in n]
        assert [n.split("/")[2] for n in libjpeg] == [f"{cpu}-linux-gnu-cpany"]
        for version in ("cp311", "cp312", "cp313"):
            assert any(n.startswith(f"site-packages/_arch/{cpu}-linux-gnu-{version}/PIL/_imaging.") for n in names)


def test_thumbnails_work_in_the_built_pyz(pyz: Path, tmp_path: Path, clean_env: dict[str, str]) -> None:
    """Pillow's left-out modules and libraries are not needed for JPEG, PNG and WebP thumbnails."""
    done = subprocess.run(
        [sys.executable, str(pyz), "-c", THUMBNAIL_PROBE, str(tmp_path)],
        capture_output=True, text=True, env={**clean_env, "SHIV_INTERPRETER": "1"}, timeout=300,
    )
    assert (done.returncode, done.stdout) == (0, THUMBNAIL_PROBE_OUTPUT), done.stderr


def test_bundled_libraries_no_kept_module_loads_are_left_out() -> None:
    """On this machine's installed Pillow: without _avif, libavif goes; _imaging's own libraries stay."""
    builder = load_builder()
    import PIL

    site = Path(PIL.__file__).parent.parent
    files = {str(p.relative_to(site)): p.read_bytes() for p in (site / "pillow.libs").iterdir()}
    files.update({f"PIL/{p.name}": p.read_bytes() for p in (site / "PIL").glob("_imaging.*.so")})
    unneeded = {name.split("/")[1].split("-")[0] for name in builder.unneeded_libraries(files)}
    assert {"libavif", "libharfbuzz", "libfreetype", "liblcms2"} <= unneeded
    assert not {"libjpeg", "libtiff", "libopenjp2", "libxcb", "libXau"} & unneeded


def test_payload_rules() -> None:
    builder = load_builder()
    for name in ("apsw/sqlite_extra_binaries/vec1.so", "certifi/tests/test_certify.py", "apsw/__init__.pyi",
                 "PIL/_avif.cpython-311-x86_64-linux-gnu.so"):
        assert builder.left_out(name), name
    for name in ("apsw/__init__.cpython-311-x86_64-linux-gnu.so", "PIL/_imaging.cpython-311-x86_64-linux-gnu.so",
                 "PIL/AvifImagePlugin.py", "pygments/lexers/testing.py", "anyio/pytest_plugin.py"):
        assert not builder.left_out(name), name


def _other_pythons() -> list[str]:
    candidates = [f"python3.{minor}" for minor in (11, 12, 13)]
    candidates += sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.1[0-9].*/bin/python3"))
    return [c for c in candidates if _runs(c)]


def _minor(command: str) -> int:
    probe = subprocess.run([command, "-c", "import sys; print(sys.version_info[1])"], capture_output=True, text=True)
    return int(probe.stdout)
