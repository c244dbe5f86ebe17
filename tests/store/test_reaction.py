"""Reactions through store.reactions: the uniqueness rule, batch reads, deletes."""
from __future__ import annotations

import pytest

from memos.store import Conflict, CreateReaction, CreateUser, FindReaction, NotFound, Store

pytestmark = pytest.mark.anyio


async def test_the_same_reaction_twice_is_a_conflict_other_types_coexist(store: Store) -> None:
    first = await store.reactions.create(CreateReaction(creator_id=1, content_id="memos/a", reaction_type="👍"))
    with pytest.raises(Conflict):
        await store.reactions.create(CreateReaction(creator_id=1, content_id="memos/a", reaction_type="👍"))
    heart = await store.reactions.create(CreateReaction(creator_id=1, content_id="memos/a", reaction_type="❤️"))
    other = await store.reactions.create(CreateReaction(creator_id=2, content_id="memos/a", reaction_type="👍"))
    found = await store.reactions.find(FindReaction(content_id="memos/a"))
    assert [r.id for r in found] == [first.id, heart.id, other.id]
    assert (await store.reactions.get(heart.id)) == heart and heart.reaction_type == "❤️"


async def test_reactions_of_many_memos_skip_missing_creators(store: Store) -> None:
    user = await store.users.create(CreateUser(username="alice", password_hash="x"))
    kept = await store.reactions.create(CreateReaction(creator_id=user.id, content_id="memos/a", reaction_type="👍"))
    await store.reactions.create(CreateReaction(creator_id=999, content_id="memos/a", reaction_type="👍"))
    later = await store.reactions.create(CreateReaction(creator_id=user.id, content_id="memos/b", reaction_type="x"))
    await store.reactions.create(CreateReaction(creator_id=user.id, content_id="memos/c", reaction_type="x"))
    grouped = await store.reactions.find_by_content_ids(["memos/a", "memos/b", "memos/z"])
    assert grouped == {"memos/a": [kept], "memos/b": [later], "memos/z": []}
    everyone = await store.reactions.find_by_content_ids(["memos/a"], existing_creators=False)
    assert len(everyone["memos/a"]) == 2


async def test_delete_by_id(store: Store) -> None:
    reaction = await store.reactions.create(CreateReaction(creator_id=1, content_id="memos/a", reaction_type="👍"))
    await store.reactions.delete(reaction.id)
    assert await store.reactions.get(reaction.id) is None
    with pytest.raises(NotFound):
        await store.reactions.delete(reaction.id)
