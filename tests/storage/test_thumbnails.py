"""Thumbnails: small upright JPEGs made once per attachment; the original whenever one cannot be made."""
from __future__ import annotations

import asyncio
import io
import pathlib
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import BinaryIO

import pytest
from media_support import camera_exif, encoded, halves, png_bomb
from PIL import Image

from memos.storage.thumbnails import ThumbnailCache

ICC = b"\x00\x00\x02\x0cfake-icc-profile-bytes" * 8


class Source:
    """An attachment's bytes as the file server hands them over, counting how often it was asked."""

    def __init__(self, content: bytes, *, as_file: pathlib.Path | None = None) -> None:
        self.content = content
        self.as_file = as_file
        self.reads = 0
        self.opened: list[BinaryIO] = []

    async def __call__(self) -> BinaryIO | bytes:
        self.reads += 1
        await asyncio.sleep(0)
        if self.as_file is None:
            return self.content
        self.as_file.write_bytes(self.content)
        handle = self.as_file.open("rb")
        self.opened.append(handle)
        return handle


def _thumbnail(
    cache: ThumbnailCache, uid: str, content_type: str, source: Callable[[], Awaitable[BinaryIO | bytes]]
) -> pathlib.Path | None:
    return asyncio.run(cache.get(uid, content_type, source))


def _opened(path: pathlib.Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


@pytest.fixture
def cache(tmp_path: pathlib.Path) -> Iterator[ThumbnailCache]:
    made = ThumbnailCache(str(tmp_path), concurrency=2)
    yield made
    made.close()


def test_a_large_photo_becomes_an_upright_600px_jpeg(cache: ThumbnailCache, tmp_path: pathlib.Path) -> None:
    # Stored 1200x800 with orientation 6: shown turned a quarter clockwise, 800 wide and 1200 high.
    photo = encoded(halves((1200, 800)), "JPEG", exif=camera_exif(6), quality=95)
    path = _thumbnail(cache, "photo1", "image/jpeg", Source(photo))
    assert path == tmp_path / ".thumbnail_cache" / "photo1.v2.jpeg"
    with _opened(path) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert thumbnail.size == (400, 600)
        red, blue = thumbnail.getpixel((200, 100)), thumbnail.getpixel((200, 500))
    # The stored left (red) half is on top once turned upright.
    assert isinstance(red, tuple) and isinstance(blue, tuple)
    assert red[0] > 180 and red[2] < 80
    assert blue[2] > 180 and blue[0] < 80


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1600, 900), (600, 338)), ((900, 1600), (338, 600)), ((601, 601), (600, 600)), ((3000, 40), (600, 8))],
)
def test_the_longer_side_becomes_600_and_the_aspect_stays(
    cache: ThumbnailCache, size: tuple[int, int], expected: tuple[int, int]
) -> None:
    path = _thumbnail(cache, "wide", "image/png", Source(encoded(halves(size), "PNG")))
    assert path is not None
    with _opened(path) as thumbnail:
        assert thumbnail.size[0] == pytest.approx(expected[0], abs=1)
        assert thumbnail.size[1] == pytest.approx(expected[1], abs=1)


def test_a_small_image_is_not_enlarged(cache: ThumbnailCache) -> None:
    path = _thumbnail(cache, "small", "image/webp", Source(encoded(halves((300, 200)), "WEBP")))
    assert path is not None
    with _opened(path) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (300, 200))


@pytest.mark.parametrize(
    ("mode", "image_format", "expected_mode"),
    [("RGBA", "PNG", "RGB"), ("LA", "PNG", "RGB"), ("P", "PNG", "RGB"), ("1", "PNG", "L"), ("L", "PNG", "L"),
     ("I;16", "PNG", "L"), ("CMYK", "JPEG", "RGB"), ("RGBA", "WEBP", "RGB")],
)
def test_every_image_mode_becomes_a_jpeg(
    cache: ThumbnailCache, mode: str, image_format: str, expected_mode: str
) -> None:
    image = Image.new("I;16", (700, 500), 0xA000) if mode == "I;16" else halves((700, 500), mode)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[image_format]
    path = _thumbnail(cache, f"mode{mode.replace(';', '')}", content_type, Source(encoded(image, image_format)))
    assert path is not None
    with _opened(path) as thumbnail:
        assert (thumbnail.format, thumbnail.mode, thumbnail.size) == ("JPEG", expected_mode, (600, 429))
        if mode == "I;16":
            assert thumbnail.getpixel((10, 10)) == pytest.approx(0xA0, abs=2)  # scaled, not clipped to white


def test_a_transparent_image_is_flattened_on_white(cache: ThumbnailCache) -> None:
    clear = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    path = _thumbnail(cache, "clear", "image/png", Source(encoded(clear, "PNG")))
    assert path is not None
    with _opened(path) as thumbnail:
        assert thumbnail.getpixel((25, 25)) == pytest.approx((255, 255, 255), abs=2)


def test_a_thumbnail_is_made_once_and_then_served_from_the_cache(cache: ThumbnailCache) -> None:
    source = Source(encoded(halves((900, 900)), "JPEG"))
    first = _thumbnail(cache, "once", "image/jpg", source)
    assert first is not None
    made = first.stat()
    second = _thumbnail(cache, "once", "image/jpg", source)
    assert second == first
    again = second.stat()
    assert (again.st_ino, again.st_mtime_ns) == (made.st_ino, made.st_mtime_ns)
    assert source.reads == 1


def test_concurrent_requests_for_one_attachment_make_it_once(cache: ThumbnailCache) -> None:
    source = Source(encoded(halves((1000, 700)), "PNG"))

    async def many() -> list[pathlib.Path | None]:
        return await asyncio.gather(*(cache.get("shared", "image/png", source) for _ in range(6)))

    results = asyncio.run(many())
    assert source.reads == 1
    assert len(set(results)) == 1 and results[0] is not None and results[0].is_file()


def test_a_file_source_is_read_and_closed(cache: ThumbnailCache, tmp_path: pathlib.Path) -> None:
    source = Source(encoded(halves((800, 600)), "JPEG"), as_file=tmp_path / "upload.jpg")
    path = _thumbnail(cache, "fromfile", "image/jpeg", source)
    assert path is not None and path.is_file()
    assert all(handle.closed for handle in source.opened) and source.opened


@pytest.mark.parametrize("content_type", ["image/gif", "image/svg+xml", "image/heic", "image/heif", "text/plain"])
def test_other_types_are_served_as_the_original(cache: ThumbnailCache, content_type: str) -> None:
    source = Source(encoded(halves((800, 600)), "GIF"))
    assert _thumbnail(cache, "other", content_type, source) is None
    assert source.reads == 0


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("image/png", encoded(halves((800, 600)), "PNG", icc_profile=ICC)),
        ("image/jpeg", encoded(halves((800, 600)), "JPEG", icc_profile=ICC)),
        ("image/jpeg", encoded(halves((800, 600)), "JPEG", xmp=b"<rdf hdrgm:Version='1.0'/>")),
    ],
)
def test_colour_managed_images_are_served_as_the_original(
    cache: ThumbnailCache, content_type: str, content: bytes
) -> None:
    assert _thumbnail(cache, "profiled", content_type, Source(content)) is None
    assert not cache.path("profiled").exists()


def test_an_undecodable_image_is_served_as_the_original_and_leaves_nothing(
    cache: ThumbnailCache, caplog: pytest.LogCaptureFixture
) -> None:
    broken = encoded(halves((800, 600)), "JPEG")[:300]
    assert _thumbnail(cache, "broken", "image/jpeg", Source(broken)) is None
    assert _thumbnail(cache, "lies", "image/png", Source(b"GIF89a not a png")) is None
    assert not cache.directory.exists() or list(cache.directory.iterdir()) == []
    assert "broken" in caplog.text


def test_a_decompression_bomb_is_refused_without_being_decoded(tmp_path: pathlib.Path) -> None:
    """20000 x 20000 pixels in ~60 KiB: refused from its header, whatever Pillow's own limit says."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bomb(20_000))
    script = (
        "import asyncio, resource, sys, pathlib\n"
        "from PIL import Image\n"
        "from memos.storage.thumbnails import ThumbnailCache\n"
        "Image.MAX_IMAGE_PIXELS = None  # Pillow's own guard off: ours must hold\n"
        "cache = ThumbnailCache(sys.argv[1])\n"
        "async def read(): return pathlib.Path(sys.argv[2]).open('rb')\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "result = asyncio.run(cache.get('bomb', 'image/png', read))\n"
        "cache.close()\n"
        "grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before\n"
        "print(result, grown // 1024)\n"
    )
    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, str(tmp_path / "data"), str(bomb)],
        capture_output=True, text=True, check=True,
    )
    result, grown_mib = run.stdout.split()
    assert result == "None"
    assert int(grown_mib) < 64  # decoding would have taken 400 MB
    assert "over 50000000 pixels" in run.stderr
    assert not (tmp_path / "data" / ".thumbnail_cache" / "bomb.v2.jpeg").exists()


def test_remove_deletes_every_cached_name(cache: ThumbnailCache) -> None:
    path = _thumbnail(cache, "gone", "image/png", Source(encoded(halves((100, 100)), "PNG")))
    assert path is not None
    legacy = cache.legacy_paths("gone")
    assert [p.name for p in legacy] == ["gone.jpeg"]
    legacy[0].write_bytes(b"old thumbnail")
    cache.remove("gone")
    assert not path.exists() and not legacy[0].exists()
    cache.remove("gone")  # already gone: fine
    cache.remove("never-made")


def test_a_uid_cannot_reach_outside_the_cache(cache: ThumbnailCache) -> None:
    with pytest.raises(ValueError):
        cache.path("../escape")
    source = Source(encoded(halves((100, 100)), "PNG"))
    assert _thumbnail(cache, "../escape", "image/png", source) is None
    assert source.reads == 0


def test_the_image_library_is_not_loaded_with_the_app() -> None:
    script = (
        "import sys\n"
        "import memos.app\n"
        "import memos.storage.images, memos.storage.thumbnails, memos.storage.motion, memos.storage.sniff\n"
        "print('PIL' in sys.modules)\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "False"


def test_a_thumbnail_file_never_appears_half_written(cache: ThumbnailCache) -> None:
    # Everything in the cache directory after a run is a complete JPEG: temporary files are renamed or gone.
    for index in range(3):
        _thumbnail(cache, f"whole{index}", "image/jpeg", Source(encoded(halves((700, 700)), "JPEG")))
    names = sorted(path.name for path in cache.directory.iterdir())
    assert names == ["whole0.v2.jpeg", "whole1.v2.jpeg", "whole2.v2.jpeg"]
    for path in cache.directory.iterdir():
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            image.load()
