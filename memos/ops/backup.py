"""`memos backup`: the database (copied online) and the LOCAL attachment files in one tar archive.

Archive layout (plain tar, or gzip-compressed when the name ends in .gz or .tgz)::

    database/<database file name>   the snapshot
    files/<path under the data dir> LOCAL files kept inside the data directory
    external/<uid>/<file name>      LOCAL files kept elsewhere (recorded by their reference)
    manifest.json                   written last: versions, counts and every file's SHA-256

Files are streamed into the archive and hashed as they go; the archive is written under
a temporary name beside the output and renamed only once it is complete.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import pathlib
import tarfile
import tempfile
from typing import Any

from memos import __version__
from memos.ops.common import HashingReader, OpsError, Progress, bad_input, file_written_whole
from memos.profile import Profile
from memos.storage.local import local_file
from memos.store import InvalidValue, StoreError
from memos.store.snapshot import SnapshotFacts, copy_online, read_facts

FORMAT = "memos-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


@dataclasses.dataclass(frozen=True, slots=True)
class BackupResult:
    path: pathlib.Path
    manifest: dict[str, Any]


def default_name(now: dt.datetime) -> str:
    return f"memos-backup-{now.strftime('%Y%m%d-%H%M%S')}.tar.gz"


def _open_archive(temporary: pathlib.Path, output: pathlib.Path) -> tarfile.TarFile:
    """Gzip-compressed when the output's name asks for it."""
    if output.name.endswith((".gz", ".tgz")):
        return tarfile.open(temporary, "w:gz", format=tarfile.PAX_FORMAT)
    return tarfile.open(temporary, "w", format=tarfile.PAX_FORMAT)


def run_backup(profile: Profile, output: pathlib.Path, progress: Progress) -> BackupResult:
    """Write the backup to ``output``; nothing appears there unless the whole archive was written."""
    output = output.absolute()
    with file_written_whole(output) as temporary, tempfile.TemporaryDirectory(
        prefix=".memos-backup-", dir=output.parent
    ) as scratch:
        snapshot = pathlib.Path(scratch) / pathlib.Path(profile.dsn).name
        facts = _snapshot(profile, snapshot, progress)
        with _open_archive(temporary, output) as archive:
            database = _add_file(archive, snapshot, f"database/{snapshot.name}", progress, "archiving")
            snapshot.unlink()  # the scratch space is needed once only
            files, missing = _add_attachment_files(archive, profile.data, facts, progress)
            manifest = _manifest(profile, facts, database, files, missing)
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
    for reference in missing:
        progress.line(f"warning: attachment file missing, not backed up: {reference['reference']}")
    return BackupResult(output, manifest)


def _snapshot(profile: Profile, snapshot: pathlib.Path, progress: Progress) -> SnapshotFacts:
    """Copy the live database to ``snapshot`` (with a progress bar) and read its facts."""
    shown = 0

    def on_progress(copied: int, total: int) -> None:
        nonlocal shown
        if copied == 0:
            progress.start("database", total)
        progress.advance(copied - shown)
        shown = copied

    try:
        copy_online(profile.driver, profile.dsn, snapshot, on_progress)
        progress.finish()
        return read_facts(profile.driver, snapshot)
    except InvalidValue as exc:
        raise bad_input(str(exc)) from None
    except StoreError as exc:
        raise OpsError(str(exc)) from None


def _add_file(
    archive: tarfile.TarFile, path: pathlib.Path, member: str, progress: Progress, phase: str = ""
) -> dict[str, Any]:
    with path.open("rb") as file:
        info = archive.gettarinfo(fileobj=file, arcname=member)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        if phase:
            progress.start(phase, info.size)
        reader = HashingReader(file, progress)
        archive.addfile(info, reader)
        if phase:
            progress.finish()
    return {"member": member, "size": info.size, "sha256": reader.hexdigest()}


def _add_bytes(archive: tarfile.TarFile, member: str, data: bytes) -> None:
    info = tarfile.TarInfo(member)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


def _member_of(data_dir: str, uid: str, path: pathlib.Path) -> str:
    """Where a file goes in the archive: its place under the data directory, else a place by uid."""
    data = pathlib.Path(os.path.normpath(data_dir))
    normal = pathlib.Path(os.path.normpath(path))
    if data in normal.parents:
        return "files/" + normal.relative_to(data).as_posix()
    return f"external/{uid}/{normal.name}"


def _add_attachment_files(
    archive: tarfile.TarFile, data_dir: str, facts: SnapshotFacts, progress: Progress
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Every LOCAL file the snapshot references, once each; (recorded files, missing references)."""
    present: list[tuple[str, str, pathlib.Path, int]] = []
    missing: list[dict[str, str]] = []
    for ref in facts.local_files:
        path = local_file(data_dir, ref.reference)
        try:
            size = path.stat().st_size
        except OSError:
            missing.append({"uid": ref.uid, "reference": ref.reference})
            continue
        present.append((ref.uid, ref.reference, path, size))
    progress.start("attachments", sum(size for *_, size in present))
    recorded: list[dict[str, Any]] = []
    added: dict[pathlib.Path, dict[str, Any]] = {}
    for uid, reference, path, _ in present:
        entry = added.get(path)
        if entry is None:
            try:
                entry = _add_file(archive, path, _member_of(data_dir, uid, path), progress)
            except FileNotFoundError:
                missing.append({"uid": uid, "reference": reference})  # deleted while the backup ran
                continue
            except OSError as exc:
                raise OpsError(f"cannot read the attachment file {path}: {exc.strerror or exc}") from None
            added[path] = entry
        recorded.append({"uid": uid, "reference": reference, **entry})
    progress.finish()
    return recorded, missing


def _manifest(
    profile: Profile, facts: SnapshotFacts, database: dict[str, Any],
    files: list[dict[str, Any]], missing: list[dict[str, str]],
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "memos_version": __version__,
        "schema_version": facts.schema_version,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data_dir": os.path.normpath(profile.data),
        "database": {"name": pathlib.Path(profile.dsn).name, **database},
        "counts": {
            "users": facts.users,
            "memos": facts.memos,
            "attachments": facts.attachments,
            "local_files": len({entry["member"] for entry in files}),
        },
        "files": files,
        "missing_files": missing,
    }
