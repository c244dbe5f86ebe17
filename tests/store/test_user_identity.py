"""Linked identities through store.user_identities."""
from __future__ import annotations

import pytest

from memos.store import (
    Conflict,
    CreateUser,
    CreateUserIdentity,
    FindUserIdentity,
    NotFound,
    Store,
)

pytestmark = pytest.mark.anyio



async def test_identities_link_once_per_account_and_per_user_and_provider(store: Store) -> None:
    alice = await store.users.create(CreateUser(username="alice", password_hash="x"))
    bob = await store.users.create(CreateUser(username="bob", password_hash="x"))
    links = store.user_identities
    link = await links.create(CreateUserIdentity(user_id=alice.id, provider="corp", extern_uid="alice@corp"))
    assert (link.user_id, link.provider, link.extern_uid) == (alice.id, "corp", "alice@corp")
    assert link.created_ts > 0 and link.updated_ts > 0

    with pytest.raises(Conflict) as taken_account:
        await links.create(CreateUserIdentity(user_id=bob.id, provider="corp", extern_uid="alice@corp"))
    assert "user_identity.extern_uid" in taken_account.value.columns
    with pytest.raises(Conflict) as second_account:
        await links.create(CreateUserIdentity(user_id=alice.id, provider="corp", extern_uid="other@corp"))
    assert "user_identity.user_id" in second_account.value.columns

    elsewhere = CreateUserIdentity(user_id=bob.id, provider="other", extern_uid="alice@corp")
    same_subject_elsewhere = await links.create(elsewhere)
    assert await links.get(FindUserIdentity(provider="corp", extern_uid="alice@corp")) == link
    assert await links.find(FindUserIdentity(extern_uid="alice@corp")) == [link, same_subject_elsewhere]
    assert await links.find(FindUserIdentity(user_id=alice.id)) == [link]

    await links.delete(FindUserIdentity(user_id=alice.id, provider="corp"))
    assert await links.find(FindUserIdentity(user_id=alice.id)) == []
    with pytest.raises(NotFound):
        await store.user_identities.delete(FindUserIdentity(user_id=alice.id, provider="corp"))
    await store.user_identities.delete(FindUserIdentity(id=same_subject_elsewhere.id))
    assert await store.user_identities.get(FindUserIdentity(user_id=bob.id)) is None
