"""Android motion photos: a JPEG still with its short MP4 clip appended after the image.

The camera says so in the still's XMP (``Camera:MotionPhoto``, the older
``GCamera:MotionPhoto`` or ``GCamera:MicroVideo`` set to 1) and says where the
clip starts: ``MicroVideoOffset`` or the container directory's item length, both
counted back from the end of the file. When neither points at an MP4 ``ftyp``
box, the first such box after the JPEG's end of image is taken.

The file server extracts the clip once into ``<data>/.motion_cache/<uid>.mp4``.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import mmap
import pathlib
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO

from memos.storage.thumbnails import checked_uid, write_atomically

MOTION_DIR = ".motion_cache"
XMP_WINDOW = 256 * 1024
COPY_CHUNK = 1 << 20

Buffer = bytes | mmap.mmap

# `name="1"`, `name='1'` (attribute) or `<name>1</name>` (element).
_VALUE = rb"""(?:\s*=\s*["']|\s*>)\s*"""
_MOTION_FLAG = re.compile(rb"(?:Camera:MotionPhoto|MicroVideo)" + _VALUE + rb"""1\s*["'<]""")
_MICRO_VIDEO_OFFSET = re.compile(rb"MicroVideoOffset" + _VALUE + rb"(\d+)")
_TIMESTAMP = re.compile(
    rb"(?:MotionPhotoPresentationTimestampUs|MicroVideoPresentationTimestampUs)" + _VALUE + rb"(-?\d+)"
)
# One container directory item (an XML start tag) naming the motion photo video.
_MOTION_ITEM = re.compile(rb"""<[^<>]*Item:Semantic\s*=\s*["']MotionPhoto["'][^<>]*>""")
_ITEM_LENGTH = re.compile(rb"""Item:Length\s*=\s*["'](\d+)["']""")


@dataclass(frozen=True)
class MotionPhoto:
    video_offset: int  # where the MP4 starts in the file
    presentation_timestamp_us: int  # the still's time within the clip; 0 when the camera gives none


def detect_android_motion_photo(content: Buffer) -> MotionPhoto | None:
    """The embedded clip of an Android motion photo, or None when ``content`` is not one."""
    try:
        return _detect(content)
    except (IndexError, ValueError, OverflowError):
        return None


def _detect(content: Buffer) -> MotionPhoto | None:
    if content[:3] != b"\xff\xd8\xff":
        return None
    head = content[:XMP_WINDOW]
    if not _MOTION_FLAG.search(head):
        return None
    offset = next((at for at in _hinted_offsets(head, len(content)) if _is_ftyp_box(content, at)), None)
    if offset is None:
        offset = _scanned_offset(content)
    if offset is None:
        return None
    timestamp = _TIMESTAMP.search(head)
    return MotionPhoto(offset, int(timestamp.group(1)) if timestamp else 0)


def _hinted_offsets(head: bytes, size: int) -> list[int]:
    """Clip starts the XMP gives: each counted back from the end of the file."""
    lengths = [int(found.group(1)) for found in _MICRO_VIDEO_OFFSET.finditer(head)]
    for item in _MOTION_ITEM.finditer(head):
        length = _ITEM_LENGTH.search(item.group(0))
        if length:
            lengths.append(int(length.group(1)))
    return [size - length for length in lengths if 0 < length <= size]


def _is_ftyp_box(content: Buffer, at: int) -> bool:
    """Whether an MP4 file type box (size, ``ftyp``, a printable major brand) starts at ``at``."""
    if at < 0 or at + 12 > len(content):
        return False
    header = content[at:at + 12]
    box_size = int.from_bytes(header[:4], "big")
    return header[4:8] == b"ftyp" and 16 <= box_size <= 4096 and all(0x20 <= byte < 0x7F for byte in header[8:12])


def _scanned_offset(content: Buffer) -> int | None:
    """The first ``ftyp`` box after the still's end of image."""
    end_of_image = _end_of_image(content)
    if end_of_image is None:
        return None
    at = content.find(b"ftyp", end_of_image)
    while at >= 0:
        if _is_ftyp_box(content, at - 4):
            return at - 4
        at = content.find(b"ftyp", at + 1)
    return None


def _end_of_image(content: Buffer) -> int | None:
    """The offset just past the JPEG's EOI marker: segments skipped, then the scan searched.

    Segments are skipped by their lengths because the EXIF thumbnail inside one
    has an end-of-image marker of its own; inside the scan, 0xFF is always
    followed by 0x00 or a restart marker, so the first FF D9 there is the end.
    """
    at = 2
    while at + 4 <= len(content):
        if content[at] != 0xFF:
            return None
        marker = content[at + 1]
        if marker == 0xFF:
            at += 1
            continue
        if marker == 0xD9:
            return at + 2
        if marker == 0xDA:
            found = content.find(b"\xff\xd9", at + 2)
            return found + 2 if found >= 0 else None
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            at += 2
            continue
        at += 2 + int.from_bytes(content[at + 2:at + 4], "big")
    return None


def mp4_end(content: Buffer, start: int) -> int:
    """Where the MP4 at ``start`` ends: its top-level boxes walked; trailing non-box bytes excluded.

    Some cameras append their own trailer after the clip; a player does not need it.
    """
    at = start
    while at + 8 <= len(content):
        size = int.from_bytes(content[at:at + 4], "big")
        kind = content[at + 4:at + 8]
        if not all(0x20 <= byte < 0x7F for byte in kind):
            break
        if size == 1:  # a 64-bit size follows the type
            if at + 16 > len(content):
                break
            size = int.from_bytes(content[at + 8:at + 16], "big")
        elif size == 0:  # the box runs to the end of the file
            return len(content)
        if size < 8 or at + size > len(content):
            break
        at += size
    return at if at > start else len(content)


class MotionClipCache:
    """The clips of Android motion photo attachments, extracted once, by uid."""

    def __init__(self, data_dir: str) -> None:
        self.directory = pathlib.Path(data_dir) / MOTION_DIR

    def path(self, uid: str) -> pathlib.Path:
        return self.directory / f"{checked_uid(uid)}.mp4"

    def remove(self, uid: str) -> None:
        self.path(uid).unlink(missing_ok=True)

    async def get(self, uid: str, read_source: Callable[[], Awaitable[BinaryIO | bytes]]) -> pathlib.Path | None:
        """The cached clip of ``uid``, extracted now if missing; None when the still holds no clip.

        Errors reading or writing propagate: the file server answers them with a 500.
        """
        target = self.path(uid)
        if target.is_file():
            return target
        source = await read_source()
        try:
            found = await asyncio.to_thread(extract_motion_clip, source, target)
        finally:
            if not isinstance(source, bytes):
                source.close()
        return target if found else None


def extract_motion_clip(source: BinaryIO | bytes, target: pathlib.Path) -> bool:
    """Write the clip embedded in ``source`` to ``target`` (atomically); False when there is none.

    A real file is mapped rather than read, so a large still is never held in memory whole.
    """
    with _buffer(source) as content:
        motion = detect_android_motion_photo(content)
        if motion is None:
            return False
        end = mp4_end(content, motion.video_offset)

        def copy(output: IO[bytes]) -> None:
            for at in range(motion.video_offset, end, COPY_CHUNK):
                output.write(content[at:min(at + COPY_CHUNK, end)])

        write_atomically(target, copy)
        return True


@contextlib.contextmanager
def _buffer(source: BinaryIO | bytes) -> Iterator[Buffer]:
    if isinstance(source, bytes):
        yield source
        return
    try:
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, io.UnsupportedOperation):
        yield source.read()  # not a plain file (or empty): its bytes are bounded by the upload limit
        return
    with mapped:
        yield mapped
