"""Real images for the storage tests, made with Pillow: photos with camera EXIF and GPS,
PNG and WebP with metadata chunks, and Android motion photos with an MP4 clip appended."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image

GPS_LATITUDE = (48.0, 51.0, 29.0)


def camera_exif(orientation: int = 6) -> Image.Exif:
    """What a phone writes: maker, model, when, where, and how to turn the picture."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phonemaker"
    exif[ExifTags.Base.Model] = "Pocket 9"
    exif[ExifTags.Base.DateTime] = "2024:05:01 10:11:12"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 17.0, 40.0)
    return exif


def halves(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: which way it was turned shows in the result."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return image if mode == "RGB" else image.convert(mode)


def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    output = io.BytesIO()
    image.save(output, image_format, **options)
    return output.getvalue()


def decoded_pixels(content: bytes) -> bytes:
    with Image.open(io.BytesIO(content)) as image:
        return image.tobytes()


def minimal_mp4(payload: bytes = b"motion-clip-frames" * 20) -> bytes:
    """An ``ftyp`` box and an ``mdat`` box: enough of an MP4 for finding and cutting one."""
    ftyp = b"ftypisom" + struct.pack(">I", 0x200) + b"isomiso2mp41"
    return struct.pack(">I", 4 + len(ftyp)) + ftyp + struct.pack(">I", 8 + len(payload)) + b"mdat" + payload


def motion_xmp(clip_length: int, *, timestamp_us: int | None = 1_234_567, flag: str = "1") -> bytes:
    """Motion photo XMP (format 1): the flag, the timestamp and a container directory."""
    stamp = f' Camera:MotionPhotoPresentationTimestampUs="{timestamp_us}"' if timestamp_us is not None else ""
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:Camera="http://ns.google.com/photos/1.0/camera/"'
        ' xmlns:Container="http://ns.google.com/photos/1.0/container/"'
        ' xmlns:Item="http://ns.google.com/photos/1.0/container/item/"'
        f' Camera:MotionPhoto="{flag}" Camera:MotionPhotoVersion="1"{stamp}>'
        "<Container:Directory><rdf:Seq>"
        '<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="image/jpeg" Item:Semantic="Primary"'
        ' Item:Length="0" Item:Padding="0"/></rdf:li>'
        '<rdf:li rdf:parseType="Resource"><Container:Item Item:Mime="video/mp4" Item:Semantic="MotionPhoto"'
        f' Item:Length="{clip_length}"/></rdf:li>'
        "</rdf:Seq></Container:Directory></rdf:Description></rdf:RDF></x:xmpmeta>"
    ).encode()


def motion_photo(clip: bytes | None = None, *, xmp: bytes | None = None, exif: Image.Exif | None = None) -> bytes:
    """A JPEG still with motion photo XMP (and camera EXIF) and the clip appended after it."""
    clip = minimal_mp4() if clip is None else clip
    still = encoded(
        halves((64, 48)), "JPEG", exif=camera_exif() if exif is None else exif,
        xmp=motion_xmp(len(clip)) if xmp is None else xmp,
    )
    return still + clip


def png_bomb(side: int = 20_000) -> bytes:
    """A valid bilevel PNG of side x side pixels that compresses to a few hundred KiB."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
