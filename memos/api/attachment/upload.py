"""What a new upload must be before anything is stored (spec §6.1, steps 2-6), and what is done to
its bytes on the way in (motion-photo detection, private metadata dropped).

Each check raises INVALID_ARGUMENT with the message Memos gives, so clients that match on
the text keep working; the size message also says the limit, which Memos leaves out.
"""
from __future__ import annotations

import asyncio

from memos.call import Code, RpcError
from memos.gen.api.v1 import attachment_service_pb2 as api
from memos.gen.store import attachment_pb2 as store_pb
from memos.storage.images import strip_private_metadata
from memos.storage.motion import detect_android_motion_photo
from memos.storage.sniff import detect_content_type, normalise_media_type, type_from_filename

MIB = 1024 * 1024
# The STORAGE setting's upload limit when it says 0 (the store fills it in too; a row
# written by hand may still hold 0).
DEFAULT_UPLOAD_LIMIT_MB = 30
OCTET_STREAM = "application/octet-stream"
# Only a JPEG can be an Android motion photo (a still with an MP4 appended).
_JPEG_TYPES = frozenset({"image/jpeg", "image/jpg"})


def _invalid(message: str) -> RpcError:
    return RpcError(Code.INVALID_ARGUMENT, message)


# --- step 2: the filename ------------------------------------------------------------------------


def check_filename(filename: str) -> None:
    """INVALID_ARGUMENT unless ``filename`` is one plain file name (spec §6.1 step 2)."""
    if not filename:
        raise _invalid("filename is required")
    if not is_valid_filename(filename):
        raise _invalid("filename contains invalid characters or format")


def is_valid_filename(filename: str) -> bool:
    """One path segment, not ``..``, not starting or ending with a space or a dot.

    The name may end up in a file path (the LOCAL filepath template), so control
    characters are refused too: a NUL byte could not even be written to disk.
    """
    if not filename or "/" in filename or "\\" in filename:
        return False
    if filename[0] in " ." or filename[-1] in " .":
        return False  # also covers "." and ".."
    return not any(ord(char) < 0x20 or ord(char) == 0x7F for char in filename)


# --- step 3: the media type -----------------------------------------------------------------------


def choose_type(given: str, filename: str, content: bytes) -> str:
    """The type to store: the client's, else the one the extension stands for, else the sniffed one;
    lower-cased ``type/subtype`` without parameters (``audio/webm;codecs=opus`` -> ``audio/webm``)."""
    chosen = given or type_from_filename(filename) or detect_content_type(content) or OCTET_STREAM
    normalised = normalise_media_type(chosen)
    if normalised is None:
        raise _invalid("invalid MIME type format")
    return normalised


# --- step 5: motion metadata the client sends ----------------------------------------------------------


def client_motion(attachment: api.Attachment) -> store_pb.MotionMedia | None:
    """The Apple Live Photo half the client says this upload is, as stored; None when it says nothing.

    Only Apple Live Photos are described by clients (their still and video arrive as two
    uploads sharing a ``group_id``); an Android motion photo is recognised from its bytes.
    """
    if not attachment.HasField("motion_media"):
        return None
    motion = attachment.motion_media
    if motion.family != api.APPLE_LIVE_PHOTO:
        raise _invalid("only Apple Live Photo motion metadata can be provided by clients")
    if motion.role not in (api.STILL, api.VIDEO):
        raise _invalid("invalid Apple Live Photo motion role")
    if not motion.group_id:
        raise _invalid("motion media group_id is required")
    stored = store_pb.MotionMedia()
    # The API and store messages share field numbers, so the bytes carry over unchanged.
    stored.ParseFromString(motion.SerializeToString())
    return stored


# --- step 6: the size --------------------------------------------------------------------------------


def upload_limit_mb(setting_mb: int) -> int:
    return setting_mb if setting_mb > 0 else DEFAULT_UPLOAD_LIMIT_MB


def check_size(length: int, setting_mb: int) -> None:
    """INVALID_ARGUMENT when ``length`` raw bytes exceed the instance's upload limit (in MiB)."""
    limit_mb = upload_limit_mb(setting_mb)
    if length > limit_mb * MIB:
        raise _invalid(f"file size exceeds the limit: {length} bytes, the limit is {limit_mb} MiB")


# --- the bytes ------------------------------------------------------------------------------------------


def android_motion(content: bytes, content_type: str, uid: str) -> store_pb.MotionMedia | None:
    """The motion metadata of a JPEG that carries an Android motion photo's MP4; None for anything else."""
    if content_type not in _JPEG_TYPES:
        return None
    found = detect_android_motion_photo(content)
    if found is None:
        return None
    return store_pb.MotionMedia(
        family=store_pb.ANDROID_MOTION_PHOTO,
        role=store_pb.CONTAINER,
        group_id=uid,  # a container is its own group of one
        has_embedded_video=True,
        presentation_timestamp_us=found.presentation_timestamp_us,
    )


def processed_content(
    content: bytes, content_type: str, uid: str, motion: store_pb.MotionMedia | None
) -> tuple[bytes, store_pb.MotionMedia | None]:
    """The bytes to store and the motion metadata, after detection and metadata stripping (blocking).

    An Android motion container is stored as it came: its XMP holds the offset of the video,
    and the video is what the motion route serves.
    """
    if motion is None:
        motion = android_motion(content, content_type, uid)
    if motion is not None and motion.family == store_pb.ANDROID_MOTION_PHOTO:
        return content, motion
    return strip_private_metadata(content, content_type), motion


class ContentPipeline:
    """Runs ``processed_content`` off the event loop, at most ``concurrency`` uploads at once
    (each may hold a second copy of a large image while it is rewritten)."""

    def __init__(self, concurrency: int = 2) -> None:
        self._gate = asyncio.Semaphore(concurrency)

    async def process(
        self, content: bytes, content_type: str, uid: str, motion: store_pb.MotionMedia | None
    ) -> tuple[bytes, store_pb.MotionMedia | None]:
        if not content_type.startswith("image/"):
            return content, motion  # nothing to detect or strip: no thread, no wait
        async with self._gate:
            return await asyncio.to_thread(processed_content, content, content_type, uid, motion)
