"""Attachment reads through store.attachments: one memo's, and many memos' in one query."""
from __future__ import annotations

import pytest

from memos.filter import parse_attachment_filter
from memos.gen.store.attachment_pb2 import AttachmentPayload
from memos.store import (
    CreateAttachment,
    FindAttachment,
    InvalidValue,
    NotFound,
    SetMemoAttachments,
    Store,
    UpdateAttachment,
)

pytestmark = pytest.mark.anyio


async def _attach(store: Store, rows: list[tuple[str, int | None, int]]) -> None:
    def insert(conn: object) -> None:
        for uid, memo_id, updated_ts in rows:
            conn.execute(  # type: ignore[attr-defined]
                "INSERT INTO attachment (uid, creator_id, filename, type, size, memo_id, updated_ts, blob, payload)"
                " VALUES (?, 1, ?, 'image/png', 3, ?, ?, x'010203', '{\"s3Object\":{\"key\":\"k\"}}')",
                (uid, f"{uid}.png", memo_id, updated_ts),
            )

    await store.driver.run_write(insert)


async def test_attachments_of_many_memos_newest_first(store: Store) -> None:
    await _attach(store, [("a1", 1, 10), ("a2", 1, 30), ("a3", 1, 20), ("b1", 2, 5), ("free", None, 99)])
    grouped = await store.attachments.find_by_memo_ids([1, 2, 3])
    assert {memo: [a.uid for a in found] for memo, found in grouped.items()} == {
        1: ["a2", "a3", "a1"], 2: ["b1"], 3: []}
    first = grouped[1][0]
    assert (first.filename, first.type, first.size, first.memo_id) == ("a2.png", "image/png", 3, 1)
    assert first.payload.s3_object.key == "k"
    capped = await store.attachments.find_by_memo_ids([1, 2], per_memo_limit=2)
    assert [a.uid for a in capped[1]] == ["a2", "a3"] and [a.uid for a in capped[2]] == ["b1"]
    assert await store.attachments.find_by_memo_ids([]) == {}
    assert [a.uid for a in await store.attachments.find(FindAttachment(uid="free"))] == ["free"]
    assert [a.uid for a in await store.attachments.find(FindAttachment(memo_id=2))] == ["b1"]


def _new(uid: str, **fields: object) -> CreateAttachment:
    values: dict[str, object] = {"uid": uid, "creator_id": 1, "filename": f"{uid}.bin", "type": "application/pdf",
                                 "size": 3}
    values.update(fields)
    return CreateAttachment(**values)  # type: ignore[arg-type]


async def test_create_keeps_every_column_and_the_payload(store: Store) -> None:
    payload = AttachmentPayload()
    payload.motion_media.group_id = "g1"
    created = await store.attachments.create(
        _new("doc", blob=b"abc", payload=payload, created_ts=100, updated_ts=200, memo_id=7))
    assert (created.uid, created.filename, created.type, created.size, created.memo_id) == (
        "doc", "doc.bin", "application/pdf", 3, 7)
    assert (created.created_ts, created.updated_ts, created.storage_type, created.reference) == (100, 200, "", "")
    assert created.payload.motion_media.group_id == "g1"
    assert await store.attachments.blob_size(created.id) == 3
    stored = await store.driver.run_read(
        lambda conn: conn.execute("SELECT payload, blob FROM attachment WHERE id = ?", (created.id,)).fetchall())
    assert stored == [('{"motionMedia":{"groupId":"g1"}}', b"abc")]
    local = await store.attachments.create(_new("file", storage_type="LOCAL", reference="/data/assets/file.bin"))
    assert local.payload.ByteSize() == 0 and await store.attachments.blob_size(local.id) is None
    with pytest.raises(InvalidValue):
        await store.attachments.create(_new("bad uid!"))


async def test_blob_is_read_in_slices(store: Store) -> None:
    data = bytes(range(256)) * 4096  # 1 MiB
    created = await store.attachments.create(_new("big", blob=data, size=len(data)))
    assert await store.attachments.read_blob(created.id, 0, 10) == data[:10]
    assert await store.attachments.read_blob(created.id, 1000, 70000) == data[1000:71000]
    assert await store.attachments.read_blob(created.id, len(data) - 5, 100) == data[-5:]
    assert await store.attachments.read_blob(created.id, len(data) + 5, 100) == b""
    assert await store.attachments.read_blob(9999, 0, 10) == b""


async def test_update_renames_and_touches(store: Store) -> None:
    created = await store.attachments.create(_new("doc", updated_ts=5))
    renamed = await store.attachments.update(UpdateAttachment(id=created.id, filename="new.pdf", updated_ts=50))
    assert (renamed.filename, renamed.updated_ts, renamed.created_ts) == ("new.pdf", 50, created.created_ts)
    with pytest.raises(NotFound):
        await store.attachments.update(UpdateAttachment(id=999, filename="x"))


async def test_delete_returns_what_went(store: Store) -> None:
    a = await store.attachments.create(_new("a", storage_type="LOCAL", reference="assets/a.bin"))
    b = await store.attachments.create(_new("b"))
    gone = await store.attachments.delete([b.id, a.id, 12345])
    assert [(ref.uid, ref.storage_type, ref.reference) for ref in gone] == [
        ("a", "LOCAL", "assets/a.bin"), ("b", "", "")]
    assert await store.attachments.find(FindAttachment()) == []
    assert await store.attachments.delete([]) == []


async def test_set_memo_attachments_orders_links_and_removes_in_one_go(store: Store) -> None:
    old = await store.attachments.create(_new("old", memo_id=1))
    elsewhere = await store.attachments.create(_new("moved", memo_id=2))
    free = await store.attachments.create(_new("free"))
    removed = await store.attachments.set_memo_attachments(
        SetMemoAttachments(memo_id=1, keep=[free.id, elsewhere.id], remove=[old.id], now=1000))
    assert [ref.uid for ref in removed] == ["old"]
    kept = await store.attachments.find(FindAttachment(memo_id=1))
    assert [(a.uid, a.updated_ts) for a in kept] == [("free", 1001), ("moved", 1000)]
    assert await store.attachments.find(FindAttachment(memo_id=2)) == []
    with pytest.raises(InvalidValue):
        await store.attachments.set_memo_attachments(
            SetMemoAttachments(memo_id=1, keep=[free.id], remove=[free.id], now=1))


async def test_find_pages_filters_and_narrows(store: Store) -> None:
    for index, uid in enumerate(["a", "b", "c", "d"]):
        await store.attachments.create(_new(uid, updated_ts=index, storage_type="S3" if uid in "bd" else "",
                                            type="image/png" if uid in "ab" else "text/plain"))
    page = await store.attachments.find(FindAttachment(limit=2, offset=1))
    assert [a.uid for a in page] == ["c", "b"]
    assert [a.uid for a in await store.attachments.find(FindAttachment(storage_type="S3"))] == ["d", "b"]
    assert [a.uid for a in await store.attachments.find(FindAttachment(uids=["a", "c", "zz"]))] == ["c", "a"]
    assert await store.attachments.find(FindAttachment(ids=[])) == []
    images = await store.attachments.find(FindAttachment(filter=parse_attachment_filter('mime_type == "image/png"')))
    assert [a.uid for a in images] == ["b", "a"]
    assert (await store.attachments.get(FindAttachment(uid="c"))) is not None
    with pytest.raises(InvalidValue):
        await store.attachments.find(FindAttachment(limit=-1))
