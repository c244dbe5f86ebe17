"""Memo relations through store.memo_relations: writes, comment paging, batch reads."""
from __future__ import annotations

import pytest

from memos.store import CreateMemo, FindMemoRelation, InvalidValue, MemoRelation, Store

pytestmark = pytest.mark.anyio


async def _memo(store: Store, uid: str, creator_id: int = 1, **fields: object) -> int:
    return (await store.memos.create(CreateMemo(uid=uid, creator_id=creator_id, **fields))).id  # type: ignore[arg-type]


async def test_upsert_is_idempotent_and_find_and_delete_match_criteria(store: Store) -> None:
    a, b, c = [await _memo(store, uid) for uid in "abc"]
    await store.memo_relations.upsert(MemoRelation(a, b, "REFERENCE"))
    await store.memo_relations.upsert(MemoRelation(a, b, "REFERENCE"))
    await store.memo_relations.upsert(MemoRelation(c, a, "COMMENT"))
    assert await store.memo_relations.find(FindMemoRelation()) == [
        MemoRelation(a, b, "REFERENCE"), MemoRelation(c, a, "COMMENT")]
    assert await store.memo_relations.find(FindMemoRelation(related_memo_id=a)) == [MemoRelation(c, a, "COMMENT")]
    assert await store.memo_relations.delete(FindMemoRelation(memo_id=a, type="REFERENCE")) == 1
    assert await store.memo_relations.find(FindMemoRelation(memo_id=a)) == []
    with pytest.raises(InvalidValue):
        await store.memo_relations.delete(FindMemoRelation())
    with pytest.raises(InvalidValue):
        await store.memo_relations.upsert(MemoRelation(a, b, "SIBLING"))


async def test_replace_references_touches_only_outgoing_references(store: Store) -> None:
    a, b, c, d = [await _memo(store, uid) for uid in "abcd"]
    await store.memo_relations.upsert(MemoRelation(a, b, "REFERENCE"))
    await store.memo_relations.upsert(MemoRelation(d, a, "REFERENCE"))
    await store.memo_relations.upsert(MemoRelation(a, d, "COMMENT"))
    await store.memo_relations.replace_references(a, [c, a, c])
    relations = await store.memo_relations.find(FindMemoRelation())
    assert sorted((r.memo_id, r.related_memo_id, r.type) for r in relations) == [
        (a, c, "REFERENCE"), (a, d, "COMMENT"), (d, a, "REFERENCE")]


async def test_comment_ids_are_paged_highest_id_first(store: Store) -> None:
    parent = await _memo(store, "parent")
    comments = [await _memo(store, f"c{i}") for i in range(3)]
    for comment in comments:
        await store.memo_relations.upsert(MemoRelation(comment, parent, "COMMENT"))
    await store.memo_relations.upsert(MemoRelation(comments[0], comments[1], "REFERENCE"))
    assert await store.memo_relations.find_comment_ids(parent, limit=2) == [comments[2], comments[1]]
    assert await store.memo_relations.find_comment_ids(parent, limit=2, offset=2) == [comments[0]]
    assert await store.memo_relations.find_comment_ids(comments[1]) == []


async def test_relations_of_many_memos_in_one_read(store: Store) -> None:
    a = await _memo(store, "a", 1, content="alpha text", visibility="PUBLIC")
    b = await _memo(store, "b", 2, content="beta", visibility="PRIVATE")
    c = await _memo(store, "c", 1, content="gamma")
    gone = await _memo(store, "gone")
    await store.memo_relations.upsert(MemoRelation(c, a, "COMMENT"))
    await store.memo_relations.upsert(MemoRelation(a, b, "REFERENCE"))
    await store.memo_relations.upsert(MemoRelation(b, a, "REFERENCE"))
    await store.memo_relations.upsert(MemoRelation(a, gone, "REFERENCE"))
    await store.driver.run_write(lambda conn: conn.execute("DELETE FROM memo WHERE id = ?", (gone,)))

    found = await store.memo_relations.find_for_memos([a, c, 404])
    assert set(found) == {a, c, 404} and found[404] == []
    shape = [(r.memo.uid, r.related_memo.uid, r.type) for r in found[a]]
    # Outgoing first, then incoming in insertion order; the relation to a missing memo is left out.
    assert shape == [("a", "b", "REFERENCE"), ("c", "a", "COMMENT"), ("b", "a", "REFERENCE")]
    assert [(r.memo.uid, r.related_memo.uid) for r in found[c]] == [("c", "a")]
    ends = found[a][0]
    assert (ends.related_memo.creator_id, ends.related_memo.visibility, ends.related_memo.content) == (2, "PRIVATE", "")
    with_content = await store.memo_relations.find_for_memos([a], with_content=True)
    assert with_content[a][0].memo.content == "alpha text" and with_content[a][0].related_memo.content == "beta"
    assert await store.memo_relations.find_parent_ids([a, c]) == {c: a}
    assert await store.memo_relations.find_for_memos([]) == {}
