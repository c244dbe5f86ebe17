"""AttachmentService over REST and Connect (spec memos.md §6, §7.1-7.4; checklist 71, 108-118)."""
from __future__ import annotations

import base64
import json
import pathlib
from typing import Any

import pytest
from media_support import camera_exif, encoded, halves, minimal_mp4, motion_photo
from memo_support import ATTACHMENT_CONNECT, World, error, set_storage, upload, uploaded
from support import sqlite_rows

from memos.auth.body_limits import ENVELOPE_BYTES, LARGEST_AUDIO_BYTES, MIB, base64_length

PNG_MAGIC = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _connect(world: World, who: str, method: str, body: dict) -> Any:
    return world.client.post(ATTACHMENT_CONNECT + method, content=json.dumps(body),
                             headers={"content-type": "application/json", **world.headers[who]})


def _connect_error(response: Any) -> tuple[str, str]:
    return response.json()["code"], response.json()["message"]


def _data_dir(world: World) -> pathlib.Path:
    return pathlib.Path(world.client.app.state.profile.data)


def _assets(world: World) -> list[str]:
    assets = _data_dir(world) / "assets"
    return sorted(path.name for path in assets.iterdir()) if assets.exists() else []


def _rows(world: World, sql: str, *args: Any) -> list[tuple]:
    return sqlite_rows(_data_dir(world) / "memos_prod.db", sql, args)


def _uid(name: str) -> str:
    return name.removeprefix("attachments/")


def _stored_bytes(world: World, name: str) -> bytes:
    """What the server stored for an attachment: its file (LOCAL) or its blob (DATABASE)."""
    ((storage_type, reference, blob),) = _rows(
        world, "SELECT storage_type, reference, blob FROM attachment WHERE uid = ?", _uid(name)
    )
    if storage_type == "LOCAL":
        return (_data_dir(world) / reference).read_bytes()
    return bytes(blob)


# --- CreateAttachment: the request ---------------------------------------------------------------------


def test_a_new_attachment_is_answered_in_the_gateway_shape_and_stored_in_a_local_file(world: World) -> None:
    created = uploaded(world, "alice", "hello.txt", b"hello", attachment_id="a1")
    assert set(created) == {"name", "createTime", "filename", "content", "externalLink", "type", "size", "motionMedia"}
    assert created["name"] == "attachments/a1"
    assert (created["filename"], created["type"], created["size"]) == ("hello.txt", "text/plain", "5")
    assert (created["content"], created["externalLink"], created["motionMedia"]) == ("", "", None)
    # LOCAL is the default on a fresh install: one file under <data>/assets, named by the default template.
    (file,) = _assets(world)
    assert file.endswith("_hello.txt")
    assert (_data_dir(world) / "assets" / file).read_bytes() == b"hello"
    ((storage_type, reference, blob, creator),) = _rows(
        world, "SELECT storage_type, reference, blob, creator_id FROM attachment WHERE uid = 'a1'"
    )
    assert (storage_type, blob, creator) == ("LOCAL", None, world.ids["alice"])
    assert reference.endswith(f"assets/{file}")


def test_connect_takes_the_attachment_inside_the_request(world: World) -> None:
    body = {"attachment": {"filename": "c.txt", "content": base64.b64encode(b"abc").decode()}, "attachmentId": "c1"}
    response = _connect(world, "alice", "CreateAttachment", body)
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "attachments/c1", "createTime": response.json()["createTime"],
                               "filename": "c.txt", "type": "text/plain", "size": "3"}
    assert _connect_error(_connect(world, "alice", "CreateAttachment", {})) == (
        "invalid_argument", "attachment is required"
    )


def test_generated_ids_are_short_uuids(world: World) -> None:
    uid = _uid(uploaded(world, "alice")["name"])
    assert len(uid) == 22 and uid.isalnum()


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("test.png", b"hi", "image/png"),  # from the extension
        ("test.unknown", PNG_MAGIC, "image/png"),  # sniffed
        ("test.data", b"\x00\x01\x02\x03", "application/octet-stream"),
        ("notes", b"plain words", "text/plain"),  # sniffed text loses its charset parameter
    ],
)
def test_108_a_missing_type_is_guessed_from_the_name_then_the_bytes(
    world: World, filename: str, content: bytes, expected: str
) -> None:
    assert uploaded(world, "alice", filename, content)["type"] == expected


def test_109_the_given_type_is_normalised_or_refused(world: World) -> None:
    assert uploaded(world, "alice", "a.webm", b"x", type="audio/webm;codecs=opus")["type"] == "audio/webm"
    assert uploaded(world, "alice", "a.bin", b"x", type="Image/PNG")["type"] == "image/png"
    assert error(upload(world, "alice", "a.webm", b"x", type='audio/webm;codecs="unterminated')) == (
        400, "invalid MIME type format"
    )
    assert error(upload(world, "alice", "a.bin", b"x", type="text/" + "x" * 300)) == (400, "invalid MIME type format")
    assert len(_assets(world)) == 2  # the refused ones stored nothing


@pytest.mark.parametrize("filename", ["../x", "a/b", "a\\b", " x", "x ", "x.", ".hidden", "..", ".", "a\x00b"])
def test_110_filenames_that_are_not_one_plain_name_are_refused(world: World, filename: str) -> None:
    assert error(upload(world, "alice", filename)) == (400, "filename contains invalid characters or format")
    assert _assets(world) == []


def test_110_dots_inside_a_name_are_fine_and_a_name_is_required(world: World) -> None:
    assert uploaded(world, "alice", "a..b.txt")["filename"] == "a..b.txt"
    assert error(upload(world, "alice", "")) == (400, "filename is required")


def test_a_chosen_id_follows_the_uid_rules_and_a_taken_one_stores_nothing(world: World) -> None:
    assert error(upload(world, "alice", attachment_id="-bad")) == (
        400,
        "invalid UID: must be 1-36 characters, contain only letters, digits, or hyphens, "
        "and start and end with a letter or digit",
    )
    uploaded(world, "alice", "one.txt", attachment_id="same")
    status, message = error(upload(world, "bob", "two.txt", attachment_id="same"))
    assert status == 500 and message.startswith("failed to create attachment: ")
    assert [name.endswith("_one.txt") for name in _assets(world)] == [True]


def test_113_clients_may_describe_apple_live_photos_only(world: World) -> None:
    still = {"family": "APPLE_LIVE_PHOTO", "role": "STILL", "groupId": "g1"}
    created = uploaded(world, "alice", "live.jpg", b"\xff\xd8\xff", motionMedia=still)
    assert created["motionMedia"] == {**still, "presentationTimestampUs": "0", "hasEmbeddedVideo": False}
    fetched = world.client.get(f"/api/v1/{created['name']}", headers=world.headers["alice"])
    assert fetched.json()["motionMedia"]["groupId"] == "g1"
    cases = [
        ({"family": "ANDROID_MOTION_PHOTO", "role": "CONTAINER", "groupId": "g"},
         "only Apple Live Photo motion metadata can be provided by clients"),
        ({}, "only Apple Live Photo motion metadata can be provided by clients"),
        ({"family": "APPLE_LIVE_PHOTO", "role": "CONTAINER", "groupId": "g"}, "invalid Apple Live Photo motion role"),
        ({"family": "APPLE_LIVE_PHOTO", "role": "VIDEO"}, "motion media group_id is required"),
    ]
    for motion, message in cases:
        assert error(upload(world, "alice", "live.mov", b"x", motionMedia=motion)) == (400, message), motion


# --- CreateAttachment: what is done to the bytes -----------------------------------------------------


def test_114_an_android_motion_photo_is_recognised_and_kept_whole(world: World) -> None:
    clip = minimal_mp4()
    photo = motion_photo(clip, exif=camera_exif(6))
    created = uploaded(world, "alice", "PXL_1.jpg", photo)
    uid = _uid(created["name"])
    assert created["motionMedia"] == {
        "family": "ANDROID_MOTION_PHOTO", "role": "CONTAINER", "groupId": uid,
        "presentationTimestampUs": "1234567", "hasEmbeddedVideo": True,
    }
    # The container is stored as it came: its XMP says where the clip starts.
    assert _stored_bytes(world, created["name"]) == photo and created["size"] == str(len(photo))
    # Client-given Apple motion data is taken as it is: no Android detection on top.
    apple = {"family": "APPLE_LIVE_PHOTO", "role": "STILL", "groupId": "g"}
    assert uploaded(world, "alice", "still.jpg", photo, motionMedia=apple)["motionMedia"]["family"] == (
        "APPLE_LIVE_PHOTO"
    )


def test_a_photo_loses_its_private_metadata_and_its_size_is_what_is_stored(world: World) -> None:
    original = encoded(halves((64, 32)), "JPEG", exif=camera_exif(6), comment=b"shot at home")
    created = uploaded(world, "alice", "photo.jpg", original)
    stored = _stored_bytes(world, created["name"])
    assert b"shot at home" not in stored and b"Phonemaker" not in stored
    assert created["size"] == str(len(stored)) and len(stored) < len(original)
    assert created["type"] == "image/jpeg"  # the type is left as it was
    assert created["motionMedia"] is None
    text = uploaded(world, "alice", "notes.txt", b"shot at home")  # not an image: untouched
    assert _stored_bytes(world, text["name"]) == b"shot at home"


# --- CreateAttachment: the size limit ---------------------------------------------------------------------


def test_112_an_upload_over_the_limit_is_refused_with_the_limit_named(world: World) -> None:
    set_storage(world, uploadSizeLimitMb=1)
    assert uploaded(world, "alice", "exact.bin", b"\x00" * MIB)["size"] == str(MIB)
    assert error(upload(world, "alice", "over.bin", b"\x00" * (MIB + 1))) == (
        400, f"file size exceeds the limit: {MIB + 1} bytes, the limit is 1 MiB"
    )
    assert len(_assets(world)) == 1


def _body_of(size: int, connect: bool) -> bytes:
    """A CreateAttachment JSON body of exactly ``size`` bytes (valid base64 content)."""
    def body(filename: str, encoded_length: int) -> bytes:
        attachment = {"filename": filename, "content": "A" * encoded_length}
        return json.dumps({"attachment": attachment} if connect else attachment).encode()

    empty = len(body("f", 0))
    encoded_length = (size - empty) // 4 * 4
    spare = size - empty - encoded_length  # 0-3 bytes: the file name takes them
    result = body("f" * (1 + spare), encoded_length)
    assert len(result) == size
    return result


@pytest.mark.parametrize("connect", [False, True], ids=["rest", "connect"])
def test_the_transport_refuses_bodies_past_the_largest_upload_before_reading_them(world: World, connect: bool) -> None:
    # A signed-in body may hold the largest file as base64 plus the JSON around it (memos.auth.body_limits).
    cap = base64_length(max(30 * MIB, LARGEST_AUDIO_BYTES)) + ENVELOPE_BYTES
    path = ATTACHMENT_CONNECT + "CreateAttachment" if connect else "/api/v1/attachments"
    headers = {"content-type": "application/json", **world.headers["alice"]}
    over = world.client.post(path, content=_body_of(cap + 1, connect), headers=headers)
    assert over.status_code == 413
    under = world.client.post(path, content=_body_of(cap, connect), headers=headers)
    # Read and decoded: the service itself measures the file (a little over 30 MiB) and refuses it.
    assert under.status_code == 400
    assert under.json()["message"].startswith("file size exceeds the limit: ")
    assert _assets(world) == []


# --- CreateAttachment: linked to a memo -----------------------------------------------------------------------


def test_115_an_upload_can_be_linked_to_ones_own_memo_or_by_an_admin(world: World) -> None:
    memo = world.create("alice", visibility="PRIVATE")["name"]
    assert error(upload(world, "bob", memo=memo)) == (403, "permission denied")
    assert _assets(world) == [] and _rows(world, "SELECT count(*) FROM attachment") == [(0,)]
    by_admin = uploaded(world, "root", "admin.txt", memo=memo)
    assert by_admin["memo"] == memo
    own = uploaded(world, "alice", "own.txt", memo=memo)
    shown = world.get("alice", memo).json()["attachments"]
    assert [a["name"] for a in shown] == [own["name"], by_admin["name"]]  # newest first
    assert error(upload(world, "alice", memo="memos/ghost")) == (404, "memo not found: memos/ghost")
    status, message = error(upload(world, "alice", memo="nonsense"))
    assert status == 400 and message.startswith("invalid memo name: ")


# --- DATABASE storage -------------------------------------------------------------------------------------------


def test_database_storage_keeps_the_bytes_in_the_row(world: World) -> None:
    set_storage(world, storageType="DATABASE")
    created = uploaded(world, "alice", "db.txt", b"in the row")
    assert _assets(world) == []
    assert _rows(world, "SELECT storage_type, reference, blob FROM attachment") == [("", "", b"in the row")]
    assert _stored_bytes(world, created["name"]) == b"in the row"
    assert world.client.delete(f"/api/v1/{created['name']}", headers=world.headers["alice"]).status_code == 200
    assert _rows(world, "SELECT count(*) FROM attachment") == [(0,)]


def test_111_two_uploads_of_one_name_get_their_own_files(world: World) -> None:
    set_storage(world, filepathTemplate="assets/{filename}")
    first = uploaded(world, "alice", "screenshot.png", b"first")
    second = uploaded(world, "alice", "screenshot.png", b"second")
    assert _assets(world) == sorted(["screenshot.png", f"screenshot_{_uid(second['name'])}.png"])
    references = {row[0] for row in _rows(world, "SELECT reference FROM attachment")}
    assert len(references) == 2
    assert (_stored_bytes(world, first["name"]), _stored_bytes(world, second["name"])) == (b"first", b"second")
    for created, content in ((first, b"first"), (second, b"second")):
        served = world.client.get(f"/file/{created['name']}/screenshot.png", headers=world.headers["alice"])
        assert (served.status_code, served.content) == (200, content)


# --- ListAttachments -------------------------------------------------------------------------------------------------


def _list(world: World, who: str, **params: Any) -> Any:
    return world.client.get("/api/v1/attachments", params=params, headers=world.headers[who])


def test_116_a_list_holds_only_the_callers_attachments_newest_first_with_offset_tokens(world: World) -> None:
    mine = [uploaded(world, "alice", f"{i}.txt")["name"] for i in range(4)]
    uploaded(world, "bob", "other.txt")
    uploaded(world, "root", "admin.txt")
    world.run_sql("UPDATE attachment SET updated_ts = 1000 + id")  # distinct times: a stable order
    newest_first = list(reversed(mine))
    first = _list(world, "alice", pageSize=2).json()
    assert [a["name"] for a in first["attachments"]] == newest_first[:2]
    assert first["nextPageToken"] == "2"
    second = _list(world, "alice", pageSize=2, pageToken="2").json()
    assert [a["name"] for a in second["attachments"]] == newest_first[2:]
    assert second["nextPageToken"] == "4"  # a full last page still hands out a token
    third = _list(world, "alice", pageSize=2, pageToken="4").json()
    assert (third["attachments"], third["nextPageToken"]) == ([], "")
    everything = _list(world, "alice", orderBy="filename").json()  # order_by is ignored
    assert [a["name"] for a in everything["attachments"]] == newest_first and everything["nextPageToken"] == ""
    assert [a["name"] for a in _list(world, "root").json()["attachments"]] != []  # admins see their own only
    assert len(_list(world, "root").json()["attachments"]) == 1
    assert error(_list(world, "alice", pageToken="abc")) == (400, "invalid page token")
    assert [a["name"] for a in _list(world, "alice", pageToken="3x").json()["attachments"]] == newest_first[3:]


def test_71_filters_pick_linked_and_unlinked_attachments(world: World) -> None:
    memo = world.create("alice")["name"]
    linked = uploaded(world, "alice", "linked.txt", memo=memo)["name"]
    loose = uploaded(world, "alice", "loose.md")["name"]

    def names(text: str) -> list[str]:
        response = _list(world, "alice", filter=text)
        assert response.status_code == 200, response.text
        return [a["name"] for a in response.json()["attachments"]]

    assert names("memo_id == null") == [loose]
    assert names("memo_id != null") == [linked]
    assert names('filename.endsWith(".md")') == [loose]
    assert names('mime_type == "text/plain"') == [linked]
    listed = _list(world, "alice", filter="memo_id != null").json()["attachments"]
    assert listed[0]["memo"] == memo
    status, message = error(_list(world, "alice", filter="nonsense =="))
    assert status == 400 and message.startswith("invalid filter: ")


# --- GetAttachment ------------------------------------------------------------------------------------------


def _get(world: World, who: str, name: str) -> Any:
    return world.client.get(f"/api/v1/{name}", headers=world.headers[who])


def test_an_unlinked_attachment_is_read_by_its_creator_and_admins(world: World) -> None:
    name = uploaded(world, "alice")["name"]
    assert _get(world, "alice", name).status_code == 200
    assert _get(world, "root", name).status_code == 200
    assert error(_get(world, "bob", name)) == (403, "permission denied")
    assert _get(world, "anon", name).status_code == 401
    assert error(_get(world, "alice", "attachments/ghost")) == (404, "attachment not found")


@pytest.mark.parametrize(
    ("visibility", "bob"), [("PUBLIC", 200), ("PROTECTED", 200), ("PRIVATE", 403)]
)
def test_a_linked_attachment_is_as_readable_as_its_memo(world: World, visibility: str, bob: int) -> None:
    memo = world.create("alice", visibility=visibility)["name"]
    name = uploaded(world, "alice", memo=memo)["name"]
    assert (_get(world, "bob", name).status_code, _get(world, "root", name).status_code) == (bob, 200)
    assert _get(world, "alice", name).json()["memo"] == memo
    world.run_sql("UPDATE attachment SET memo_id = 9999")
    assert error(_get(world, "alice", name)) == (404, "memo not found")


def test_a_bad_attachment_name_is_an_invalid_id(world: World) -> None:
    response = _connect(world, "alice", "GetAttachment", {"name": "files/x"})
    code, message = _connect_error(response)
    assert code == "invalid_argument" and message.startswith("invalid attachment id: ")


# --- UpdateAttachment ---------------------------------------------------------------------------------------


def _rename(world: World, who: str, name: str, body: dict, mask: str | None = "filename") -> Any:
    query = f"?updateMask={mask}" if mask is not None else ""
    return world.client.patch(f"/api/v1/{name}{query}", json=body, headers=world.headers[who])


def test_update_renames_only_and_moves_the_attachment_up_in_its_memo(world: World) -> None:
    memo = world.create("alice")["name"]
    first = uploaded(world, "alice", "first.txt", memo=memo)["name"]
    second = uploaded(world, "alice", "second.txt", memo=memo)["name"]
    world.run_sql("UPDATE attachment SET updated_ts = 1000 + id")
    assert [a["name"] for a in world.get("alice", memo).json()["attachments"]] == [second, first]
    renamed = _rename(world, "alice", first, {"filename": "renamed.txt", "type": "image/png"}, "filename,type")
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["filename"], renamed.json()["type"], renamed.json()["memo"]) == (
        "renamed.txt", "text/plain", memo
    )
    assert [a["name"] for a in world.get("alice", memo).json()["attachments"]] == [first, second]
    assert _rename(world, "root", first, {"filename": "by-admin.txt"}).json()["filename"] == "by-admin.txt"
    assert error(_rename(world, "bob", first, {"filename": "x.txt"})) == (403, "permission denied")
    assert error(_rename(world, "alice", first, {"filename": "../x"})) == (
        400, "filename contains invalid characters or format"
    )
    assert error(_rename(world, "alice", "attachments/ghost", {"filename": "x.txt"})) == (404, "attachment not found")
    body = {"attachment": {"name": first, "filename": "x.txt"}}
    assert _connect_error(_connect(world, "alice", "UpdateAttachment", body)) == (
        "invalid_argument", "update mask is required"
    )


# --- DeleteAttachment, BatchDeleteAttachments ---------------------------------------------------------------


def _delete(world: World, who: str, name: str) -> Any:
    return world.client.delete(f"/api/v1/{name}", headers=world.headers[who])


def _batch(world: World, who: str, names: list[str]) -> Any:
    return world.client.post("/api/v1/attachments:batchDelete", json={"names": names}, headers=world.headers[who])


def test_117_delete_finds_only_the_callers_own_and_removes_the_file(world: World) -> None:
    memo = world.create("alice", updateTime="2020-01-01T00:00:00Z")["name"]
    name = uploaded(world, "alice", "gone.txt", memo=memo)["name"]
    (_data_dir(world) / ".thumbnail_cache").mkdir()
    thumbnail = _data_dir(world) / ".thumbnail_cache" / f"{_uid(name)}.jpeg"
    thumbnail.write_bytes(b"cached")
    assert error(_delete(world, "bob", name)) == (404, "attachment not found")
    assert error(_delete(world, "root", name)) == (404, "attachment not found")
    assert len(_assets(world)) == 1
    assert _delete(world, "alice", name).status_code == 200
    assert _assets(world) == [] and not thumbnail.exists()
    assert _rows(world, "SELECT count(*) FROM attachment") == [(0,)]
    assert world.get("alice", memo).json()["updateTime"] == "2020-01-01T00:00:00Z"  # the memo is not touched
    assert error(_delete(world, "alice", name)) == (404, "attachment not found")


def test_a_file_that_cannot_be_removed_leaves_no_row_behind(world: World) -> None:
    name = uploaded(world, "alice", "stuck.txt")["name"]
    (reference,) = _rows(world, "SELECT reference FROM attachment")[0]
    path = _data_dir(world) / reference
    path.unlink()
    path.mkdir()  # a directory where the file was: unlink fails
    (path / "keep").write_text("x")
    assert _delete(world, "alice", name).status_code == 200  # logged, not raised (Memos: INTERNAL)
    assert _rows(world, "SELECT count(*) FROM attachment") == [(0,)]


def test_117_118_batch_delete_checks_everything_first(world: World) -> None:
    mine = [uploaded(world, "alice", f"{i}.txt")["name"] for i in range(2)]
    bobs = uploaded(world, "bob", "bob.txt")["name"]
    assert error(_batch(world, "bob", [bobs, *mine])) == (403, "permission denied")
    assert error(_batch(world, "alice", [mine[0], "attachments/ghost"])) == (404, "attachment not found")
    assert len(_assets(world)) == 3  # nothing was deleted by the refused calls
    assert error(_batch(world, "alice", [])) == (400, "attachment names are required")
    assert error(_batch(world, "alice", [mine[0], ""])) == (400, "attachment name is required")
    assert error(_batch(world, "alice", [f"attachments/a{i}" for i in range(101)])) == (
        400, "too many attachment names; max 100"
    )
    assert _batch(world, "alice", [mine[0], mine[0], mine[1]]).status_code == 200  # duplicates are fine
    assert _batch(world, "root", [bobs]).status_code == 200  # an admin may batch-delete anyone's
    assert _assets(world) == [] and _rows(world, "SELECT count(*) FROM attachment") == [(0,)]


def test_every_attachment_rpc_needs_a_signed_in_caller(world: World) -> None:
    for method in ("CreateAttachment", "ListAttachments", "GetAttachment", "UpdateAttachment",
                   "DeleteAttachment", "BatchDeleteAttachments"):
        assert _connect_error(_connect(world, "anon", method, {})) == ("unauthenticated", "authentication required")
