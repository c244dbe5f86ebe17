"""The live-event hub in-process: who receives which event, the event helpers, the bounds."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import time

import pytest

from memos.api.live import (
    EventType,
    LiveHub,
    MemoEvent,
    TooManyStreams,
    comment_created,
    memo_created,
    memo_deleted,
    memo_updated,
    reaction_deleted,
    reaction_upserted,
)
from memos.store import User

pytestmark = pytest.mark.anyio


def user(user_id: int, role: str = "USER") -> User:
    return User(user_id, f"u{user_id}", role, "", "", "", "", "", "NORMAL", 0, 0)


@dataclasses.dataclass(frozen=True)
class Row:
    uid: str
    creator_id: int
    visibility: str


OWNER, OTHER, ADMIN = user(1), user(2), user(3, "ADMIN")


def event(visibility: str, owner_id: int = 1) -> MemoEvent:
    return MemoEvent(EventType.MEMO_UPDATED, "memos/m", visibility, owner_id)


async def received(hub: LiveHub, viewer: User, published: MemoEvent) -> bool:
    subscription = hub.subscribe(viewer)
    try:
        hub.publish(published)
        return bool(await subscription.next_events(0))
    finally:
        subscription.close()


async def test_a_private_event_reaches_its_owner_and_admins_only() -> None:
    hub = LiveHub()
    private = event("PRIVATE", owner_id=OWNER.id)
    assert await received(hub, OWNER, private)
    assert await received(hub, ADMIN, private)
    assert not await received(hub, OTHER, private)


@pytest.mark.parametrize("visibility", ["PUBLIC", "PROTECTED", ""])
async def test_public_protected_and_unknown_memo_events_reach_everyone(visibility: str) -> None:
    hub = LiveHub()
    for viewer in (OWNER, OTHER, ADMIN):
        assert await received(hub, viewer, event(visibility))


@pytest.mark.parametrize("visibility", ["SECRET", "public", "private"])
async def test_an_unknown_visibility_reaches_nobody(visibility: str) -> None:
    hub = LiveHub()
    for viewer in (OWNER, OTHER, ADMIN):
        assert not await received(hub, viewer, event(visibility))


async def test_publish_counts_the_streams_that_took_the_event() -> None:
    hub = LiveHub()
    subscriptions = [hub.subscribe(viewer) for viewer in (OWNER, OTHER, ADMIN)]
    assert hub.publish(event("PRIVATE")) == 2
    assert hub.publish(event("PUBLIC")) == 3
    for subscription in subscriptions:
        subscription.close()
    assert hub.publish(event("PUBLIC")) == 0


def test_event_json_keeps_type_name_parent_in_that_order() -> None:
    with_parent = MemoEvent(EventType.MEMO_UPDATED, "memos/789", "PUBLIC", 1, parent="memos/123")
    assert with_parent.to_json() == '{"type":"memo.updated","name":"memos/789","parent":"memos/123"}'
    without = MemoEvent(EventType.MEMO_CREATED, "memos/789", "PUBLIC", 1)
    assert json.loads(without.to_json()) == {"type": "memo.created", "name": "memos/789"}


def test_helpers_take_name_visibility_and_owner_from_the_memos_the_spec_names() -> None:
    memo = Row("c1", creator_id=5, visibility="PRIVATE")
    parent = Row("p1", creator_id=7, visibility="PROTECTED")
    plain = Row("m1", creator_id=5, visibility="PUBLIC")
    assert memo_created(plain) == MemoEvent(EventType.MEMO_CREATED, "memos/m1", "PUBLIC", 5)
    assert memo_updated(plain) == MemoEvent(EventType.MEMO_UPDATED, "memos/m1", "PUBLIC", 5)
    # A comment: its own visibility, but the parent's creator owns the event, which names the parent.
    assert memo_updated(memo, parent) == MemoEvent(EventType.MEMO_UPDATED, "memos/c1", "PRIVATE", 7, "memos/p1")
    assert memo_deleted("memos/m1", plain) == MemoEvent(EventType.MEMO_DELETED, "memos/m1", "PUBLIC", 5)
    # A new comment's only event is named after the parent, with the parent's visibility and creator.
    assert comment_created(parent) == MemoEvent(EventType.MEMO_COMMENT_CREATED, "memos/p1", "PROTECTED", 7)
    assert reaction_upserted(memo, parent) == MemoEvent(
        EventType.REACTION_UPSERTED, "memos/c1", "PRIVATE", 7, "memos/p1"
    )
    assert reaction_deleted(plain) == MemoEvent(EventType.REACTION_DELETED, "memos/m1", "PUBLIC", 5)


async def test_a_reaction_on_a_private_comment_reaches_the_parents_creator() -> None:
    hub = LiveHub()
    comment = Row("c1", creator_id=OTHER.id, visibility="PRIVATE")
    parent = Row("p1", creator_id=OWNER.id, visibility="PRIVATE")
    assert await received(hub, OWNER, reaction_upserted(comment, parent))
    assert not await received(hub, OTHER, reaction_upserted(comment, parent))


async def test_a_never_reading_stream_keeps_32_events_and_publishing_never_blocks() -> None:
    hub = LiveHub()
    subscription = hub.subscribe(OWNER)
    began = time.monotonic()
    taken = [hub.publish(MemoEvent(EventType.MEMO_CREATED, f"memos/{i}", "PUBLIC", 1)) for i in range(40)]
    assert time.monotonic() - began < 0.5
    assert taken == [1] * 32 + [0] * 8
    assert (subscription.pending, subscription.dropped) == (32, 8)
    events = await subscription.next_events(0)
    assert events is not None
    assert [e.name for e in events] == [f"memos/{i}" for i in range(32)]  # the oldest kept, the newest dropped
    assert hub.publish(event("PUBLIC")) == 1  # room again once read


async def test_next_events_waits_for_an_event_or_the_timeout() -> None:
    hub = LiveHub()
    subscription = hub.subscribe(OWNER)
    assert await subscription.next_events(0.01) == []
    asyncio.get_running_loop().call_later(0.01, hub.publish, event("PUBLIC"))
    events = await subscription.next_events(5)
    assert events is not None and len(events) == 1


async def test_closing_the_hub_wakes_every_waiting_stream_and_refuses_new_ones() -> None:
    hub = LiveHub()
    subscriptions = [hub.subscribe(OWNER), hub.subscribe(OTHER)]
    waiting = [asyncio.create_task(s.next_events(60)) for s in subscriptions]
    await asyncio.sleep(0)
    hub.close()
    assert await asyncio.wait_for(asyncio.gather(*waiting), 1) == [None, None]
    assert hub.subscriber_count == 0
    with pytest.raises(TooManyStreams) as refused:
        hub.subscribe(OWNER)
    assert not refused.value.per_user


async def test_limits_per_user_and_in_total() -> None:
    hub = LiveHub(max_per_user=2, max_total=3)
    first, _second = hub.subscribe(OWNER), hub.subscribe(OWNER)
    with pytest.raises(TooManyStreams) as per_user:
        hub.subscribe(OWNER)
    assert per_user.value.per_user and "at most 2" in str(per_user.value)
    hub.subscribe(OTHER)
    with pytest.raises(TooManyStreams) as total:
        hub.subscribe(ADMIN)
    assert not total.value.per_user and "at most 3" in str(total.value)
    first.close()
    first.close()  # closing twice frees one place only
    hub.subscribe(ADMIN)
    assert hub.subscriber_count == 3
    _second.close()
    hub.subscribe(OWNER)  # the per-user count went down with it


async def test_a_closed_subscription_takes_nothing_and_leaves_the_hub() -> None:
    hub = LiveHub()
    subscription = hub.subscribe(OWNER)
    subscription.close()
    assert hub.subscriber_count == 0
    assert not subscription.offer(event("PUBLIC"))
    assert await subscription.next_events(0) is None
    calls: list[object] = []
    subscription.add_close_callback(calls.append)
    assert calls == [subscription]
