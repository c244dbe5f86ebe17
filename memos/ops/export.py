"""`memos export`: memos as Markdown files with front matter, with their attachments, in one zip.

Zip layout::

    memos/<uid>.md                       one memo (comments too), see ``frontmatter``
    attachments/<uid>/<file name>        an attachment's bytes, whatever storage held them
    memos-export.json                    written last: format, versions, who, counts

Front matter keys: uid, creator (username), created, updated (RFC 3339, UTC),
visibility, pinned, archived, tags, location (null or placeholder/latitude/longitude),
parent (the uid a comment belongs to, or null), relations (REFERENCEs: uids),
attachments (uid, filename, type, size, and either path + sha256 or link).

With ``--user`` the zip holds that user's memos and comments, and every comment on
those memos by anyone; otherwise every memo of the instance. Memos are read a page at a
time and attachment bytes are streamed (database blobs in slices, S3 objects as they
arrive), so memory stays bounded whatever the instance's size.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import pathlib
import re
import zipfile
from collections.abc import Sequence
from typing import IO, Any

from memos import __version__
from memos.ops.common import OpsError, Progress, bad_input, file_written_whole, open_store
from memos.ops.frontmatter import render
from memos.profile import Profile
from memos.storage.attachments import AttachmentStorage
from memos.storage.local import local_file
from memos.store import (
    RELATION_COMMENT,
    RELATION_REFERENCE,
    ROW_STATUS_ARCHIVED,
    STORAGE_DATABASE,
    STORAGE_EXTERNAL,
    STORAGE_LOCAL,
    STORAGE_S3,
    Attachment,
    FindMemo,
    FindUser,
    LinkedRelation,
    Memo,
    Store,
    User,
)

FORMAT = "memos-export"
FORMAT_VERSION = 1
MANIFEST = "memos-export.json"
PAGE = 200
SLICE = 256 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class ExportSummary:
    path: pathlib.Path
    memos: int
    attachments: int


def default_export_name(now: dt.datetime) -> str:
    return f"memos-export-{now.strftime('%Y%m%d-%H%M%S')}.zip"


def rfc3339(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat().replace("+00:00", "Z")


def safe_filename(name: str) -> str:
    """A file name fit for a zip entry: no directories, no control characters, never empty."""
    base = re.sub(r"[\x00-\x1f/\\]", "_", name).strip(". ")
    return base[:200] or "file"


async def run_export(profile: Profile, output: pathlib.Path, username: str | None, progress: Progress) -> ExportSummary:
    output = output.absolute()
    store = await open_store(profile)
    storage = AttachmentStorage(profile.data)
    try:
        owner = None
        if username:
            owner = await store.users.get(FindUser(username=username))
            if owner is None:
                raise bad_input(f"there is no user named {username!r}")
        with file_written_whole(output) as temporary, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as zf:
            writer = _Exporter(store, storage, profile.data, zf, progress)
            await writer.export(owner)
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "memos_version": __version__,
                "exported_at": rfc3339(int(dt.datetime.now(dt.UTC).timestamp())),
                "user": owner.username if owner else None,
                "memos": writer.memos,
                "attachments": writer.attachments,
            }
            zf.writestr(MANIFEST, json.dumps(manifest, indent=2))
    finally:
        await storage.close()
        await store.close()
    return ExportSummary(output, writer.memos, writer.attachments)


class _Exporter:
    def __init__(
        self, store: Store, storage: AttachmentStorage, data_dir: str, zf: zipfile.ZipFile, progress: Progress
    ) -> None:
        self._store = store
        self._storage = storage
        self._data_dir = data_dir
        self._zf = zf
        self._progress = progress
        self._usernames: dict[int, str] = {}
        self._written: set[int] = set()
        self.memos = 0
        self.attachments = 0

    async def export(self, owner: User | None) -> None:
        scope = FindMemo(
            creator_id=owner.id if owner else None, row_status=None, exclude_comments=False,
            time_field="created_ts", ascending=True,
        )
        self._progress.start("exporting", await self._store.memos.count(scope), unit="memos")
        others_comments: list[int] = []
        offset = 0
        while page := await self._store.memos.find(dataclasses.replace(scope, limit=PAGE, offset=offset)):
            offset += len(page)
            relations = await self._write_page(page)
            if owner is not None:
                others_comments.extend(_comments_by_others(relations, owner.id))
        # Comments others left on the user's memos belong with them.
        wanted = [memo_id for memo_id in dict.fromkeys(others_comments) if memo_id not in self._written]
        for start in range(0, len(wanted), PAGE):
            ids = wanted[start:start + PAGE]
            await self._write_page(await self._store.memos.find(
                FindMemo(ids=ids, row_status=None, exclude_comments=False, time_field="created_ts", ascending=True)
            ))
        self._progress.finish()

    async def _write_page(self, page: Sequence[Memo]) -> dict[int, list[LinkedRelation]]:
        ids = [memo.id for memo in page]
        relations = await self._store.memo_relations.find_for_memos(ids)
        attachments = await self._store.attachments.find_by_memo_ids(ids)
        for memo in page:
            if memo.id in self._written:
                continue
            self._written.add(memo.id)
            await self._write_memo(memo, relations[memo.id], attachments[memo.id])
            self._progress.advance(1)
        return relations

    async def _write_memo(self, memo: Memo, relations: list[LinkedRelation], attachments: list[Attachment]) -> None:
        outgoing = [relation for relation in relations if relation.memo.id == memo.id]
        parent = next((r.related_memo.uid for r in outgoing if r.type == RELATION_COMMENT), None)
        payload = memo.payload
        location = None
        if payload.HasField("location"):
            where = payload.location
            location = {"placeholder": where.placeholder, "latitude": where.latitude, "longitude": where.longitude}
        fields: dict[str, Any] = {
            "uid": memo.uid,
            "creator": await self._username(memo.creator_id),
            "created": rfc3339(memo.created_ts),
            "updated": rfc3339(memo.updated_ts),
            "visibility": memo.visibility,
            "pinned": memo.pinned,
            "archived": memo.row_status == ROW_STATUS_ARCHIVED,
            "tags": list(payload.tags),
            "location": location,
            "parent": parent,
            "relations": [r.related_memo.uid for r in outgoing if r.type == RELATION_REFERENCE],
            "attachments": [await self._write_attachment(attachment) for attachment in attachments],
        }
        self._zf.writestr(f"memos/{memo.uid}.md", render(fields, memo.content))
        self.memos += 1

    async def _username(self, user_id: int) -> str:
        if user_id not in self._usernames:
            user = await self._store.users.get(FindUser(id=user_id))
            self._usernames[user_id] = user.username if user else ""
        return self._usernames[user_id]

    async def _write_attachment(self, attachment: Attachment) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "uid": attachment.uid,
            "filename": attachment.filename,
            "type": attachment.type,
            "size": attachment.size,
            "created": rfc3339(attachment.created_ts),
            "updated": rfc3339(attachment.updated_ts),
        }
        if attachment.storage_type == STORAGE_EXTERNAL:
            return {**entry, "link": attachment.reference}
        path = f"attachments/{attachment.uid}/{safe_filename(attachment.filename)}"
        info = zipfile.ZipInfo(path, date_time=_zip_time(attachment.updated_ts))
        info.compress_type = zipfile.ZIP_STORED  # photos and videos are compressed already
        digest = hashlib.sha256()
        size = 0
        with self._zf.open(info, "w", force_zip64=True) as out:
            async for chunk in self._content(attachment):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self.attachments += 1
        return {**entry, "size": size, "path": path, "sha256": digest.hexdigest()}

    async def _content(self, attachment: Attachment) -> Any:
        """The attachment's bytes in chunks, from wherever they are kept."""
        if attachment.storage_type == STORAGE_LOCAL:
            path = local_file(self._data_dir, attachment.reference)
            try:
                file: IO[bytes] = path.open("rb")
            except OSError as exc:
                raise OpsError(
                    f"the file of attachment {attachment.uid} ({path}) cannot be read: {exc.strerror or exc}"
                ) from None
            with file:
                while chunk := file.read(SLICE):
                    yield chunk
        elif attachment.storage_type == STORAGE_S3:
            async for chunk in self._s3_content(attachment):
                yield chunk
        elif attachment.storage_type == STORAGE_DATABASE:
            size = await self._store.attachments.blob_size(attachment.id) or 0
            for offset in range(0, size, SLICE):
                yield await self._store.attachments.read_blob(attachment.id, offset, SLICE)
        else:
            raise OpsError(f"attachment {attachment.uid} has an unknown storage type {attachment.storage_type!r}")

    async def _s3_content(self, attachment: Attachment) -> Any:
        from memos.storage.s3 import S3Error

        s3_object = attachment.payload.s3_object if attachment.payload is not None else None
        if s3_object is None or not s3_object.key:
            raise OpsError(f"attachment {attachment.uid} is kept in S3 but records no object key")
        try:
            obj = await self._storage.s3_client(s3_object.s3_config).open_object(s3_object.key)
            async for chunk in obj:
                yield chunk
        except S3Error as exc:
            raise OpsError(f"attachment {attachment.uid} cannot be read from S3: {exc}") from None


def _comments_by_others(relations: dict[int, list[LinkedRelation]], owner_id: int) -> list[int]:
    return [
        relation.memo.id
        for memo_id, linked in relations.items()
        for relation in linked
        if relation.type == RELATION_COMMENT and relation.related_memo.id == memo_id
        and relation.memo.creator_id != owner_id
    ]


def _zip_time(seconds: int) -> tuple[int, int, int, int, int, int]:
    moment = dt.datetime.fromtimestamp(max(seconds, 315532800), dt.UTC)  # zip dates start in 1980
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
