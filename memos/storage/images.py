"""Privacy on upload: the metadata a photo carries (GPS, camera, owner, dates) is dropped
from the file's container, without decoding a pixel.

Memos re-encodes JPEG/TIFF/WebP/HEIC uploads as JPEG to lose their EXIF; that costs
quality, CPU and memory, and loses colour profiles and the video of motion photos.
Here only the metadata segments of JPEG, PNG and WebP are removed; the compressed
image data is copied byte for byte, so pixels are identical. The Orientation tag is
the one piece of EXIF kept (a minimal EXIF block), so photos still display upright.

TIFF, HEIC and HEIF are stored unchanged: their metadata lives in structures that
offsets all over the file point into, and neither Memos nor this server can decode
them to re-encode (Memos' TIFF path re-encodes; a browser cannot show TIFF anyway).
"""
from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

ORIENTATION_TAG = 0x0112
EXIF_HEADER = b"Exif\x00\x00"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXTENDED_XMP_HEADER = b"http://ns.adobe.com/xmp/extension/\x00"
ICC_HEADER = b"ICC_PROFILE\x00"
MPF_HEADER = b"MPF\x00"

JPEG_TYPES = frozenset({"image/jpeg", "image/jpg"})
HEIF_TYPES = frozenset({"image/heic", "image/heif"})

# XMP that describes a container (Android motion photo, Ultra HDR gain map) holds the
# offsets of the items appended after the image: without it they cannot be found.
_CONTAINER_XMP = re.compile(rb"Container:Directory|Camera:MotionPhoto|MicroVideo|hdrgm:")


class _Malformed(Exception):
    """The file does not follow its format; the caller keeps it as it is."""


def strip_private_metadata(content: bytes, content_type: str) -> bytes:
    """``content`` without its metadata (JPEG, PNG, WebP); anything else, or anything malformed, unchanged."""
    kind = content_type.split(";", 1)[0].strip().lower()
    strip = _STRIPPERS.get(kind)
    if strip is None:
        return content
    try:
        return strip(content)
    except (_Malformed, IndexError, ValueError, struct.error):
        return content


# --- EXIF (TIFF structure) ---------------------------------------------------------------

def exif_orientation(tiff: bytes) -> int:
    """The Orientation (1..8) in IFD0 of a TIFF-structured EXIF block; 1 when absent or invalid."""
    if tiff.startswith(EXIF_HEADER):
        tiff = tiff[len(EXIF_HEADER):]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return 1
    magic, ifd = struct.unpack_from(order + "HI", tiff, 2)
    if magic != 42 or ifd + 2 > len(tiff):
        return 1
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for index in range(count):
        entry = ifd + 2 + 12 * index
        if entry + 12 > len(tiff):
            break
        tag, kind, number = struct.unpack_from(order + "HHI", tiff, entry)
        if tag == ORIENTATION_TAG and kind == 3 and number >= 1:
            (value,) = struct.unpack_from(order + "H", tiff, entry + 8)
            return value if 1 <= value <= 8 else 1
    return 1


def minimal_exif(orientation: int) -> bytes:
    """A TIFF-structured EXIF block (big-endian) whose IFD0 holds only the Orientation tag."""
    return b"MM\x00\x2a" + struct.pack(">IHHHIHHI", 8, 1, ORIENTATION_TAG, 3, 1, orientation, 0, 0)


# --- JPEG --------------------------------------------------------------------------------

SOI, EOI, SOS, COM = 0xD8, 0xD9, 0xDA, 0xFE
APP0, APP1, APP2, APP14, APP15 = 0xE0, 0xE1, 0xE2, 0xEE, 0xEF
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn carry no length


@dataclass(frozen=True)
class _Segment:
    start: int  # offset of its first 0xFF (fill bytes included)
    data: int  # offset of its payload, past the marker and the length
    end: int  # offset just past its payload
    marker: int

    def payload(self, content: bytes) -> bytes:
        return content[self.data:self.end]


def _jpeg_segments(content: bytes) -> list[_Segment]:
    """The marker segments before the first scan (or an early end of image)."""
    if content[:2] != b"\xff\xd8":
        raise _Malformed("no JPEG start of image")
    segments: list[_Segment] = []
    at = 2
    while True:
        if at >= len(content) or content[at] != 0xFF:
            raise _Malformed("marker expected")
        start = at
        while at < len(content) and content[at] == 0xFF:  # fill bytes before a marker
            at += 1
        if at >= len(content):
            raise _Malformed("truncated marker")
        marker = content[at]
        at += 1
        if marker in (SOS, EOI):
            return segments
        if marker in _STANDALONE:
            continue
        if at + 2 > len(content):
            raise _Malformed("truncated segment length")
        length = int.from_bytes(content[at:at + 2], "big")
        if length < 2 or at + length > len(content):
            raise _Malformed("segment length out of range")
        segments.append(_Segment(start, at + 2, at + length, marker))
        at += length


def _strip_jpeg(content: bytes) -> bytes:
    segments = _jpeg_segments(content)
    keep_container = any(
        segment.marker == APP1 and segment.payload(content).startswith(XMP_HEADER)
        and _CONTAINER_XMP.search(segment.payload(content)) is not None
        for segment in segments
    )
    replacements: dict[int, bytes | None] = {}  # segment index -> new bytes (None: dropped)
    for index, segment in enumerate(segments):
        verdict = _jpeg_verdict(segment.marker, segment.payload(content), keep_container)
        if verdict is not True:
            replacements[index] = verdict or None
    if not replacements:
        return content
    _adjust_multi_picture_offsets(content, segments, replacements)
    return _assemble(content, segments, replacements)


def _jpeg_verdict(marker: int, payload: bytes, keep_container: bool) -> bool | bytes:
    """True: keep the segment; b"": drop it; other bytes: replace it by them."""
    if marker == COM:
        return b""
    if not APP0 <= marker <= APP15 or marker in (APP0, APP14):
        return True
    if marker == APP1 and payload.startswith(EXIF_HEADER):
        orientation = exif_orientation(payload)
        return _jpeg_segment(APP1, EXIF_HEADER + minimal_exif(orientation)) if orientation != 1 else b""
    if marker == APP1 and payload.startswith((XMP_HEADER, EXTENDED_XMP_HEADER)):
        return True if keep_container else b""
    if marker == APP2 and payload.startswith((ICC_HEADER, MPF_HEADER)):
        return True  # the colour profile, and the directory of the images appended after this one
    return b""


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def _adjust_multi_picture_offsets(
    content: bytes, segments: list[_Segment], replacements: dict[int, bytes | None]
) -> None:
    """Shift the MPF image offsets by the bytes removed between the MPF segment and the scan.

    MPF offsets count from the MPF segment, and the images they name come after
    this image's scan: any removal in between would make them point short.
    """
    for index, segment in enumerate(segments):
        payload = segment.payload(content)
        if segment.marker != APP2 or not payload.startswith(MPF_HEADER) or index in replacements:
            continue
        removed = sum(
            (segments[later].end - segments[later].start) - len(replacements[later] or b"")
            for later in replacements
            if later > index
        )
        if removed:
            patched = _shift_mpf_offsets(payload[len(MPF_HEADER):], -removed)
            replacements[index] = _jpeg_segment(APP2, MPF_HEADER + patched)


def _shift_mpf_offsets(tiff: bytes, delta: int) -> bytes:
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        raise _Malformed("MPF without byte order")
    patched = bytearray(tiff)
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for index in range(count):
        entry = ifd + 2 + 12 * index
        tag, _kind, size, where = struct.unpack_from(order + "HHII", tiff, entry)
        if tag != 0xB002:  # MPEntry: 16 bytes per image (attributes, size, offset, dependents)
            continue
        for image in range(size // 16):
            field = where + 16 * image + 8
            (offset,) = struct.unpack_from(order + "I", tiff, field)
            if offset:  # 0 is the first image: this one
                if offset + delta < 0:
                    raise _Malformed("MPF offset before its header")
                struct.pack_into(order + "I", patched, field, offset + delta)
    return bytes(patched)


def _assemble(content: bytes, segments: list[_Segment], replacements: dict[int, bytes | None]) -> bytes:
    """The file with the replaced segments swapped; the scan and all after it copied as they are."""
    view = memoryview(content)
    parts: list[bytes | memoryview] = [view[:2]]
    at = 2
    for index, segment in enumerate(segments):
        if index not in replacements:
            continue
        parts.append(view[at:segment.start])
        parts.append(replacements[index] or b"")
        at = segment.end
    parts.append(view[at:])
    return b"".join(parts)


# --- PNG ---------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_METADATA = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"})


def _strip_png(content: bytes) -> bytes:
    if not content.startswith(PNG_SIGNATURE):
        raise _Malformed("no PNG signature")
    view = memoryview(content)
    parts: list[bytes | memoryview] = []
    at, kept_from = len(PNG_SIGNATURE), 0
    changed = False
    while True:
        if at + 12 > len(content):
            raise _Malformed("truncated chunk")
        length = int.from_bytes(content[at:at + 4], "big")
        kind = content[at + 4:at + 8]
        end = at + 12 + length
        if end > len(content):
            raise _Malformed("chunk past the end")
        if kind in _PNG_METADATA:
            changed = True
            parts.append(view[kept_from:at])
            if kind == b"eXIf":
                orientation = exif_orientation(content[at + 8:end - 4])
                if orientation != 1:
                    parts.append(_png_chunk(b"eXIf", minimal_exif(orientation)))
            kept_from = end
        at = end
        if kind == b"IEND":
            break
    if not changed:
        return content
    parts.append(view[kept_from:])
    return b"".join(parts)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


# --- WebP (RIFF) -------------------------------------------------------------------------

_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _strip_webp(content: bytes) -> bytes:
    if content[:4] != b"RIFF" or content[8:12] != b"WEBP":
        raise _Malformed("not a RIFF WEBP file")
    riff_end = 8 + int.from_bytes(content[4:8], "little")
    if riff_end > len(content):
        raise _Malformed("RIFF size past the end")
    chunks: list[bytes | memoryview] = []
    view = memoryview(content)
    vp8x = -1
    kept_exif = changed = False
    at = 12
    while at < riff_end:
        if at + 8 > riff_end:
            raise _Malformed("truncated chunk header")
        kind = content[at:at + 4]
        size = int.from_bytes(content[at + 4:at + 8], "little")
        end = at + 8 + size + (size & 1)
        if at + 8 + size > riff_end:
            raise _Malformed("chunk past the RIFF end")
        end = min(end, riff_end)
        if kind == b"EXIF":
            changed = True
            orientation = exif_orientation(content[at + 8:at + 8 + size])
            if orientation != 1:
                chunks.append(_riff_chunk(b"EXIF", minimal_exif(orientation)))
                kept_exif = True
        elif kind == b"XMP ":
            changed = True
        else:
            if kind == b"VP8X":
                vp8x = len(chunks)
            chunks.append(view[at:end])
        at = end
    if not changed:
        return content
    if vp8x >= 0:
        header = bytearray(chunks[vp8x])
        header[8] = (header[8] & ~(_VP8X_EXIF | _VP8X_XMP)) | (_VP8X_EXIF if kept_exif else 0)
        chunks[vp8x] = bytes(header)
    riff_size = 4 + sum(len(chunk) for chunk in chunks)
    # Bytes after the RIFF end belong to no chunk; they are kept as they were.
    return b"".join([b"RIFF", riff_size.to_bytes(4, "little"), b"WEBP", *chunks, view[riff_end:]])


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + len(data).to_bytes(4, "little") + data + (b"\x00" if len(data) & 1 else b"")


_STRIPPERS = {
    "image/jpeg": _strip_jpeg,
    "image/jpg": _strip_jpeg,
    "image/png": _strip_png,
    "image/webp": _strip_webp,
}


# --- colour profiles and HDR -------------------------------------------------------------

_PROFILE_MARKERS = (b"ICC_PROFILE", b"iCCP", b"ICCP", b"cICP", b"mDCv", b"cLLi")
_HDR_MARKERS = re.compile(
    rb"hdrgm:|hdr gain map|hdrgainmap|gainmap|ultrahdr|adobe:hdrgainmap|aux:hdr|auxiliaryimagetype"
    rb"|display p3|display-p3|rec\.2020|bt\.2020|arib-std-b67|smpte st 2084",
    re.IGNORECASE,
)


def has_colour_profile_markers(head: bytes, content_type: str) -> bool:
    """Whether the image (its first bytes) declares a colour profile, a wide gamut or HDR.

    A thumbnail made without colour management would show such an image washed
    out or clipped, so these are served as the original. HEIC/HEIF always count.
    """
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in HEIF_TYPES:
        return True
    return any(marker in head for marker in _PROFILE_MARKERS) or _HDR_MARKERS.search(head) is not None
