"""The built multi-target memos.pyz on arm64, under qemu-user emulation in a Debian arm64 userland.

The userland is made once with `debootstrap --foreign` (download and unpack only: no emulated second
stage, so no binfmt_misc registration is needed) and kept outside the checkout, in
$MEMOS_ARM64_ROOT or /var/cache/memos-arm64-root; its packages are then unpacked with dpkg-deb.
Select these tests with `-m arm64`. They skip only where qemu-aarch64-static cannot run.
"""
from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import (
    THUMBNAIL_PROBE,
    THUMBNAIL_PROBE_OUTPUT,
    bearer,
    free_port,
    sign_in,
    stop_process,
    tree_size,
    wait_for_health,
)

pytestmark = pytest.mark.arm64

ROOTFS = Path(os.environ.get("MEMOS_ARM64_ROOT", "/var/cache/memos-arm64-root"))
MIRROR = os.environ.get("MEMOS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"  # Debian 12, as Raspberry Pi OS: Python 3.11
PYTHON = "usr/bin/python3.11"
QEMU = "qemu-aarch64-static"
EMULATED_START = 180  # seconds to /healthz under emulation on a slow CI machine (about 7 s here)


def _emulator() -> str:
    """qemu-aarch64-static, or skip with the reason this machine cannot emulate arm64."""
    path = shutil.which(QEMU)
    if path is None:
        pytest.skip(f"{QEMU} is not installed (Debian: apt-get install qemu-user-static)")
    try:
        probe = subprocess.run([path, "--version"], capture_output=True, timeout=30)
    except OSError as error:
        pytest.skip(f"{QEMU} cannot run here: {error}")
    if probe.returncode != 0:
        pytest.skip(f"{QEMU} cannot run here: {probe.stderr.decode(errors='replace').strip()}")
    return path


def _make_userland(root: Path) -> None:
    """Debian arm64 with python3, unpacked without emulation; renamed into place only when complete."""
    if shutil.which("debootstrap") is None or shutil.which("dpkg-deb") is None:
        pytest.fail("making the arm64 userland needs debootstrap and dpkg-deb (apt-get install debootstrap)")
    staging = root.with_name(f"{root.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    command = ["debootstrap", "--foreign", "--arch=arm64", "--variant=minbase", "--include=python3",
               SUITE, str(staging), MIRROR]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    packages = sorted((staging / "var/cache/apt/archives").glob("*.deb"))
    for package in packages:
        subprocess.run(["dpkg-deb", "-x", str(package), str(staging)], check=True, timeout=300)
        package.unlink()
    assert (staging / PYTHON).is_file(), "the arm64 userland has no python3.11"
    try:
        staging.rename(root)
    except OSError:  # made meanwhile by another run
        shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture(scope="module")
def arm64() -> list[str]:
    """The command prefix that runs the userland's python3.11 under emulation (-OO: the launcher would
    re-execute itself with it, and an arm64 executable started by the kernel would need binfmt_misc)."""
    qemu = _emulator()
    if not (ROOTFS / PYTHON).is_file():
        _make_userland(ROOTFS)
    # cortex-a72 (a Raspberry Pi 4's CPU): qemu's default model is about ten times slower.
    return [qemu, "-cpu", "cortex-a72", "-L", str(ROOTFS), str(ROOTFS / PYTHON), "-OO"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MEMOS_", "PYTHON", "SHIV_"))}
    return {**clean, "SHIV_ROOT": str(tmp_path / "shiv")}


@pytest.fixture
def emulated_server(arm64: list[str], built_pyz_all: Path, tmp_path: Path, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    command = [*arm64, str(built_pyz_all), "--addr", "127.0.0.1", "--port", str(port), "--data", str(tmp_path / "data")]
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sink, env=env, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_health(url, process, timeout=EMULATED_START)
        except RuntimeError as error:
            raise AssertionError(f"{error}\n{log.read_text(errors='replace')[-4000:]}") from error
        yield url
    finally:
        stop_process(process, timeout=60)


def test_the_pyz_serves_a_user_their_memos_and_a_thumbnail_on_arm64(emulated_server: str, env: dict[str, str]) -> None:
    with httpx.Client(base_url=emulated_server, timeout=120) as client:
        signed_up = client.post("/api/v1/users", json={"username": "pi", "password": "raspberry"})
        assert signed_up.status_code == 200, signed_up.text
        headers = bearer(sign_in(client, "pi", "raspberry"))
        created = client.post("/api/v1/memos", json={"content": "Hello from #arm64", "visibility": "PRIVATE"},
                              headers=headers)
        assert created.status_code == 200, created.text
        listed = client.get("/api/v1/memos", headers=headers)
        attachment = client.post("/api/v1/attachments", headers=headers, json={
            "filename": "photo.png", "type": "image/png", "memo": created.json()["name"],
            "content": base64.b64encode(_png(1600, 900)).decode(),
        })
        assert attachment.status_code == 200, attachment.text
        uid = attachment.json()["name"].removeprefix("attachments/")
        thumbnail = client.get(f"/file/attachments/{uid}/photo.png", params={"thumbnail": "true"}, headers=headers)
    assert listed.status_code == 200
    assert [memo["content"] for memo in listed.json()["memos"]] == ["Hello from #arm64"]
    assert created.json()["tags"] == ["arm64"]
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
    assert thumbnail.content.startswith(b"\xff\xd8") and _image_size(thumbnail.content) == (600, 338)
    # Only arm64's and CPython 3.11's compiled folders were unpacked, and the whole extraction is small.
    [extraction] = Path(env["SHIV_ROOT"]).glob("memos.pyz_*")
    arch = extraction / "site-packages" / "_arch"
    assert sorted(p.name for p in arch.iterdir()) == ["aarch64-linux-gnu", "aarch64-linux-gnu-cp311"]
    assert tree_size(extraction / "site-packages") < 30_000_000


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(output, "PNG")
    return output.getvalue()


def _image_size(content: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(content)) as image:
        return image.size


def test_thumbnails_are_made_on_arm64(arm64: list[str], built_pyz_all: Path, tmp_path: Path,
                                      env: dict[str, str]) -> None:
    done = subprocess.run(
        [*arm64, str(built_pyz_all), "-c", THUMBNAIL_PROBE, str(tmp_path)],
        capture_output=True, text=True, env={**env, "SHIV_INTERPRETER": "1"}, timeout=600,
    )
    assert (done.returncode, done.stdout) == (0, THUMBNAIL_PROBE_OUTPUT), done.stderr
