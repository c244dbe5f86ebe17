"""`GET /file/attachments/{uid}/{filename}` through the whole app: who may read, what is served, from
which storage, with ranges, conditional requests, thumbnails and motion clips.

Server spec §13.1-13.5, memos spec §7.5, checklist items 47-54 and 56.
"""
from __future__ import annotations

import io
import pathlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from media_support import encoded, halves, motion_photo
from PIL import Image
from starlette.testclient import TestClient
from support import bearer, create_user_row, insert_memo, make_profile, sign_in

from memos.app import create_app
from memos.gen.store.attachment_pb2 import ANDROID_MOTION_PHOTO, AttachmentPayload
from memos.gen.store.instance_setting_pb2 import StorageS3Config
from memos.storage.s3 import S3Client
from memos.store import CreateAttachment, CreateMemoShare

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline';",
    "cache-control": "public, max-age=3600",
}


class Instance:
    """An app on a fresh data dir with alice (owner), bob (another user) and root (admin)."""

    def __init__(self, client: TestClient, data: pathlib.Path) -> None:
        self.client = client
        self.data = data
        self.store = client.app.state.store
        self.root_id = create_user_row(client, "root", role="ADMIN")
        self.alice_id = create_user_row(client, "alice")
        self.bob_id = create_user_row(client, "bob")
        self.alice = bearer(sign_in(client, "alice"))
        self.bob = bearer(sign_in(client, "bob"))
        self.root = bearer(sign_in(client, "root"))

    def run(self, make: Any) -> Any:
        return self.client.portal.call(make)

    def memo(self, visibility: str = "PUBLIC", comment_on: int | None = None) -> int:
        uid = uuid.uuid4().hex[:12]
        return self.run(lambda: insert_memo(self.store, uid, self.alice_id, created_ts=1000, visibility=visibility,
                                            comment_on=comment_on))

    def attach(self, content: bytes, type_: str, *, memo_id: int | None = None, storage: str = "",
               filename: str = "file.bin", payload: AttachmentPayload | None = None, reference: str = "") -> str:
        uid = uuid.uuid4().hex[:16]
        blob = content if storage == "" else None
        if storage == "LOCAL" and not reference:
            path = self.data / "assets" / f"{uid}_{filename}"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(content)
            reference = path.as_posix()
        create = CreateAttachment(uid=uid, creator_id=self.alice_id, filename=filename, type=type_, size=len(content),
                                  storage_type=storage, reference=reference, blob=blob, memo_id=memo_id,
                                  payload=payload)
        self.run(lambda: self.store.attachments.create(create))
        return uid

    def get(self, uid: str, query: str = "", headers: dict[str, str] | None = None,
            method: str = "GET") -> httpx.Response:
        url = f"/file/attachments/{uid}/whatever.name{query}"
        return self.client.request(method, url, headers=headers or {}, follow_redirects=False)


def _instance(data: pathlib.Path, **profile: Any) -> Iterator[Instance]:
    with TestClient(create_app(make_profile(data, **profile)), raise_server_exceptions=False) as client:
        yield Instance(client, data)


@pytest.fixture
def public(tmp_path: pathlib.Path) -> Iterator[Instance]:
    yield from _instance(tmp_path / "public", instance_url="http://memos.test")


@pytest.fixture
def private(tmp_path: pathlib.Path) -> Iterator[Instance]:
    yield from _instance(tmp_path / "private")


# --- who may read ---------------------------------------------------------------------------------


def test_unknown_attachment_is_404(public: Instance) -> None:
    response = public.get("nope")
    assert response.status_code == 404 and response.json() == {"message": "attachment not found"}


def test_public_memo_attachment_is_open_on_a_public_instance_only(public: Instance, private: Instance) -> None:
    for instance, anonymous_status in ((public, 200), (private, 401)):
        uid = instance.attach(b"hello", "text/plain", memo_id=instance.memo("PUBLIC"))
        assert instance.get(uid).status_code == anonymous_status
        assert instance.get(uid, headers=instance.bob).status_code == 200


def test_private_memo_attachment_needs_its_owner_or_an_admin(private: Instance) -> None:
    uid = private.attach(b"secret", "text/plain", memo_id=private.memo("PRIVATE"))
    assert private.get(uid).status_code == 401
    assert private.get(uid, headers=private.bob).status_code == 403
    assert private.get(uid, headers=private.bob).json() == {"message": "forbidden access"}
    assert private.get(uid, headers=private.alice).content == b"secret"
    assert private.get(uid, headers=private.root).status_code == 200


def test_the_refresh_cookie_opens_an_owners_private_attachment(private: Instance) -> None:
    uid = private.attach(b"secret", "text/plain", memo_id=private.memo("PRIVATE"))
    signed_in = private.client.post("/memos.api.v1.AuthService/SignIn",
                                    json={"passwordCredentials": {"username": "alice", "password": "pw"}})
    cookie = signed_in.headers["set-cookie"].split(";")[0]
    assert cookie.startswith("memos_refresh=")
    private.client.cookies.clear()
    response = private.get(uid, headers={"cookie": cookie})
    assert response.status_code == 200 and response.content == b"secret"


def test_unlinked_attachment_is_its_creators(public: Instance) -> None:
    uid = public.attach(b"draft", "text/plain")
    assert public.get(uid).status_code == 401
    assert public.get(uid, headers=public.bob).status_code == 403
    assert public.get(uid, headers=public.alice).status_code == 200
    assert public.get(uid, headers=public.root).status_code == 200


def test_a_share_link_opens_its_own_memos_attachments_only(private: Instance) -> None:
    parent = private.memo("PROTECTED")
    comment = private.memo("PROTECTED", comment_on=parent)
    on_parent = private.attach(b"parent bytes", "text/plain", memo_id=parent)
    on_comment = private.attach(b"comment bytes", "text/plain", memo_id=comment)
    private.run(lambda: private.store.memo_shares.create(CreateMemoShare(uid="tok123", memo_id=parent,
                                                                          creator_id=private.alice_id)))
    private.run(lambda: private.store.memo_shares.create(CreateMemoShare(
        uid="expired1", memo_id=parent, creator_id=private.alice_id, expires_ts=int(time.time()) - 10)))
    opened = private.get(on_parent, "?share_token=tok123")
    assert opened.status_code == 200 and opened.content == b"parent bytes"
    assert private.get(on_comment, "?share_token=tok123").status_code == 401
    assert private.get(on_parent, "?share_token=expired1").status_code == 401
    assert private.get(on_parent, "?share_token=unknown").status_code == 401


def test_an_attachment_of_a_deleted_memo_is_404(public: Instance) -> None:
    uid = public.attach(b"x", "text/plain", memo_id=987654)
    assert public.get(uid).json() == {"message": "memo not found"}


# --- what is served -------------------------------------------------------------------------------


def test_headers_types_and_downloads(public: Instance) -> None:
    memo = public.memo()
    cases = [
        ("text/plain", "text/plain; charset=utf-8", True),
        ("text/html", "application/octet-stream", True),
        ("application/xhtml+xml", "application/octet-stream", True),
        ("application/javascript", "application/octet-stream", True),
        ("image/png", "image/png", False),
        ("application/pdf", "application/pdf", False),
        ("application/zip", "application/zip", True),
    ]
    for stored, served, download in cases:
        response = public.get(public.attach(b"<script>alert(1)</script>", stored, memo_id=memo,
                                            filename='a "quoted" name.bin'))
        assert response.status_code == 200
        assert response.headers["content-type"] == served
        assert {name: response.headers.get(name) for name in SECURITY} == SECURITY
        disposition = response.headers.get("content-disposition")
        assert (disposition == 'attachment; filename="a \\"quoted\\" name.bin"') if download else disposition is None
        assert ("color-gamut" in response.headers) == stored.startswith("image/")


def test_a_non_ascii_filename_is_a_safe_header(public: Instance) -> None:
    response = public.get(public.attach(b"x", "application/zip", memo_id=public.memo(), filename="résumé 日本.zip"))
    assert response.status_code == 200
    encoded_name = "r%C3%A9sum%C3%A9%20%E6%97%A5%E6%9C%AC.zip"
    assert response.headers["content-disposition"].endswith(f"filename*=UTF-8''{encoded_name}")


def test_svg_is_served_as_itself_under_the_restrictive_policy(public: Instance) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = public.get(public.attach(svg, "image/svg+xml", memo_id=public.memo()), "?thumbnail=true")
    assert response.status_code == 200 and response.content == svg
    assert response.headers["content-type"] == "image/svg+xml"
    assert "content-disposition" not in response.headers
    assert response.headers["content-security-policy"] == SECURITY["content-security-policy"]


@pytest.mark.parametrize("storage", ["LOCAL", ""])
def test_byte_ranges_and_conditional_requests(public: Instance, storage: str) -> None:
    uid = public.attach(b"0123456789", "text/plain", memo_id=public.memo(), storage=storage)
    ranged = public.get(uid, headers={"range": "bytes=2-5"})
    assert ranged.status_code == 206 and ranged.content == b"2345"
    assert ranged.headers["content-range"] == "bytes 2-5/10"
    assert public.get(uid, headers={"range": "bytes=20-30"}).status_code == 416
    whole = public.get(uid)
    assert whole.headers["accept-ranges"] == "bytes" and "last-modified" in whole.headers
    validator = whole.headers["etag"]  # the same for every storage: the bytes of a uid never change
    assert public.get(uid, headers={"if-none-match": validator}).status_code == 304
    again = public.get(uid, headers={"if-modified-since": whole.headers["last-modified"]})
    assert again.status_code == 304 and again.content == b""
    head = public.get(uid, method="HEAD")
    assert head.status_code == 200 and head.headers["content-length"] == "10" and head.content == b""


def test_a_database_blob_is_streamed_in_slices(public: Instance) -> None:
    content = bytes(range(256)) * 8192  # 2 MiB: several slices
    uid = public.attach(content, "application/octet-stream", memo_id=public.memo())
    assert public.get(uid).content == content
    tail = public.get(uid, headers={"range": "bytes=-300000"})
    assert tail.status_code == 206 and tail.content == content[-300000:]


def test_a_missing_local_file_is_a_plain_404(public: Instance) -> None:
    uid = public.attach(b"x", "text/plain", memo_id=public.memo(), storage="LOCAL",
                        reference=(public.data / "assets" / "gone.txt").as_posix())
    response = public.get(uid)
    assert response.status_code == 404 and response.text == "404 page not found"


def test_old_relative_local_references_are_read_from_the_data_dir(public: Instance) -> None:
    (public.data / "assets").mkdir(exist_ok=True)
    (public.data / "assets" / "old.txt").write_bytes(b"from 0.22")
    uid = public.attach(b"from 0.22", "text/plain", memo_id=public.memo(), storage="LOCAL", reference="assets/old.txt")
    assert public.get(uid).content == b"from 0.22"


# --- thumbnails and motion clips ------------------------------------------------------------------


def _image_size(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "JPEG"
        return image.size


@pytest.mark.parametrize("storage", ["LOCAL", ""])
def test_thumbnails_are_small_jpegs_made_once(public: Instance, storage: str) -> None:
    png = encoded(halves((1600, 900)), "PNG")
    uid = public.attach(png, "image/png", memo_id=public.memo(), storage=storage)
    first = public.get(uid, "?thumbnail=true")
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert _image_size(first.content) == (600, 338)
    cached = public.data / ".thumbnail_cache" / f"{uid}.v2.jpeg"
    made = cached.stat().st_mtime_ns
    assert public.get(uid, "?thumbnail=true").content == first.content
    assert cached.stat().st_mtime_ns == made
    assert public.get(uid).content == png  # the original without the flag


def test_small_images_are_not_enlarged_and_profiles_keep_the_original(public: Instance) -> None:
    small = public.attach(encoded(halves((120, 80)), "JPEG"), "image/jpeg", memo_id=public.memo())
    assert _image_size(public.get(small, "?thumbnail=true").content) == (120, 80)
    png = encoded(halves((800, 800)), "PNG")
    with_cicp = png[:33] + b"\x00\x00\x00\x04cICP\x01\x0d\x00\x01" + b"\x00\x00\x00\x00" + png[33:]
    uid = public.attach(with_cicp, "image/png", memo_id=public.memo())
    response = public.get(uid, "?thumbnail=true")
    assert response.headers["content-type"] == "image/png" and response.content == with_cicp


def test_motion_clip_of_an_android_motion_photo(public: Instance) -> None:
    payload = AttachmentPayload()
    payload.motion_media.family = ANDROID_MOTION_PHOTO
    payload.motion_media.has_embedded_video = True
    uid = public.attach(motion_photo(), "image/jpeg", memo_id=public.memo(), payload=payload)
    clip = public.get(uid, "?motion=true")
    assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
    assert b"ftyp" in clip.content[:16]
    ranged = public.get(uid, "?motion=true", headers={"range": "bytes=0-3"})
    assert ranged.status_code == 206
    plain = public.attach(b"x", "image/jpeg", memo_id=public.memo())
    refused = public.get(plain, "?motion=true")
    assert refused.status_code == 400 and refused.json() == {"message": "attachment does not have motion clip"}


# --- S3 ---------------------------------------------------------------------------------------------


def _s3_attachment(instance: Instance, s3_config: StorageS3Config, content: bytes, type_: str) -> str:
    key = f"{uuid.uuid4().hex}/object.bin"

    async def upload() -> None:
        client = S3Client(s3_config)
        try:
            await client.put_object(key, content, type_)
        finally:
            await client.aclose()

    instance.run(upload)
    payload = AttachmentPayload()
    payload.s3_object.key = key
    payload.s3_object.s3_config.CopyFrom(s3_config)
    return instance.attach(content, type_, memo_id=instance.memo(), storage="S3", payload=payload,
                           reference="https://stale.example/link")


def test_s3_files_stream_through_and_media_redirect(public: Instance, s3_config: StorageS3Config) -> None:
    content = bytes(range(256)) * 1024
    uid = _s3_attachment(public, s3_config, content, "application/pdf")
    response = public.get(uid)
    assert response.status_code == 200 and response.content == content
    ranged = public.get(uid, headers={"range": "bytes=1000-1999"})
    assert ranged.status_code == 206 and ranged.content == content[1000:2000]
    video = _s3_attachment(public, s3_config, b"\x00\x00\x00\x18ftypmp42", "video/mp4")
    redirected = public.get(video)
    assert redirected.status_code == 307
    assert redirected.headers["location"].startswith(s3_config.endpoint)
    assert httpx.get(redirected.headers["location"]).content == b"\x00\x00\x00\x18ftypmp42"


def test_s3_thumbnail(public: Instance, s3_config: StorageS3Config) -> None:
    uid = _s3_attachment(public, s3_config, encoded(halves((1200, 1200)), "JPEG"), "image/jpeg")
    assert _image_size(public.get(uid, "?thumbnail=true").content) == (600, 600)
