"""JPEG thumbnails of image attachments, made once and cached under the data directory.

``<data>/.thumbnail_cache/<uid>.v2.jpeg`` is the name Memos v0.30 uses, so a data
directory moved from Memos keeps its cache. Pillow is imported only when a
thumbnail is made, in a worker thread; at most ``concurrency`` are made at a time
(one ThreadPoolExecutor per cache: the app keeps one cache per process), because
a decoded photo can take hundreds of MiB and the server may run on a Raspberry Pi.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import logging
import os
import pathlib
import tempfile
import threading
from collections.abc import Awaitable, Callable
from typing import IO, TYPE_CHECKING, BinaryIO

from memos.storage.images import has_colour_profile_markers

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

THUMBNAIL_DIR = ".thumbnail_cache"
THUMBNAIL_TYPES = frozenset({"image/png", "image/jpeg", "image/jpg", "image/webp"})
MAX_SIDE = 600
ORIENTATION_TAG = 0x0112
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 90
PROBE_LENGTH = 1 << 20

Source = BinaryIO | bytes
ReadSource = Callable[[], Awaitable[Source]]


class ThumbnailRefused(Exception):
    """The image is not one a thumbnail is made of (too large, or not an image it claims to be)."""


def checked_uid(uid: str) -> str:
    """``uid`` if it is safe as a file name under a cache directory, else ValueError."""
    if not uid or uid.startswith(".") or "/" in uid or "\\" in uid or "\x00" in uid:
        raise ValueError(f"unusable attachment uid for a cache file: {uid!r}")
    return uid


def write_atomically(target: pathlib.Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write ``target`` through a temporary file renamed over it, so no reader sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as output:
            write(output)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def media_kind(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


class ThumbnailCache:
    """Thumbnails of attachments by uid; None from ``get`` means "serve the original"."""

    def __init__(self, data_dir: str, *, concurrency: int = 2) -> None:
        self.directory = pathlib.Path(data_dir) / THUMBNAIL_DIR
        self._concurrency = max(1, concurrency)
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._pending: dict[str, concurrent.futures.Future[pathlib.Path | None]] = {}

    def path(self, uid: str) -> pathlib.Path:
        return self.directory / f"{checked_uid(uid)}.v2.jpeg"

    def legacy_paths(self, uid: str) -> list[pathlib.Path]:
        """Names earlier Memos versions cached thumbnails under."""
        return [self.directory / f"{checked_uid(uid)}.jpeg"]

    def remove(self, uid: str) -> None:
        for cached in [self.path(uid), *self.legacy_paths(uid)]:
            cached.unlink(missing_ok=True)

    def close(self) -> None:
        """Let the worker threads go (thumbnails being made are finished first)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    async def get(self, uid: str, content_type: str, read_source: ReadSource) -> pathlib.Path | None:
        """The cached thumbnail of ``uid``, made now if missing; None to serve the original."""
        if media_kind(content_type) not in THUMBNAIL_TYPES:
            return None
        try:
            target = self.path(uid)
        except ValueError:
            log.warning("no thumbnail for attachment %r: not a usable uid", uid)
            return None
        if target.is_file():
            return target
        with self._lock:
            pending = self._pending.get(uid)
            owner = pending is None
            if pending is None:
                pending = self._pending[uid] = concurrent.futures.Future()
        if not owner:
            # Another request is making it; its outcome is ours (shielded: our cancellation is not its).
            return await asyncio.shield(asyncio.wrap_future(pending))
        result: pathlib.Path | None = None
        try:
            result = await self._make(uid, content_type, read_source, target)
        finally:
            with self._lock:
                del self._pending[uid]
            pending.set_result(result)
        return result

    async def _make(
        self, uid: str, content_type: str, read_source: ReadSource, target: pathlib.Path
    ) -> pathlib.Path | None:
        if target.is_file():  # made by a request that finished just before this one began
            return target
        try:
            source = await read_source()
            try:
                job = self._worker().submit(thumbnail_job, source, content_type, target)
            except BaseException:
                if not isinstance(source, bytes):
                    source.close()
                raise
            return target if await asyncio.wrap_future(job) else None
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as error:  # any failure serves the original; the reason goes to the log
            log.warning("thumbnail of attachment %s not made: %s", uid, error)
            return None

    def _worker(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    max_workers=self._concurrency, thread_name_prefix="thumbnail"
                )
            return self._executor


def thumbnail_job(source: Source, content_type: str, target: pathlib.Path) -> bool:
    """In a worker thread: write the thumbnail of ``source`` unless it is colour-managed (False).

    The job owns ``source`` and closes it, so an abandoned request cannot close it under the job.
    """
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        head = stream.read(PROBE_LENGTH)
        if has_colour_profile_markers(head, content_type):
            return False
        stream.seek(0)
        render_thumbnail(stream, target)
        return True
    finally:
        stream.close()


def render_thumbnail(source: IO[bytes], target: pathlib.Path) -> None:
    """Decode ``source`` (JPEG, PNG or WebP), shrink it to MAX_SIDE upright, and write it as JPEG."""
    from PIL import Image

    with Image.open(source, formats=["JPEG", "PNG", "WEBP"]) as opened:
        width, height = opened.size
        if width * height > MAX_PIXELS:
            raise ThumbnailRefused(f"{width}x{height} is over {MAX_PIXELS} pixels")
        orientation = opened.getexif().get(ORIENTATION_TAG, 1)
        if opened.format == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 scale while that still leaves twice the thumbnail's size
            # for Lanczos to work from: a 12 MP photo then never exists in memory at full size.
            fitted_width, fitted_height = _fitted((width, height))
            opened.draft(None, (2 * fitted_width, 2 * fitted_height))
        small = _shrunk(opened)
    try:
        final = _displayable(_oriented(small, orientation))
        write_atomically(target, lambda output: final.save(output, "JPEG", quality=JPEG_QUALITY))
    finally:
        small.close()


def _fitted(size: tuple[int, int]) -> tuple[int, int]:
    """The thumbnail size of an image of ``size``: the longer side at most MAX_SIDE, never enlarged."""
    width, height = size
    scale = min(1.0, MAX_SIDE / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrunk(image: Image.Image) -> Image.Image:
    """A new image: ``image`` shrunk (Lanczos) so its longer side is at most MAX_SIDE."""
    from PIL import Image

    if image.mode in ("1", "P", "PA"):
        # Palette and bilevel images resize only by nearest neighbour: give them real samples first.
        has_alpha = image.mode == "PA" or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB" if image.mode != "1" else "L")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)  # in place: the full size goes
    return image.copy()


def _oriented(image: Image.Image, orientation: object) -> Image.Image:
    """``image`` turned upright as its EXIF Orientation (1..8) says."""
    from PIL import Image

    operation = {
        2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation if isinstance(orientation, int) else 1)
    return image if operation is None else image.transpose(operation)


def _displayable(image: Image.Image) -> Image.Image:
    """``image`` in a mode JPEG stores (L or RGB); transparent parts become white."""
    from PIL import Image

    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode.startswith("I"):
        # 16-bit samples: keep their top 8 bits rather than clipping everything above 255 to white.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, F
