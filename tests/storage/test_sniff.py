"""The type an upload gets: sniffed from its bytes, guessed from its name, normalised."""
from __future__ import annotations

import pytest
from media_support import encoded, halves, minimal_mp4

from memos.storage.sniff import detect_content_type, normalise_media_type, type_from_filename

WEBM_HEADER = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm\x42\x87\x81\x04"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"BM\x36\x00\x00\x00", "image/bmp"),
        (b"\x00\x00\x01\x00\x01\x00\x10\x10", "image/x-icon"),
        (b"%PDF-1.7\n%\xe2\xe3", "application/pdf"),
        (b"%!PS-Adobe-3.0\n", "application/postscript"),
        (b"  \n\t<!DOCTYPE html>\n<html>", "text/html; charset=utf-8"),
        (b"<HtMl><body>hi", "text/html; charset=utf-8"),
        (b"<p>paragraph", "text/html; charset=utf-8"),
        (b"<!-- comment -->", "text/html; charset=utf-8"),
        (b"<?xml version='1.0'?><a/>", "text/xml; charset=utf-8"),
        (b"\xef\xbb\xbfhello", "text/plain; charset=utf-8"),
        (b"\xfe\xff\x00h", "text/plain; charset=utf-16be"),
        (b"\xff\xfeh\x00", "text/plain; charset=utf-16le"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "audio/mpeg"),
        (b"OggS\x00\x02\x00\x00", "application/ogg"),
        (b"MThd\x00\x00\x00\x06\x00\x01", "audio/midi"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wave"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", "video/avi"),
        (b"FORM\x00\x00\x00\x00AIFFCOMM", "audio/aiff"),
        (minimal_mp4(), "video/mp4"),
        (WEBM_HEADER, "video/webm"),
        (b"PK\x03\x04\x14\x00\x00\x00", "application/zip"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", "application/x-gzip"),
        (b"Rar!\x1a\x07\x00\xcf", "application/x-rar-compressed"),
        (b"Rar!\x1a\x07\x01\x00\xcf", "application/x-rar-compressed"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "application/x-7z-compressed"),
        (b"\x00asm\x01\x00\x00\x00", "application/wasm"),
        (b"wOFF\x00\x01\x00\x00", "font/woff"),
        (b"wOF2\x00\x01\x00\x00", "font/woff2"),
        (b"OTTO\x00\x0a\x00\x80", "font/otf"),
        (b"\x00\x01\x00\x00\x00\x0f\x00\x80", "font/ttf"),
        (b"\x00" * 34 + b"LP" + b"\x00" * 8, "application/vnd.ms-fontobject"),
        (b"plain words, a line\nand a tab\t", "text/plain; charset=utf-8"),
        ("naïve café".encode(), "text/plain; charset=utf-8"),
        (b"", "text/plain; charset=utf-8"),
        (b"\x00\x01\x02\x03binary", "application/octet-stream"),
    ],
)
def test_signatures_give_their_types(content: bytes, expected: str) -> None:
    assert detect_content_type(content) == expected


def test_real_images_are_recognised() -> None:
    image = halves((20, 10))
    assert detect_content_type(encoded(image, "PNG")) == "image/png"
    assert detect_content_type(encoded(image, "JPEG")) == "image/jpeg"
    assert detect_content_type(encoded(image, "WEBP")) == "image/webp"
    assert detect_content_type(encoded(image, "GIF")) == "image/gif"


def test_a_tag_name_must_end_where_the_tag_does() -> None:
    # "<pre" is not "<p", "<bold" is not "<b": neither is a known HTML start.
    assert detect_content_type(b"<pre>code</pre>") == "text/plain; charset=utf-8"
    assert detect_content_type(b"<bold>") == "text/plain; charset=utf-8"


def test_an_ftyp_box_without_an_mp4_brand_is_not_mp4() -> None:
    quicktime = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  "
    assert detect_content_type(quicktime) == "application/octet-stream"


def test_only_the_first_512_bytes_are_looked_at() -> None:
    assert detect_content_type(b"a" * 512 + b"\x00\x01") == "text/plain; charset=utf-8"
    assert detect_content_type(b"a" * 511 + b"\x00") == "application/octet-stream"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("photo.jpg", "image/jpeg"),
        ("PHOTO.JPEG", "image/jpeg"),
        ("shot.png", "image/png"),
        ("clip.webm", "video/webm"),
        ("voice.m4a", "audio/mp4"),
        ("notes.md", "text/markdown"),
        ("report.final.pdf", "application/pdf"),
        ("archive.tar.gz", "application/gzip"),
        ("picture.heic", "image/heic"),
        ("drawing.svg", "image/svg+xml"),
        ("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("script.py", "text/x-python"),  # from Python's built-in table
        ("README", ""),
        ("file.unknownext", ""),
        (".hidden", ""),
    ],
)
def test_types_from_filenames(filename: str, expected: str) -> None:
    assert type_from_filename(filename) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("image/png", "image/png"),
        ("IMAGE/PNG", "image/png"),
        ("audio/webm;codecs=opus", "audio/webm"),
        ('text/plain; charset="utf-8"; format=flowed', "text/plain"),
        ("application/vnd.api+json", "application/vnd.api+json"),
        (" text/plain ", "text/plain"),
        ("text/plain;", "text/plain"),
        ("text", None),
        ("text/", None),
        ("/plain", None),
        ("text/plain/more", None),
        ("te xt/plain", None),
        ("text/pl@in", None),
        ("text/plain; charset", None),
        ("text/plain; charset=\"open", None),
        ("", None),
        ("image/" + "x" * 250, None),
    ],
)
def test_media_types_are_normalised_or_refused(value: str, expected: str | None) -> None:
    assert normalise_media_type(value) == expected


def test_the_length_limit_is_255() -> None:
    longest = "application/" + "x" * (255 - len("application/"))
    assert normalise_media_type(longest) == longest
    assert normalise_media_type(longest + "x") is None
