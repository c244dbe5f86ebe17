"""`memos import`: a zip made by `memos export`, or a folder of plain Markdown files.

Everything is read and checked before the first write: a bad file stops the import
with one line naming it (exit status 2) and nothing stored. Memos are then written
as the API writes them (tags, properties, snippet and HTML derived by ``memos.markdown``)
and attachments saved through the instance's STORAGE setting. Should anything fail
midway (Ctrl-C included), every memo and attachment already imported is removed again.

- zip: uids are kept unless taken (then new ones), comments stay on their memo,
  references between memos are kept; each memo goes to the user of its ``creator``,
  or to ``--user`` when given.
- folder: every ``*.md``/``*.markdown`` file (searched recursively) becomes one private
  memo of ``--user``, its whole text the content, its modification time the creation time.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import pathlib
import zipfile
from collections.abc import Sequence
from typing import Any

from memos.api.ids import short_uuid
from memos.gen.store import attachment_pb2, memo_pb2
from memos.markdown import HTML_VERSION, derive, fill_payload
from memos.ops.common import OpsError, Progress, bad_input, open_store
from memos.ops.export import FORMAT, MANIFEST
from memos.ops.frontmatter import FrontMatterError, parse
from memos.profile import Profile
from memos.storage.attachments import AttachmentStorage, StorageUnavailable
from memos.store import (
    RELATION_COMMENT,
    ROW_STATUS_ARCHIVED,
    STORAGE_EXTERNAL,
    VISIBILITIES,
    VISIBILITY_PRIVATE,
    AttachmentRef,
    CreateAttachment,
    CreateMemo,
    FindAttachment,
    FindUser,
    NotFound,
    Store,
    StoreError,
    UpdateMemo,
    User,
)
from memos.store.codec import is_valid_uid

MEMO_FILE_LIMIT = 16 * 1024 * 1024
MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclasses.dataclass
class PlannedAttachment:
    uid: str
    filename: str
    type: str
    size: int
    member: str | None  # zip entry holding the bytes; None for an external link
    sha256: str
    link: str
    created_ts: int | None
    updated_ts: int | None


@dataclasses.dataclass
class PlannedMemo:
    source: str  # the file it came from, for messages
    uid: str
    creator: str
    content: str
    created_ts: int | None
    updated_ts: int | None
    visibility: str = VISIBILITY_PRIVATE
    pinned: bool = False
    archived: bool = False
    location: tuple[str, float, float] | None = None
    parent: str | None = None
    references: list[str] = dataclasses.field(default_factory=list)
    attachments: list[PlannedAttachment] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, slots=True)
class ImportSummary:
    memos: int
    attachments: int


async def run_import(profile: Profile, source: pathlib.Path, username: str | None, progress: Progress) -> ImportSummary:
    if source.is_dir():
        if not username:
            raise bad_input("importing a folder of Markdown files needs --user NAME (who receives the memos)")
        plan, archive = read_folder(source), None
    elif source.is_file():
        archive = _open_export(source)
        plan = read_export(archive, source)
    else:
        raise bad_input(f"{source} is neither a file nor a folder")
    try:
        store = await open_store(profile)
        storage = AttachmentStorage(profile.data)
        try:
            importer = _Importer(store, storage, archive, progress)
            await importer.resolve_creators(plan, username)
            return await importer.run(plan)
        finally:
            await storage.close()
            await store.close()
    finally:
        if archive is not None:
            archive.close()


# --- reading and checking -------------------------------------------------------------------


def _open_export(path: pathlib.Path) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise bad_input(f"{path} is not a zip made by 'memos export' (nor a folder of Markdown files)") from None
    manifest = None
    if MANIFEST in archive.namelist():
        try:
            manifest = json.loads(_read_entry(archive, MANIFEST, path))
        except (ValueError, OpsError):
            manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        archive.close()
        raise bad_input(f"{path} is a zip but not one made by 'memos export' (no valid {MANIFEST})")
    return archive


def _read_entry(archive: zipfile.ZipFile, name: str, path: pathlib.Path, limit: int = MEMO_FILE_LIMIT) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise bad_input(f"{path} lacks {name}") from None
    if info.file_size > limit:
        raise bad_input(f"{name} in {path} is larger than {limit // (1024 * 1024)} MiB")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise bad_input(f"{name} in {path} cannot be read: {exc}") from None


def read_export(archive: zipfile.ZipFile, path: pathlib.Path) -> list[PlannedMemo]:
    plan = []
    names = set(archive.namelist())
    for name in sorted(names):
        if name.startswith("memos/") and name.endswith(".md"):
            text = _decode(_read_entry(archive, name, path), name)
            try:
                fields, content = parse(text)
                plan.append(_planned_from_fields(name, fields, content, names))
            except (FrontMatterError, TypeError, ValueError) as exc:
                raise bad_input(f"{name} in {path}: {exc}") from None
    return plan


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise bad_input(f"{name} is not UTF-8 text") from None


def _seconds(value: Any, key: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be an RFC 3339 time")
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def _text(fields: dict[str, Any], key: str, default: str = "") -> str:
    value = fields.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _planned_from_fields(name: str, fields: dict[str, Any], content: str, names: set[str]) -> PlannedMemo:
    visibility = _text(fields, "visibility", VISIBILITY_PRIVATE)
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    location = fields.get("location")
    where = None
    if isinstance(location, dict):
        where = (str(location.get("placeholder", "")), float(location.get("latitude", 0)),
                 float(location.get("longitude", 0)))
    references = fields.get("relations") or []
    if not isinstance(references, list) or not all(isinstance(uid, str) for uid in references):
        raise ValueError("relations must be a list of memo uids")
    return PlannedMemo(
        source=name,
        uid=_text(fields, "uid"),
        creator=_text(fields, "creator"),
        content=content,
        created_ts=_seconds(fields.get("created"), "created"),
        updated_ts=_seconds(fields.get("updated"), "updated"),
        visibility=visibility,
        pinned=bool(fields.get("pinned", False)),
        archived=bool(fields.get("archived", False)),
        location=where,
        parent=_text(fields, "parent") or None,
        references=list(references),
        attachments=[_planned_attachment(entry, names) for entry in fields.get("attachments") or []],
    )


def _planned_attachment(entry: Any, names: set[str]) -> PlannedAttachment:
    if not isinstance(entry, dict):
        raise ValueError("each attachment must be an object")
    member = _text(entry, "path") or None
    link = _text(entry, "link")
    if member is None and not link:
        raise ValueError("an attachment needs a path or a link")
    if member is not None and member not in names:
        raise ValueError(f"its attachment {member} is missing from the zip")
    return PlannedAttachment(
        uid=_text(entry, "uid"),
        filename=_text(entry, "filename") or "file",
        type=_text(entry, "type") or "application/octet-stream",
        size=int(entry.get("size") or 0),
        member=member,
        sha256=_text(entry, "sha256"),
        link=link,
        created_ts=_seconds(entry.get("created"), "created"),
        updated_ts=_seconds(entry.get("updated"), "updated"),
    )


def read_folder(folder: pathlib.Path) -> list[PlannedMemo]:
    files = sorted(
        path for path in folder.rglob("*")
        if path.suffix.lower() in MARKDOWN_SUFFIXES and path.is_file() and not path.name.startswith(".")
    )
    if not files:
        raise bad_input(f"{folder} holds no Markdown files (*.md, *.markdown)")
    plan = []
    for path in files:
        stat = path.stat()
        if stat.st_size > MEMO_FILE_LIMIT:
            raise bad_input(f"{path} is larger than {MEMO_FILE_LIMIT // (1024 * 1024)} MiB")
        content = _decode(path.read_bytes(), str(path))
        if not content.strip():
            continue
        plan.append(PlannedMemo(source=str(path), uid="", creator="", content=content,
                                created_ts=int(stat.st_mtime), updated_ts=int(stat.st_mtime)))
    return plan


def _in_creation_order(plan: Sequence[PlannedMemo]) -> list[PlannedMemo]:
    """Memos before their comments (a comment's parent may itself be a comment, exported later)."""
    by_uid = {memo.uid: memo for memo in plan if memo.uid}
    ordered: list[PlannedMemo] = []
    placed: set[int] = set()

    def place(memo: PlannedMemo, depth: int) -> None:
        if id(memo) in placed:
            return
        parent = by_uid.get(memo.parent or "")
        if parent is not None and parent is not memo and depth < len(plan):
            place(parent, depth + 1)
        placed.add(id(memo))
        ordered.append(memo)

    for memo in plan:
        place(memo, 0)
    return ordered


# --- writing ---------------------------------------------------------------------------------


class _Importer:
    def __init__(
        self, store: Store, storage: AttachmentStorage, archive: zipfile.ZipFile | None, progress: Progress
    ) -> None:
        self._store = store
        self._storage = storage
        self._archive = archive
        self._progress = progress
        self._creators: dict[str, User] = {}
        self._created: list[int] = []  # memo ids, in creation order
        self._new_ids: dict[str, int] = {}  # uid in the source -> id of the memo made from it
        self.attachments = 0

    async def resolve_creators(self, plan: Sequence[PlannedMemo], username: str | None) -> None:
        """Who receives each memo; bad input when a user is missing, before anything is written."""
        wanted = {username} if username else {memo.creator for memo in plan}
        missing = []
        for name in sorted(wanted):
            user = await self._store.users.get(FindUser(username=name)) if name else None
            if user is None:
                missing.append(name or "(none)")
            else:
                self._creators[name] = user
        if missing:
            hint = "" if username else "; create them first, or pass --user NAME to import everything as one user"
            raise bad_input(f"no user named {', '.join(missing)} on this instance{hint}")
        if username:
            for memo in plan:
                memo.creator = username

    async def run(self, plan: Sequence[PlannedMemo]) -> ImportSummary:
        ordered = _in_creation_order(plan)
        self._progress.start("importing", len(ordered), unit="memos")
        try:
            for memo in ordered:
                await self._create(memo)
                self._progress.advance(1)
            for memo in ordered:
                await self._link_references(memo)
        except BaseException as error:
            self._progress.finish()
            await self._undo()
            if isinstance(error, StoreError):
                raise OpsError(f"the import failed and was undone: {error}") from None
            raise
        self._progress.finish()
        return ImportSummary(len(ordered), self.attachments)

    async def _free_memo_uid(self, wanted: str) -> str:
        if wanted and is_valid_uid(wanted) and wanted not in self._new_ids:
            if await self._store.memos.get_by_uid(wanted) is None:
                return wanted
        return short_uuid()

    async def _create(self, planned: PlannedMemo) -> None:
        creator = self._creators[planned.creator]
        derived = derive(planned.content)
        payload = memo_pb2.MemoPayload()
        fill_payload(payload, derived)
        if planned.location is not None:
            placeholder, latitude, longitude = planned.location
            payload.location.CopyFrom(
                memo_pb2.MemoPayload.Location(placeholder=placeholder, latitude=latitude, longitude=longitude)
            )
        parent_id = await self._parent_id(planned)
        memo = await self._store.memos.create(CreateMemo(
            uid=await self._free_memo_uid(planned.uid),
            creator_id=creator.id,
            content=planned.content,
            visibility=planned.visibility,
            payload=payload,
            created_ts=planned.created_ts,
            updated_ts=planned.updated_ts,
            relations=((parent_id, RELATION_COMMENT),) if parent_id is not None else (),
        ))
        self._created.append(memo.id)
        if planned.uid:
            self._new_ids[planned.uid] = memo.id
        await self._store.memo_html.put(memo.id, memo.content, derived.html, HTML_VERSION)
        if planned.pinned or planned.archived:
            await self._store.memos.update(UpdateMemo(
                id=memo.id, pinned=planned.pinned or None,
                row_status=ROW_STATUS_ARCHIVED if planned.archived else None, updated_ts=memo.updated_ts,
            ))
        for attachment in planned.attachments:
            await self._attach(attachment, memo.id, creator)

    async def _existing_memo_id(self, uid: str) -> int | None:
        if uid in self._new_ids:
            return self._new_ids[uid]
        existing = await self._store.memos.get_by_uid(uid) if is_valid_uid(uid) else None
        return existing.id if existing is not None else None

    async def _parent_id(self, planned: PlannedMemo) -> int | None:
        if not planned.parent:
            return None
        parent_id = await self._existing_memo_id(planned.parent)
        if parent_id is None:
            self._progress.line(f"note: {planned.source} comments on memo {planned.parent}, which is not here; "
                                "imported as a memo of its own")
        return parent_id

    async def _link_references(self, planned: PlannedMemo) -> None:
        if not planned.references or planned.uid not in self._new_ids:
            return
        targets = [target for uid in planned.references if (target := await self._existing_memo_id(uid)) is not None]
        if targets:
            await self._store.memo_relations.replace_references(self._new_ids[planned.uid], targets)

    async def _free_attachment_uid(self, wanted: str) -> str:
        if wanted and is_valid_uid(wanted) and await self._store.attachments.get(FindAttachment(uid=wanted)) is None:
            return wanted
        return short_uuid()

    async def _attach(self, planned: PlannedAttachment, memo_id: int, creator: User) -> None:
        uid = await self._free_attachment_uid(planned.uid)
        create = CreateAttachment(
            uid=uid, creator_id=creator.id, filename=planned.filename, type=planned.type, size=planned.size,
            memo_id=memo_id, created_ts=planned.created_ts, updated_ts=planned.updated_ts,
        )
        if planned.member is None:
            await self._store.attachments.create(
                dataclasses.replace(create, storage_type=STORAGE_EXTERNAL, reference=planned.link)
            )
            return
        content = self._bytes_of(planned)
        setting = (await self._store.instance_settings.get("STORAGE")).storage_setting
        try:
            stored = await self._storage.save(
                setting, uid=uid, filename=planned.filename, content_type=planned.type, content=content,
                now=dt.datetime.now().astimezone(),
            )
        except StorageUnavailable as exc:
            raise OpsError(f"attachment {planned.filename} could not be stored: {exc}") from None
        payload = attachment_pb2.AttachmentPayload()
        if stored.s3_object is not None:
            payload.s3_object.CopyFrom(stored.s3_object)
        try:
            await self._store.attachments.create(dataclasses.replace(
                create, size=len(content), storage_type=stored.storage_type, reference=stored.reference,
                payload=payload, blob=stored.blob,
            ))
        except BaseException:
            await self._storage.remove([AttachmentRef(0, uid, stored.storage_type, stored.reference, payload)])
            raise
        self.attachments += 1

    def _bytes_of(self, planned: PlannedAttachment) -> bytes:
        # Whole, like an upload: saving takes bytes, and an attachment is bounded by the upload limit.
        assert self._archive is not None and planned.member is not None
        try:
            content = self._archive.read(planned.member)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise bad_input(f"{planned.member} cannot be read from the zip: {exc}") from None
        if planned.sha256 and hashlib.sha256(content).hexdigest() != planned.sha256:
            raise bad_input(f"{planned.member} does not match its checksum; the zip is damaged")
        return content

    async def _undo(self) -> None:
        """Remove what this import wrote: its memos (comments go with them) and their attachments' bytes."""
        removed: list[AttachmentRef] = []
        for memo_id in reversed(self._created):
            try:
                removed.extend(await self._store.memos.delete(memo_id))
            except NotFound:
                continue
        await self._storage.remove(removed)
