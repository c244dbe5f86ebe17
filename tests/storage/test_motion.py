"""Android motion photos: recognised from their XMP, their clip found and extracted once."""
from __future__ import annotations

import asyncio
import pathlib
from typing import BinaryIO

import pytest
from media_support import encoded, halves, minimal_mp4, motion_photo, motion_xmp

from memos.storage.images import strip_private_metadata
from memos.storage.motion import MotionClipCache, MotionPhoto, detect_android_motion_photo

CLIP = minimal_mp4()


def _xmp(body: str) -> bytes:
    return f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description {body}/></rdf:RDF></x:xmpmeta>'.encode()


def test_a_container_directory_locates_the_clip() -> None:
    photo = motion_photo(CLIP)
    assert detect_android_motion_photo(photo) == MotionPhoto(len(photo) - len(CLIP), 1_234_567)


def test_the_older_micro_video_form_locates_the_clip() -> None:
    xmp = _xmp(
        f'GCamera:MicroVideo="1" GCamera:MicroVideoVersion="1" GCamera:MicroVideoOffset="{len(CLIP)}"'
        ' GCamera:MicroVideoPresentationTimestampUs="500000"'
    )
    photo = motion_photo(CLIP, xmp=xmp)
    assert detect_android_motion_photo(photo) == MotionPhoto(len(photo) - len(CLIP), 500_000)


def test_the_element_form_and_scanning_after_the_still() -> None:
    # No offsets at all: the clip is the first ftyp box after the JPEG's end of image.
    xmp = b"<x:xmpmeta><rdf:Description><GCamera:MotionPhoto>1</GCamera:MotionPhoto></rdf:Description></x:xmpmeta>"
    photo = motion_photo(CLIP, xmp=xmp)
    assert detect_android_motion_photo(photo) == MotionPhoto(len(photo) - len(CLIP), 0)


def test_a_wrong_offset_falls_back_to_scanning() -> None:
    photo = motion_photo(CLIP, xmp=motion_xmp(len(CLIP) + 7, timestamp_us=None))
    assert detect_android_motion_photo(photo) == MotionPhoto(len(photo) - len(CLIP), 0)


def test_a_ftyp_inside_the_exif_thumbnail_area_is_not_taken_for_the_clip() -> None:
    # "ftyp" inside a segment before the scan must not count: scanning starts after the end of image.
    xmp = b"<x:xmpmeta>Camera:MotionPhoto='1' decoy \x00\x00\x00\x18ftypisom</x:xmpmeta>"
    photo = motion_photo(CLIP, xmp=xmp)
    assert detect_android_motion_photo(photo) == MotionPhoto(len(photo) - len(CLIP), 0)


@pytest.mark.parametrize(
    "content",
    [
        encoded(halves((40, 40)), "JPEG") + CLIP,  # a clip but no motion flag
        motion_photo(CLIP, xmp=motion_xmp(len(CLIP), flag="0")),  # the flag says no
        motion_photo(b"", xmp=motion_xmp(100)),  # the flag but no clip
        motion_photo(b"\x00\x00\x00\x10ftyp\x01\x02\x03\x04", xmp=motion_xmp(16)),  # not a real ftyp box
        b"\x89PNG\r\n\x1a\n" + motion_xmp(len(CLIP)) + CLIP,  # not a JPEG
        b"",
        b"\xff\xd8\xff",
    ],
)
def test_things_that_are_not_motion_photos(content: bytes) -> None:
    assert detect_android_motion_photo(content) is None


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + (len(payload) + 2).to_bytes(2, "big") + payload


def test_the_flag_must_be_in_the_first_256_kib() -> None:
    still = encoded(halves((40, 40)), "JPEG")
    xmp = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + motion_xmp(len(CLIP)))
    padding = _segment(0xFE, b"p" * 60_000) * 5  # 300 KB of comments before the XMP
    assert detect_android_motion_photo(still[:2] + padding + xmp + still[2:] + CLIP) is None
    assert detect_android_motion_photo(still[:2] + xmp + padding + still[2:] + CLIP) is not None


def test_stripping_metadata_keeps_the_clip_findable() -> None:
    photo = motion_photo(CLIP)
    stripped = strip_private_metadata(photo, "image/jpeg")
    assert len(stripped) < len(photo)
    found = detect_android_motion_photo(stripped)
    assert found is not None and stripped[found.video_offset:] == CLIP


class Source:
    def __init__(self, content: bytes, *, as_file: pathlib.Path | None = None) -> None:
        self.content, self.as_file, self.reads = content, as_file, 0
        self.opened: list[BinaryIO] = []

    async def __call__(self) -> BinaryIO | bytes:
        self.reads += 1
        if self.as_file is None:
            return self.content
        self.as_file.write_bytes(self.content)
        handle = self.as_file.open("rb")
        self.opened.append(handle)
        return handle


@pytest.mark.parametrize("from_file", [False, True])
def test_the_clip_is_extracted_once_into_the_cache(tmp_path: pathlib.Path, from_file: bool) -> None:
    cache = MotionClipCache(str(tmp_path / "data"))
    source = Source(motion_photo(CLIP), as_file=tmp_path / "photo.jpg" if from_file else None)
    path = asyncio.run(cache.get("m1", source))
    assert path == tmp_path / "data" / ".motion_cache" / "m1.mp4"
    assert path.read_bytes() == CLIP
    made = path.stat()
    assert asyncio.run(cache.get("m1", source)) == path
    assert source.reads == 1 and path.stat().st_mtime_ns == made.st_mtime_ns
    assert all(handle.closed for handle in source.opened)
    assert [entry.name for entry in path.parent.iterdir()] == ["m1.mp4"]


def test_a_trailer_after_the_clip_is_left_out(tmp_path: pathlib.Path) -> None:
    # Some cameras append their own records after the video; they are no part of the MP4.
    photo = motion_photo(CLIP, xmp=motion_xmp(len(CLIP) + 30)) + b"\x00SEFHtrailer-of-the-camera-maker"[:30]
    cache = MotionClipCache(str(tmp_path))
    path = asyncio.run(cache.get("m2", Source(photo)))
    assert path is not None and path.read_bytes() == CLIP


def test_a_still_without_a_clip_gives_none(tmp_path: pathlib.Path) -> None:
    cache = MotionClipCache(str(tmp_path))
    assert asyncio.run(cache.get("still", Source(encoded(halves((40, 40)), "JPEG")))) is None
    assert not cache.path("still").exists()


def test_remove(tmp_path: pathlib.Path) -> None:
    cache = MotionClipCache(str(tmp_path))
    path = asyncio.run(cache.get("m3", Source(motion_photo(CLIP))))
    assert path is not None and path.exists()
    cache.remove("m3")
    assert not path.exists()
    cache.remove("m3")
    with pytest.raises(ValueError):
        cache.path("a/b")
