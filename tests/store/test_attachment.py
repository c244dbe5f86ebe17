"""Attachment reads through store.attachments: one memo's, and many memos' in one query."""
from __future__ import annotations

import pytest

from memos.store import FindAttachment, Store

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
