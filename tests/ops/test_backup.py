"""`memos backup`: a consistent archive of a live instance, its manifest, and nothing half-written."""
from __future__ import annotations

import json
import pathlib
import tarfile
import threading

import apsw
import httpx
import pytest
from ops_support import MEMOS, attach, create_memo, memos_command, sign_up
from support import running_server


def _members(archive: pathlib.Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def _snapshot(archive: pathlib.Path, tmp_path: pathlib.Path) -> tuple[dict, apsw.Connection]:
    members = _members(archive)
    manifest = json.loads(members["manifest.json"])
    database = tmp_path / "snapshot.db"
    database.write_bytes(members[manifest["database"]["member"]])
    return manifest, apsw.Connection(str(database))


def test_a_backup_taken_while_the_server_writes_is_consistent(tmp_path: pathlib.Path) -> None:
    data = tmp_path / "data"
    with running_server(MEMOS, data) as url:
        headers = sign_up(url, "alice")
        first = create_memo(url, headers, "with files #start")
        inside = attach(data, first["name"].split("/")[1], "note.txt", b"inside " * 5000)
        outside = attach(data, first["name"].split("/")[1], "far.txt", b"far away", outside=tmp_path / "elsewhere")
        for number in range(60):
            create_memo(url, headers, f"memo {number} #bulk")
        stop = threading.Event()
        written: list[int] = []

        def keep_writing() -> None:
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
                while not stop.is_set():
                    response = client.post("/api/v1/memos", json={"content": f"live {len(written)}"})
                    assert response.status_code == 200
                    written.append(1)

        writer = threading.Thread(target=keep_writing)
        writer.start()
        try:
            archive = tmp_path / "backup.tar.gz"
            done = memos_command("backup", "--data", str(data), "--output", str(archive))
        finally:
            stop.set()
            writer.join()
        assert done.returncode == 0, done.stderr
        assert written  # the server really wrote meanwhile

    manifest, snapshot = _snapshot(archive, tmp_path)
    try:
        assert snapshot.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        memo_count = snapshot.execute("SELECT count(*) FROM memo").fetchall()[0][0]
    finally:
        snapshot.close()
    assert manifest["counts"] == {"users": 1, "memos": memo_count, "attachments": 2, "local_files": 2}
    assert memo_count >= 61
    members = _members(archive)
    by_uid = {entry["uid"]: entry for entry in manifest["files"]}
    assert members[by_uid[inside.uid]["member"]] == inside.content
    assert by_uid[inside.uid]["member"] == "files/assets/note.txt"
    assert members[by_uid[outside.uid]["member"]] == outside.content
    assert by_uid[outside.uid]["reference"] == str(tmp_path / "elsewhere" / "far.txt")
    import hashlib

    for entry in [manifest["database"], *manifest["files"]]:
        assert hashlib.sha256(members[entry["member"]]).hexdigest() == entry["sha256"]
    assert manifest["schema_version"] and manifest["memos_version"]
    assert list(members)[-1] == "manifest.json"  # written last, once every checksum is known


def test_plain_progress_lines_when_not_on_a_terminal(tmp_path: pathlib.Path) -> None:
    data = tmp_path / "data"
    with running_server(MEMOS, data) as url:
        create_memo(url, sign_up(url, "alice"), "hello")
    done = memos_command("backup", "--data", str(data), "-o", str(tmp_path / "b.tar"))
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    assert "database: done" in done.stderr.splitlines()
    assert "backup written to" in done.stdout
    with tarfile.open(tmp_path / "b.tar") as tar:
        assert tar.getnames()[-1] == "manifest.json"


def test_the_default_name_is_a_dated_archive_in_the_current_directory(tmp_path: pathlib.Path) -> None:
    data = tmp_path / "data"
    with running_server(MEMOS, data):
        pass
    done = memos_command("backup", "--data", str(data), "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    [archive] = tmp_path.glob("memos-backup-*.tar.gz")
    assert (archive.stat().st_mode & 0o777) == 0o600  # it holds password hashes and secrets


@pytest.mark.parametrize("case", ["no database", "not a database", "missing output directory"])
def test_failures_leave_nothing_behind(tmp_path: pathlib.Path, case: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / "b.tar"
    if case == "not a database":
        (data / "memos_prod.db").write_bytes(b"this is no database" * 100)
    if case == "missing output directory":
        output = tmp_path / "nowhere" / "b.tar"
    done = memos_command("backup", "--data", str(data), "-o", str(output))
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1 + done.stderr.count("database:"), done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("memos backup: ")
    assert list(out_dir.iterdir()) == []
    if case != "not a database":
        assert done.returncode == 2


def test_a_backup_stopped_midway_leaves_nothing(tmp_path: pathlib.Path) -> None:
    import os
    import signal
    import subprocess
    import time

    from ops_support import memos_environment

    data = tmp_path / "data"
    with running_server(MEMOS, data) as url:
        memo = create_memo(url, sign_up(url, "alice"), "with a file that never ends")
    # A named pipe as an attachment file: the backup waits on it until it is stopped.
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    attach(data, memo["name"].split("/")[1], "pipe", b"", outside=None, reference=str(pipe))
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen([*MEMOS, "backup", "--data", str(data), "-o", str(out / "b.tar")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=memos_environment())
    try:
        while not any(p.is_dir() and not any(p.iterdir()) for p in out.glob(".memos-backup-*")):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)  # waiting for the copy to reach the attachments, not measuring anything
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == "memos backup: interrupted; nothing was left half-written"
    assert list(out.iterdir()) == []
