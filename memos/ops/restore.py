"""`memos restore ARCHIVE`: a backup made by `memos backup` back into a data directory.

Every member is first unpacked into a staging directory inside the data directory and
hashed; only when each one matches the manifest (and nothing unlisted or unsafe is in
the archive) does anything move into place, by renames on the same file system, the
database last. LOCAL references that named the old data directory are rewritten to
the new one, and files that lived outside it are brought inside (``external/``).
"""
from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import pathlib
import shutil
import tarfile
import tempfile
import zlib
from typing import Any

from memos.ops.backup import FORMAT, MANIFEST
from memos.ops.common import CHUNK, HashingReader, OpsError, Progress, bad_input
from memos.profile import Profile
from memos.store import FindAttachment, Store, StoreError, UpdateAttachment

MANIFEST_LIMIT = 64 * 1024 * 1024
_MEMBER_ROOTS = ("database", "files", "external")


def run_restore(profile: Profile, archive: pathlib.Path, *, force: bool, progress: Progress) -> dict[str, Any]:
    """Restore ``archive`` into the profile's data directory; the archive's manifest."""
    data = pathlib.Path(profile.data)
    target_db = pathlib.Path(profile.dsn)
    _check_target(data, target_db, force)
    if not archive.is_file():
        raise bad_input(f"{archive} is not a file")
    staging = pathlib.Path(tempfile.mkdtemp(prefix=".memos-restore-", dir=data))
    try:
        manifest, staged = _unpack(archive, staging, progress)
        _verify(manifest, staged)
        database = staging / manifest["database"]["member"]
        moves = _planned_moves(manifest, staging, data)
        asyncio.run(_rewrite_references(database, manifest, data, moves))
        _move_into_place(moves, database, target_db)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _check_target(data: pathlib.Path, target_db: pathlib.Path, force: bool) -> None:
    if force:
        return
    entries = sorted(entry.name for entry in data.iterdir())
    if entries:
        raise bad_input(
            f"the data directory {data} is not empty ({', '.join(entries[:3])}{'...' if len(entries) > 3 else ''}); "
            "restore into an empty one, or pass --force to overwrite"
        )
    if target_db.exists():
        raise bad_input(f"the database {target_db} exists; pass --force to overwrite it")


def _safe_member(name: str) -> pathlib.PurePosixPath:
    path = pathlib.PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] not in _MEMBER_ROOTS:
        raise bad_input(f"the archive holds an unexpected entry {name!r}; not a memos backup")
    return path


def _unpack(archive: pathlib.Path, staging: pathlib.Path, progress: Progress) -> tuple[dict[str, Any], dict[str, str]]:
    """Every member into ``staging``; (the manifest, member -> SHA-256 of what was unpacked)."""
    staged: dict[str, str] = {}
    manifest: dict[str, Any] | None = None
    try:
        with archive.open("rb") as raw, tarfile.open(fileobj=raw, mode="r:*") as tar:
            progress.start("unpacking", archive.stat().st_size)
            position = 0
            for member in tar:  # one pass, in archive order: works on a compressed stream
                if member.name == MANIFEST and member.isfile():
                    manifest = _read_manifest(tar, member)
                elif member.isdir():
                    continue
                elif not member.isfile():
                    raise bad_input(f"the archive holds a link or device {member.name!r}; not a memos backup")
                else:
                    relative = _safe_member(member.name)
                    staged[member.name] = _extract(tar, member, staging / relative)
                progress.advance(max(0, raw.tell() - position))  # bytes of the archive itself
                position = raw.tell()
            progress.finish()
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise bad_input(f"{archive} is not a readable backup archive ({exc})") from None
    except OSError as exc:
        raise OpsError(f"cannot unpack {archive}: {exc.strerror or exc}") from None
    if manifest is None:
        raise bad_input(f"{archive} has no {MANIFEST}; not a memos backup (or it was cut short)")
    return manifest, staged


def _read_manifest(tar: tarfile.TarFile, member: tarfile.TarInfo) -> dict[str, Any]:
    if member.size > MANIFEST_LIMIT:
        raise bad_input("the backup manifest is implausibly large")
    file = tar.extractfile(member)
    assert file is not None
    try:
        manifest = json.loads(file.read())
    except ValueError:
        raise bad_input("the backup manifest is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise bad_input("the archive's manifest is not a memos backup manifest")
    database = manifest.get("database")
    if not isinstance(database, dict) or not isinstance(database.get("member"), str):
        raise bad_input("the backup manifest names no database")
    if not isinstance(manifest.get("files"), list):
        raise bad_input("the backup manifest lists no files")
    return manifest


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: pathlib.Path) -> str:
    source = tar.extractfile(member)
    assert source is not None
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = HashingReader(source)  # type: ignore[arg-type]
    with target.open("wb") as out:
        while chunk := reader.read(CHUNK):
            out.write(chunk)
    return reader.hexdigest()


def _verify(manifest: dict[str, Any], staged: dict[str, str]) -> None:
    expected: dict[str, str] = {manifest["database"]["member"]: str(manifest["database"].get("sha256", ""))}
    for entry in manifest["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("member"), str):
            raise bad_input("the backup manifest has a malformed file entry")
        expected[entry["member"]] = str(entry.get("sha256", ""))
    for member, digest in expected.items():
        if member not in staged:
            raise bad_input(f"the archive lacks {member}, which its manifest lists; it is incomplete")
        if staged[member] != digest:
            raise bad_input(f"{member} does not match its checksum; the archive is damaged")
    unlisted = sorted(set(staged) - set(expected))
    if unlisted:
        raise bad_input(f"the archive holds {unlisted[0]}, which its manifest does not list")


def _planned_moves(manifest: dict[str, Any], staging: pathlib.Path, data: pathlib.Path) -> dict[str, pathlib.Path]:
    """member -> where the file goes (attachment files only; every one inside the data directory)."""
    moves: dict[str, pathlib.Path] = {}
    for entry in manifest["files"]:
        member = pathlib.PurePosixPath(entry["member"])
        relative = pathlib.PurePosixPath(*member.parts[1:]) if member.parts[0] == "files" else member
        moves[entry["member"]] = data / relative
    return moves


async def _rewrite_references(
    database: pathlib.Path, manifest: dict[str, Any], data: pathlib.Path, moves: dict[str, pathlib.Path]
) -> None:
    """Point every LOCAL attachment at where its file now is, when the reference said otherwise.

    Relative references inside the data directory still hold; absolute ones are rewritten
    when the data directory moved, and references to files outside it always.
    """
    changes = {}
    for entry in manifest["files"]:
        new_path = moves[entry["member"]]
        reference = str(entry.get("reference", ""))
        is_absolute = os.path.isabs(reference)
        moved = pathlib.Path(reference) != new_path if is_absolute else entry["member"].startswith("external/")
        if moved:
            changes[str(entry["uid"])] = new_path.as_posix()
    # Opening it migrates a backup from an older build, as starting the server on it would.
    try:
        store = await Store.open("sqlite", str(database), deployment_dir=None)
    except StoreError as exc:
        raise OpsError(f"the backed-up database cannot be opened by this build: {exc}") from None
    try:
        for uid, reference in changes.items():
            attachment = await store.attachments.get(FindAttachment(uid=uid))
            if attachment is not None:
                await store.attachments.update(UpdateAttachment(id=attachment.id, reference=reference))
    finally:
        await store.close()


def _move_into_place(moves: dict[str, pathlib.Path], database: pathlib.Path, target_db: pathlib.Path) -> None:
    staging = database.parents[1]
    for member, target in moves.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / member, target)
    target_db.parent.mkdir(parents=True, exist_ok=True)
    for stale in (target_db.with_name(target_db.name + "-wal"), target_db.with_name(target_db.name + "-shm")):
        # A replaced database must not meet the old one's write-ahead log.
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    try:
        os.replace(database, target_db)
    except OSError:
        shutil.move(database, target_db)  # another file system (--dsn elsewhere)

