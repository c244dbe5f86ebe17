"""`GET /file/attachments/{uid}/{filename}`: an attachment's bytes, its thumbnail or its motion clip.

Who may read (server.md §13.3): an unlinked attachment only its creator or an
admin; a linked one whoever may see its memo, anonymous visitors too when the memo
is PUBLIC on a public instance or a live share link of that very memo is given.

Every answer goes through one implementation of byte ranges and conditional
requests (``memos.web.content``), whatever holds the bytes: a file on disk, the
database row (read in slices), or S3 (streamed through, or a redirect to a fresh
presigned link for audio and video, which players seek in). Uploaded bytes are
never trusted as markup: script-capable types are served as downloads, and every
answer forbids sniffing, framing and active content.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import BinaryIO

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from memos.api.memo.shares import memo_opened_by_share
from memos.gen.store import attachment_pb2
from memos.profile import Profile
from memos.storage.attachments import PRESIGN_SECONDS, AttachmentStorage
from memos.storage.local import local_file
from memos.storage.motion import MotionClipCache
from memos.storage.thumbnails import ThumbnailCache
from memos.store import (
    ROLE_ADMIN,
    STORAGE_LOCAL,
    STORAGE_S3,
    VISIBILITY_PRIVATE,
    VISIBILITY_PUBLIC,
    Attachment,
    FindAttachment,
    Store,
    User,
)
from memos.web.content import ContentSource, FileSource, content_response
from memos.web.errors import echo_error
from memos.web.files import FILE_CACHE_CONTROL, SECURITY_HEADERS, UNAUTHORIZED, file_caller

log = logging.getLogger("memos.web")

ATTACHMENT_NOT_FOUND = "attachment not found"
MEMO_NOT_FOUND = "memo not found"
FORBIDDEN = "forbidden access"
NO_MOTION_CLIP = "attachment does not have motion clip"
MOTION_CLIP_FAILED = "failed to get motion clip"

# Types a browser would run as a page or a script if it were served as itself.
_ACTIVE_TYPES = frozenset({
    "text/html", "text/javascript", "application/javascript", "application/x-javascript",
    "text/xml", "application/xml", "application/xhtml+xml",
})
THUMBNAIL_TYPES = frozenset({"image/png", "image/jpeg", "image/jpg", "image/heic", "image/heif", "image/webp"})
BLOB_SLICE = 256 * 1024


class AttachmentFiles:
    """The route's handler with what it needs: the store, the storage, and the derived-file caches."""

    def __init__(self, store: Store, profile: Profile, storage: AttachmentStorage) -> None:
        self._store = store
        self._profile = profile
        self._storage = storage
        self._thumbnails = ThumbnailCache(profile.data)
        self._motion_clips = MotionClipCache(profile.data)

    def close(self) -> None:
        self._thumbnails.close()

    async def serve(self, request: Request) -> Response:
        attachment = await self._store.attachments.get(FindAttachment(uid=request.path_params["uid"]))
        if attachment is None:
            return echo_error(404, ATTACHMENT_NOT_FOUND)
        refusal = await self._refusal(request, attachment)
        if refusal is not None:
            return refusal
        if request.query_params.get("motion") == "true":
            return await self._motion_clip(request, attachment)
        return await self._original_or_thumbnail(request, attachment)

    # --- who may read --------------------------------------------------------------------------

    async def _refusal(self, request: Request, attachment: Attachment) -> Response | None:
        """None when the caller may read the attachment, else the error answer (§13.3)."""
        if attachment.memo_id is None:
            caller = await file_caller(self._store, request)
            if caller is None:
                return echo_error(401, UNAUTHORIZED)
            return None if _owns(caller, attachment.creator_id) else echo_error(403, FORBIDDEN)
        memo = await self._store.memos.get_by_id(attachment.memo_id)
        if memo is None:
            return echo_error(404, MEMO_NOT_FOUND)
        if memo.visibility == VISIBILITY_PUBLIC and self._profile.is_public:
            return None
        token = request.query_params.get("share_token", "")
        if token:
            shared = await memo_opened_by_share(self._store, token)
            if shared is not None and shared.id == memo.id:
                return None
        caller = await file_caller(self._store, request)
        if caller is None:
            return echo_error(401, UNAUTHORIZED)
        if memo.visibility == VISIBILITY_PRIVATE and not _owns(caller, memo.creator_id):
            return echo_error(403, FORBIDDEN)
        return None

    # --- what is served --------------------------------------------------------------------------

    async def _original_or_thumbnail(self, request: Request, attachment: Attachment) -> Response:
        content_type = served_type(attachment.type)
        headers = response_headers(attachment.type)
        is_media = attachment.type.startswith(("video/", "audio/"))
        if is_media and attachment.storage_type == STORAGE_S3:
            # Players seek with many range requests: let them talk to S3 directly.
            return self._redirect_to_s3(attachment, headers)
        if not is_media and request.query_params.get("thumbnail") == "true" and attachment.type in THUMBNAIL_TYPES:
            thumbnail = await self._thumbnails.get(attachment.uid, attachment.type, lambda: self._read_all(attachment))
            if thumbnail is not None:
                source = FileSource(thumbnail)
                return content_response(source, request.headers, request.method, content_type="image/jpeg",
                                        headers=headers)
        if not is_media and not (content_type.startswith("image/") or content_type == "application/pdf"):
            headers["Content-Disposition"] = content_disposition(attachment.filename)
        return await self._original(request, attachment, content_type, headers)

    async def _original(
        self, request: Request, attachment: Attachment, content_type: str, headers: dict[str, str]
    ) -> Response:
        if attachment.storage_type == STORAGE_LOCAL:
            try:
                source: ContentSource = FileSource(
                    local_file(self._profile.data, attachment.reference), etag=entity_tag(attachment))
            except OSError:
                return PlainTextResponse("404 page not found", status_code=404)
        elif attachment.storage_type == STORAGE_S3:
            source = S3Source(self._storage, attachment)
        else:
            source = await BlobSource.of(self._store, attachment)
        return content_response(source, request.headers, request.method, content_type=content_type, headers=headers)

    async def _motion_clip(self, request: Request, attachment: Attachment) -> Response:
        motion = attachment.payload.motion_media if attachment.payload is not None else None
        if (
            motion is None
            or motion.family != attachment_pb2.ANDROID_MOTION_PHOTO
            or not motion.has_embedded_video
        ):
            return echo_error(400, NO_MOTION_CLIP)
        clip = await self._motion_clips.get(attachment.uid, lambda: self._read_all(attachment))
        if clip is None:
            return echo_error(500, MOTION_CLIP_FAILED)
        source = FileSource(clip)
        source.last_modified = float(attachment.updated_ts)
        headers = response_headers("video/mp4")
        return content_response(source, request.headers, request.method, content_type="video/mp4", headers=headers)

    # --- reading the bytes -----------------------------------------------------------------------

    async def _read_all(self, attachment: Attachment) -> BinaryIO | bytes:
        """The whole content, to make a thumbnail or a motion clip from (bounded by the upload limit)."""
        if attachment.storage_type == STORAGE_LOCAL:
            return local_file(self._profile.data, attachment.reference).open("rb")
        if attachment.storage_type == STORAGE_S3:
            source = S3Source(self._storage, attachment)
            return b"".join([chunk async for chunk in source.read(0, source.size)])
        size = await self._store.attachments.blob_size(attachment.id) or 0
        return await self._store.attachments.read_blob(attachment.id, 0, size)

    def _redirect_to_s3(self, attachment: Attachment, headers: dict[str, str]) -> Response:
        s3_object = attachment.payload.s3_object
        client = self._storage.s3_client(s3_object.s3_config)
        link = client.presign_get(s3_object.key, PRESIGN_SECONDS, dt.datetime.now(dt.UTC))
        return RedirectResponse(link, status_code=307, headers=headers)


class BlobSource:
    """An attachment kept in its database row, read in slices as the response is sent."""

    def __init__(self, store: Store, attachment: Attachment, size: int) -> None:
        self._store = store
        self._id = attachment.id
        self.size = size
        self.last_modified: float | None = float(attachment.updated_ts)
        self.etag: str | None = entity_tag(attachment)

    @classmethod
    async def of(cls, store: Store, attachment: Attachment) -> BlobSource:
        return cls(store, attachment, await store.attachments.blob_size(attachment.id) or 0)

    async def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        position = start
        while position < end:
            chunk = await self._store.attachments.read_blob(self._id, position, min(BLOB_SLICE, end - position))
            if not chunk:
                return
            yield chunk
            position += len(chunk)


class S3Source:
    """An attachment kept in S3, streamed through the server. The object is opened only once the
    response body is sent, so a 304, a HEAD or a refused range never opens a connection."""

    def __init__(self, storage: AttachmentStorage, attachment: Attachment) -> None:
        self._storage = storage
        self._s3_object = attachment.payload.s3_object
        self.size = attachment.size
        self.last_modified: float | None = float(attachment.updated_ts)
        self.etag: str | None = entity_tag(attachment)

    async def read(self, start: int, end: int) -> AsyncIterator[bytes]:
        client = self._storage.s3_client(self._s3_object.s3_config)
        position = 0
        async with await client.open_object(self._s3_object.key) as stream:
            async for chunk in stream:
                low, high = max(start - position, 0), min(end - position, len(chunk))
                position += len(chunk)
                if low < high:
                    yield chunk[low:high]
                if position >= end:
                    return


def entity_tag(attachment: Attachment) -> str:
    """The ETag of an attachment's original bytes, wherever they are kept: no API changes them, so its uid
    and size name them for good."""
    return f'"{attachment.uid}-{attachment.size}"'


def _owns(caller: User, owner_id: int) -> bool:
    return caller.id == owner_id or caller.role == ROLE_ADMIN


def served_type(stored_type: str) -> str:
    """The Content-Type an attachment of ``stored_type`` is served with."""
    if stored_type.lower() in _ACTIVE_TYPES:
        return "application/octet-stream"
    if stored_type.startswith("text/"):
        return f"{stored_type}; charset=utf-8"
    return stored_type or "application/octet-stream"


def response_headers(stored_type: str) -> dict[str, str]:
    headers = {**SECURITY_HEADERS, "Cache-Control": FILE_CACHE_CONTROL}
    if stored_type.startswith(("image/", "video/")):
        headers["Color-Gamut"] = "srgb, p3, rec2020"
    return headers


def content_disposition(filename: str) -> str:
    """``attachment; filename="..."`` with the name quoted as Go's %q would (plus an RFC 5987 form for non-ASCII)."""
    quoted = _go_quote(filename)
    header = f"attachment; filename={quoted}"
    if not filename.isascii():
        from urllib.parse import quote

        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return header


def _go_quote(text: str) -> str:
    escaped = []
    for char in text:
        if char in ('"', "\\"):
            escaped.append("\\" + char)
        elif char == "\n":
            escaped.append("\\n")
        elif char == "\r":
            escaped.append("\\r")
        elif char == "\t":
            escaped.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F or not char.isascii():
            # Header values must be ASCII: escape as Go does for non-printables.
            escaped.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'
