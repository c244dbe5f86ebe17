"""Media types of uploads: from the bytes (WHATWG sniffing), from the file name, and normalised.

CreateAttachment guesses a missing type from the file name, then from the content,
and stores the lower-cased ``type/subtype`` without parameters. The sniffer follows
the WHATWG "identify an unknown MIME type" rules with scriptable types allowed,
over the first 512 bytes, and answers with the same names Memos (Go) gives.
"""
from __future__ import annotations

import functools
import mimetypes
import re
from collections.abc import Callable

SNIFF_LENGTH = 512
OCTET_STREAM = "application/octet-stream"
MAX_MEDIA_TYPE_LENGTH = 255

# Bytes the WHATWG algorithm treats as whitespace before a markup tag.
_WHITESPACE = b"\t\n\x0c\r "
# Bytes that end a tag name: "<p>" and "<p " are HTML, "<pre" is not "<p".
_TAG_END = b" >"
# Control bytes that never appear in text; one of them makes the data binary.
_BINARY = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])

_HTML_TAGS = (
    b"<!DOCTYPE HTML", b"<HTML", b"<HEAD", b"<SCRIPT", b"<IFRAME", b"<H1", b"<DIV", b"<FONT", b"<TABLE",
    b"<A", b"<STYLE", b"<TITLE", b"<B", b"<BODY", b"<BR", b"<P", b"<!--",
)

# (prefix, media type): exact byte prefixes at offset 0.
_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"%!PS-Adobe-", "application/postscript"),
    (b"\xfe\xff", "text/plain; charset=utf-16be"),
    (b"\xff\xfe", "text/plain; charset=utf-16le"),
    (b"\xef\xbb\xbf", "text/plain; charset=utf-8"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"\x00\x00\x02\x00", "image/x-icon"),
    (b"BM", "image/bmp"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"ID3", "audio/mpeg"),
    (b"OggS\x00", "application/ogg"),
    (b"MThd\x00\x00\x00\x06", "audio/midi"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"OTTO", "font/otf"),
    (b"\x00\x01\x00\x00", "font/ttf"),
    (b"\x1f\x8b\x08", "application/x-gzip"),
    (b"PK\x03\x04", "application/zip"),
    (b"Rar!\x1a\x07\x00", "application/x-rar-compressed"),
    (b"Rar!\x1a\x07\x01\x00", "application/x-rar-compressed"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x00asm", "application/wasm"),
)

# (container at 0..4, form type at 8..12, media type): RIFF and IFF files.
_CONTAINERS: tuple[tuple[bytes, bytes, str], ...] = (
    (b"RIFF", b"WEBP", "image/webp"),
    (b"RIFF", b"AVI ", "video/avi"),
    (b"RIFF", b"WAVE", "audio/wave"),
    (b"FORM", b"AIFF", "audio/aiff"),
)


def detect_content_type(data: bytes) -> str:
    """The media type the first 512 bytes of ``data`` look like; never empty."""
    head = bytes(data[:SNIFF_LENGTH])
    for rule in _RULES:
        found = rule(head)
        if found:
            return found
    if any(byte in _BINARY for byte in head):
        return OCTET_STREAM
    return "text/plain; charset=utf-8"


def _markup(head: bytes) -> str | None:
    text = head.lstrip(_WHITESPACE)
    upper = text[:16].upper()
    for tag in _HTML_TAGS:
        if upper.startswith(tag) and len(text) > len(tag) and text[len(tag)] in _TAG_END:
            return "text/html; charset=utf-8"
    if text.startswith(b"<?xml"):
        return "text/xml; charset=utf-8"
    return None


def _prefix(head: bytes) -> str | None:
    for prefix, media_type in _PREFIXES:
        if head.startswith(prefix):
            return media_type
    return None


def _container(head: bytes) -> str | None:
    for container, form, media_type in _CONTAINERS:
        if head[:4] == container and head[8:12] == form:
            return media_type
    return None


def _embedded_opentype(head: bytes) -> str | None:
    # An EOT header carries its magic "LP" at byte 34.
    return "application/vnd.ms-fontobject" if head[34:36] == b"LP" else None


def _mp4(head: bytes) -> str | None:
    """An ISO base media file whose ``ftyp`` box names an mp4 brand (major or compatible)."""
    if len(head) < 12:
        return None
    box_size = int.from_bytes(head[:4], "big")
    if len(head) < box_size or box_size % 4 != 0 or head[4:8] != b"ftyp":
        return None
    if head[8:11] == b"mp4":
        return "video/mp4"
    # Compatible brands follow the major brand and the minor version.
    return "video/mp4" if any(head[at:at + 3] == b"mp4" for at in range(16, box_size, 4)) else None


def _webm(head: bytes) -> str | None:
    """A Matroska EBML header whose DocType element says ``webm``."""
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    at = 4
    while at < min(len(head), 38) - 1:
        if head[at:at + 2] == b"\x42\x82":
            at += 2
            width = _vint_width(head, at)
            if width is None:
                return None
            at += width
            return "video/webm" if head[at:at + 4] == b"webm" else None
        at += 1
    return None


def _vint_width(head: bytes, at: int) -> int | None:
    """How many bytes the EBML variable-size integer at ``at`` takes (1..8)."""
    if at >= len(head) or head[at] == 0:
        return None
    return 8 - head[at].bit_length() + 1


_RULES: tuple[Callable[[bytes], str | None], ...] = (_markup, _prefix, _container, _mp4, _webm, _embedded_opentype)

# Types for common extensions, so the answer does not depend on the host's mime.types.
_EXTENSIONS = {
    ".apng": "image/apng", ".avif": "image/avif", ".bmp": "image/bmp", ".gif": "image/gif",
    ".heic": "image/heic", ".heif": "image/heif", ".ico": "image/x-icon", ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg", ".png": "image/png", ".svg": "image/svg+xml", ".tif": "image/tiff",
    ".tiff": "image/tiff", ".webp": "image/webp", ".jxl": "image/jxl",
    ".aac": "audio/aac", ".flac": "audio/flac", ".m4a": "audio/mp4", ".mid": "audio/midi", ".midi": "audio/midi",
    ".mp3": "audio/mpeg", ".oga": "audio/ogg", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav",
    ".weba": "audio/webm",
    ".avi": "video/x-msvideo", ".m4v": "video/mp4", ".mkv": "video/x-matroska", ".mov": "video/quicktime",
    ".mp4": "video/mp4", ".mpeg": "video/mpeg", ".ogv": "video/ogg", ".webm": "video/webm", ".3gp": "video/3gpp",
    ".css": "text/css", ".csv": "text/csv", ".htm": "text/html", ".html": "text/html", ".ics": "text/calendar",
    ".js": "text/javascript", ".md": "text/markdown", ".markdown": "text/markdown", ".mjs": "text/javascript",
    ".txt": "text/plain", ".log": "text/plain", ".xml": "text/xml", ".yaml": "application/yaml",
    ".yml": "application/yaml", ".json": "application/json", ".pdf": "application/pdf",
    ".rtf": "application/rtf", ".wasm": "application/wasm", ".epub": "application/epub+zip",
    ".zip": "application/zip", ".gz": "application/gzip", ".tgz": "application/gzip", ".tar": "application/x-tar",
    ".7z": "application/x-7z-compressed", ".rar": "application/vnd.rar", ".bz2": "application/x-bzip2",
    ".xz": "application/x-xz", ".zst": "application/zstd",
    ".doc": "application/msword", ".xls": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text", ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".woff": "font/woff", ".woff2": "font/woff2", ".otf": "font/otf", ".ttf": "font/ttf",
}


@functools.cache
def _builtin_types() -> dict[str, str]:
    """Python's own extension table: a MimeTypes instance starts from it, not from /etc/mime.types."""
    return mimetypes.MimeTypes().types_map[True]


def type_from_filename(filename: str) -> str:
    """The media type the file name's extension stands for; "" when it names none."""
    dot = filename.rfind(".")
    if dot < 0:
        return ""
    extension = filename[dot:].lower()
    known = _EXTENSIONS.get(extension)
    if known:
        return known
    guessed = _builtin_types().get(extension)
    return guessed or ""


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t\x20-\x7e\x80-\xff])*"'
_MEDIA_TYPE = re.compile(rf"[ \t]*({_TOKEN})/({_TOKEN})[ \t]*")
_PARAMETER = re.compile(rf";[ \t]*(?:{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))?[ \t]*")


def normalise_media_type(value: str) -> str | None:
    """``type/subtype`` lower-cased without parameters, or None when ``value`` is not a media type.

    The grammar is RFC 7231's: tokens around the slash, then ``; name=value``
    parameters (a token or a quoted string); an empty parameter is tolerated.
    """
    found = _MEDIA_TYPE.match(value)
    if not found:
        return None
    at = found.end()
    while at < len(value):
        parameter = _PARAMETER.match(value, at)
        if not parameter or parameter.end() == at:
            return None
        at = parameter.end()
    media_type = f"{found.group(1)}/{found.group(2)}".lower()
    return media_type if len(media_type) <= MAX_MEDIA_TYPE_LENGTH else None
