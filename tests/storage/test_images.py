"""Uploaded photos lose what they tell about their owner (GPS, camera, times, comments)
but keep their pixels, their orientation, their colour profile and their motion clip."""
from __future__ import annotations

import io

import pytest
from media_support import (
    camera_exif,
    decoded_pixels,
    encoded,
    halves,
    minimal_mp4,
    motion_photo,
)
from PIL import ExifTags, Image, PngImagePlugin

from memos.storage.images import has_colour_profile_markers, strip_private_metadata
from memos.storage.motion import detect_android_motion_photo

ICC = b"\x00\x00\x02\x0cfake-icc-profile-bytes" * 8


def _exif_of(content: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(content)) as image:
        return image.getexif()


def _assert_private_tags_gone(exif: Image.Exif) -> None:
    assert ExifTags.Base.Make not in exif
    assert ExifTags.Base.Model not in exif
    assert ExifTags.Base.DateTime not in exif
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)


@pytest.mark.parametrize("image_type", ["image/jpeg", "image/jpg"])
def test_a_jpeg_loses_camera_and_location_but_keeps_orientation_and_pixels(image_type: str) -> None:
    original = encoded(halves((80, 40)), "JPEG", exif=camera_exif(6), comment=b"shot at home", icc_profile=ICC)
    assert _exif_of(original).get_ifd(ExifTags.IFD.GPSInfo)  # the test photo does carry GPS
    stripped = strip_private_metadata(original, image_type)
    exif = _exif_of(stripped)
    _assert_private_tags_gone(exif)
    assert exif[ExifTags.Base.Orientation] == 6
    assert dict(exif) == {ExifTags.Base.Orientation: 6}
    assert b"shot at home" not in stripped and b"Phonemaker" not in stripped
    assert decoded_pixels(stripped) == decoded_pixels(original)
    with Image.open(io.BytesIO(stripped)) as image:
        assert image.info["icc_profile"] == ICC


def test_an_upright_jpeg_keeps_no_exif_at_all() -> None:
    original = encoded(halves((40, 40)), "JPEG", exif=camera_exif(1))
    stripped = strip_private_metadata(original, "image/jpeg")
    assert b"Exif\x00\x00" not in stripped
    assert dict(_exif_of(stripped)) == {}
    assert decoded_pixels(stripped) == decoded_pixels(original)


def test_xmp_of_an_ordinary_jpeg_goes() -> None:
    original = encoded(halves((40, 40)), "JPEG", xmp=b"<x:xmpmeta>exif:GPSLatitude 48,51N</x:xmpmeta>")
    stripped = strip_private_metadata(original, "image/jpeg")
    assert b"GPSLatitude" not in stripped
    assert decoded_pixels(stripped) == decoded_pixels(original)


def test_a_jpeg_without_metadata_comes_back_the_same() -> None:
    original = encoded(halves((40, 40)), "JPEG")
    assert strip_private_metadata(original, "image/jpeg") == original


def test_a_motion_photo_keeps_its_xmp_and_clip_but_not_its_exif() -> None:
    clip = minimal_mp4()
    original = motion_photo(clip)
    stripped = strip_private_metadata(original, "image/jpeg")
    _assert_private_tags_gone(_exif_of(stripped))
    assert stripped.endswith(clip)
    found = detect_android_motion_photo(stripped)
    assert found is not None
    assert stripped[found.video_offset:] == clip
    assert found.presentation_timestamp_us == 1_234_567
    assert decoded_pixels(stripped) == decoded_pixels(original)


def test_the_images_of_a_multi_picture_file_stay_reachable() -> None:
    # Pillow writes MPO as EXIF, the MPF directory, then a comment: removing the comment
    # moves the second image closer, and the directory's offsets must follow.
    first, second = halves((64, 48)), Image.new("RGB", (32, 24), (10, 200, 10))
    original = encoded(first, "MPO", save_all=True, append_images=[second], exif=camera_exif(1), comment=b"x" * 40)
    stripped = strip_private_metadata(original, "image/jpeg")
    assert b"x" * 40 not in stripped[:stripped.index(b"\xff\xda")]  # the first image's comment went
    with Image.open(io.BytesIO(stripped)) as image:
        assert getattr(image, "n_frames", 1) == 2
        image.seek(1)
        assert image.size == (32, 24)
        assert image.convert("RGB").getpixel((16, 12)) == pytest.approx((10, 200, 10), abs=8)


def test_a_png_loses_text_time_and_exif_but_keeps_orientation_and_pixels() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Doe")
    info.add_itxt("Comment", "taken at 12 Rue Exemple", zip=True)
    info.add_text("Software", "Camera app", zip=True)
    info.add(b"tIME", b"\x07\xe8\x05\x01\x0a\x0b\x0c")
    original = encoded(halves((30, 20)), "PNG", pnginfo=info, exif=camera_exif(8), icc_profile=ICC)
    stripped = strip_private_metadata(original, "image/png")
    for secret in (b"Jane Doe", b"tEXt", b"zTXt", b"iTXt", b"tIME", b"Phonemaker"):
        assert secret not in stripped
    exif = _exif_of(stripped)
    _assert_private_tags_gone(exif)
    assert dict(exif) == {ExifTags.Base.Orientation: 8}
    with Image.open(io.BytesIO(stripped)) as image:
        image.load()  # checks the chunks' CRCs on the way
        assert image.info["icc_profile"] == ICC
    assert decoded_pixels(stripped) == decoded_pixels(original)


def test_a_webp_loses_exif_and_xmp_with_its_header_kept_consistent() -> None:
    original = encoded(
        halves((30, 20), "RGBA"), "WEBP", lossless=True, exif=camera_exif(3), xmp=b"<x:xmpmeta>secret</x:xmpmeta>"
    )
    stripped = strip_private_metadata(original, "image/webp")
    assert b"secret" not in stripped and b"Phonemaker" not in stripped
    assert int.from_bytes(stripped[4:8], "little") == len(stripped) - 8
    flags = stripped[stripped.index(b"VP8X") + 8]
    assert flags & 0x04 == 0  # no XMP
    assert flags & 0x08  # the minimal EXIF
    exif = _exif_of(stripped)
    assert dict(exif) == {ExifTags.Base.Orientation: 3}
    with Image.open(io.BytesIO(stripped)) as image:
        assert "xmp" not in image.info
    assert decoded_pixels(stripped) == decoded_pixels(original)


def test_an_upright_webp_drops_the_exif_flag_too() -> None:
    original = encoded(halves((30, 20)), "WEBP", exif=camera_exif(1))
    stripped = strip_private_metadata(original, "image/webp")
    assert stripped[stripped.index(b"VP8X") + 8] & 0x0C == 0
    assert b"EXIF" not in stripped
    assert decoded_pixels(stripped) == decoded_pixels(original)


@pytest.mark.parametrize("image_type", ["image/tiff", "image/heic", "image/heif", "image/gif", "application/pdf"])
def test_other_types_are_left_as_they_are(image_type: str) -> None:
    content = encoded(halves((10, 10)), "TIFF", exif=camera_exif()) if image_type == "image/tiff" else b"\x00abc"
    assert strip_private_metadata(content, image_type) == content


def _malformed_inputs() -> list[tuple[str, bytes]]:
    jpeg = encoded(halves((40, 40)), "JPEG", exif=camera_exif())
    png = encoded(halves((40, 40)), "PNG", exif=camera_exif())
    webp = encoded(halves((40, 40)), "WEBP", exif=camera_exif())
    exif_at = jpeg.index(b"Exif")
    return [
        ("image/jpeg", b""),
        ("image/jpeg", b"\xff\xd8"),
        ("image/jpeg", jpeg[:exif_at + 10]),  # cut inside the EXIF segment
        ("image/jpeg", jpeg[:exif_at - 2] + b"\xff\xff" + jpeg[exif_at:]),  # a segment length past the end
        ("image/jpeg", b"not a jpeg at all"),
        ("image/png", png[:40]),
        ("image/png", png[:8] + b"\xff\xff\xff\xff" + png[12:]),
        ("image/png", b"\x89PNG\r\n\x1a\n"),
        ("image/webp", webp[:20]),
        ("image/webp", webp[:4] + b"\xff\xff\xff\x7f" + webp[8:]),
        ("image/webp", b"RIFF\x04\x00\x00\x00WAVE"),
    ]


@pytest.mark.parametrize(("image_type", "content"), _malformed_inputs())
def test_malformed_input_comes_back_unchanged(image_type: str, content: bytes) -> None:
    assert strip_private_metadata(content, image_type) == content


def test_colour_profile_markers() -> None:
    assert has_colour_profile_markers(b"...<hdrgm:Version>1.0</hdrgm:Version>...", "image/jpeg")
    assert has_colour_profile_markers(b"..HDRGM:Version..", "image/jpeg")
    assert has_colour_profile_markers(b"\xff\xe2\x0c\x58ICC_PROFILE\x00\x01\x01", "image/jpeg")
    assert has_colour_profile_markers(b"\x00\x00\x00\x04cICP\x09\x10\x00\x01", "image/png")
    assert has_colour_profile_markers(b"Display P3", "image/webp")
    assert has_colour_profile_markers(b"", "image/heic")
    assert has_colour_profile_markers(b"", "image/HEIF")
    assert not has_colour_profile_markers(encoded(halves((40, 40)), "JPEG"), "image/jpeg")
    assert not has_colour_profile_markers(b"icc_profile", "image/jpeg")  # the chunk names are case-sensitive
    assert has_colour_profile_markers(encoded(halves((10, 10)), "PNG", icc_profile=ICC), "image/png")
