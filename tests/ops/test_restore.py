"""`memos restore`: into an empty directory, served again as it was; damaged archives refused untouched."""
from __future__ import annotations

import io
import json
import pathlib
import tarfile

import httpx
import pytest
from ops_support import DATABASE, MEMOS, all_memos, attach, create_memo, file_bytes, memos_command, sign_up
from support import bearer, running_server


@pytest.fixture
def backup(tmp_path: pathlib.Path) -> tuple[pathlib.Path, dict]:
    """A backup of an instance with memos, a comment, and attachments on disk, in the row and elsewhere."""
    data = tmp_path / "original"
    with running_server(MEMOS, data) as url:
        headers = sign_up(url, "alice")
        memos = [create_memo(url, headers, f"memo {n} #tag{n % 3}") for n in range(30)]
        uid = memos[0]["name"].split("/")[1]
        response = httpx.post(f"{url}/api/v1/{memos[0]['name']}/comments",
                                            json={"content": "a comment"}, headers=headers)
        assert response.status_code == 200, response.text
        stored = [
            attach(data, uid, "disk.txt", b"on disk " * 1000),
            attach(data, uid, "row.txt", b"in the row", DATABASE),
            attach(data, memos[1]["name"].split("/")[1], "far.txt", b"kept elsewhere",
                   outside=tmp_path / "elsewhere"),
        ]
        before = {memo["name"]: memo["content"] for memo in all_memos(url, headers)}
    archive = tmp_path / "backup.tar"
    done = memos_command("backup", "--data", str(data), "-o", str(archive))
    assert done.returncode == 0, done.stderr
    return archive, {"memos": before, "stored": stored}


def test_a_restored_instance_serves_every_memo_and_attachment(
    tmp_path: pathlib.Path, backup: tuple[pathlib.Path, dict]
) -> None:
    archive, expected = backup
    target = tmp_path / "moved" / "data"
    done = memos_command("restore", "--data", str(target), str(archive))
    assert done.returncode == 0, done.stderr
    assert "restored into" in done.stdout
    assert not [p for p in target.iterdir() if p.name.startswith(".memos-restore")]
    (tmp_path / "elsewhere").rename(tmp_path / "gone")  # the restored instance must not need the old place
    with running_server(MEMOS, target) as url:
        headers = sign_up_existing(url, "alice")
        memos = all_memos(url, headers)
        assert {memo["name"]: memo["content"] for memo in memos} == expected["memos"]
        attachments = {a["name"].rsplit("/", 1)[-1]: a for memo in memos for a in memo.get("attachments", [])}
        for stored in expected["stored"]:
            assert file_bytes(url, headers, attachments[stored.uid]) == stored.content


def sign_up_existing(url: str, username: str) -> dict[str, str]:
    signed = httpx.post(f"{url}/api/v1/auth/signin",
                        json={"passwordCredentials": {"username": username, "password": "pw"}})
    assert signed.status_code == 200, signed.text
    return bearer(signed.json()["accessToken"])


def test_a_non_empty_directory_is_refused_without_force(
    tmp_path: pathlib.Path, backup: tuple[pathlib.Path, dict]
) -> None:
    archive, _ = backup
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    done = memos_command("restore", "--data", str(target), str(archive))
    assert done.returncode == 2
    assert "not empty" in done.stderr and "--force" in done.stderr
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    forced = memos_command("restore", "--data", str(target), "--force", str(archive))
    assert forced.returncode == 0, forced.stderr
    assert (target / "keep.txt").read_text() == "mine"
    assert (target / "memos_prod.db").is_file()


def _rewritten(archive: pathlib.Path, tmp_path: pathlib.Path, change) -> pathlib.Path:  # type: ignore[no-untyped-def]
    """A copy of ``archive`` whose members went through ``change(name, bytes) -> bytes | None``."""
    copy = tmp_path / "changed.tar"
    with tarfile.open(archive) as source, tarfile.open(copy, "w") as target:
        for member in source:
            content = source.extractfile(member).read()  # type: ignore[union-attr]
            content = change(member.name, content)
            if content is None:
                continue
            member.size = len(content)
            target.addfile(member, io.BytesIO(content))
    return copy


def _flip_a_byte(name: str, content: bytes) -> bytes:
    if name.startswith("files/"):
        return content[:-1] + bytes([content[-1] ^ 1])
    return content


def _drop_manifest(name: str, content: bytes) -> bytes | None:
    return None if name == "manifest.json" else content


def _unlisted(name: str, content: bytes) -> bytes:
    if name == "manifest.json":
        manifest = json.loads(content)
        manifest["files"] = manifest["files"][1:]
        return json.dumps(manifest).encode()
    return content


@pytest.mark.parametrize(("change", "message"), [
    (_flip_a_byte, "does not match its checksum"),
    (_drop_manifest, "no manifest.json"),
    (_unlisted, "does not list"),
])
def test_a_damaged_archive_is_refused_and_nothing_is_written(
    tmp_path: pathlib.Path, backup: tuple[pathlib.Path, dict], change: object, message: str
) -> None:
    damaged = _rewritten(backup[0], tmp_path, change)
    target = tmp_path / "target"
    done = memos_command("restore", "--data", str(target), str(damaged))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("memos restore: ")
    assert list(target.iterdir()) == []


def test_unsafe_members_are_refused(tmp_path: pathlib.Path) -> None:
    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("files/../../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    target = tmp_path / "target"
    done = memos_command("restore", "--data", str(target), str(archive))
    assert done.returncode == 2
    assert "unexpected entry" in done.stderr
    assert not (tmp_path / "escape.txt").exists()
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("content", [b"", b"not a tar at all" * 100])
def test_something_that_is_no_archive_is_bad_input(tmp_path: pathlib.Path, content: bytes) -> None:
    archive = tmp_path / "backup.tar"
    archive.write_bytes(content)
    done = memos_command("restore", "--data", str(tmp_path / "target"), str(archive))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) >= 1
    assert "Traceback" not in done.stderr


def test_a_missing_archive_is_bad_input(tmp_path: pathlib.Path) -> None:
    done = memos_command("restore", "--data", str(tmp_path / "t"), str(tmp_path / "nope.tar"))
    assert done.returncode == 2
    assert "is not a file" in done.stderr
