"""Store memo rows <-> memos.api.v1.Memo: the one place a Memo message is built or read for a write.

``memo_to_message`` renders a row with what the caller has already gathered about it
(``MemoParts``: the creator's username, attachments, the relations the viewer may see,
reactions with their creators' usernames, the parent's uid). Gathering those for a page
of memos in a constant number of queries, and deciding which relations a viewer may see,
is ``memos.api.memo.lookup``'s job; this module does no I/O.

The other direction, for writes: ``visibility_to_store``, ``state_to_store``,
``location_to_payload`` and ``timestamp_seconds``.
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
from collections.abc import Sequence

from google.protobuf.timestamp_pb2 import Timestamp

from memos.api.convert.attachment import attachment_to_message
from memos.api.convert.user import user_name
from memos.gen.api.v1 import common_pb2
from memos.gen.api.v1 import memo_service_pb2 as api
from memos.gen.store import memo_pb2
from memos.markdown import snippet
from memos.store import (
    RELATION_COMMENT,
    ROW_STATUS_ARCHIVED,
    ROW_STATUS_NORMAL,
    VISIBILITY_PRIVATE,
    VISIBILITY_PROTECTED,
    VISIBILITY_PUBLIC,
    Attachment,
    LinkedRelation,
    Memo,
    Reaction,
    RelatedMemo,
)

MEMO_PREFIX = "memos/"

_VISIBILITY_TO_MESSAGE = {
    VISIBILITY_PUBLIC: api.PUBLIC,
    VISIBILITY_PROTECTED: api.PROTECTED,
    VISIBILITY_PRIVATE: api.PRIVATE,
}
_STATE_TO_MESSAGE = {ROW_STATUS_NORMAL: common_pb2.NORMAL, ROW_STATUS_ARCHIVED: common_pb2.ARCHIVED}
_RELATION_TYPE_TO_MESSAGE = {"REFERENCE": api.MemoRelation.REFERENCE, RELATION_COMMENT: api.MemoRelation.COMMENT}

# Snippets are a pure function of the content. Memos derives them on every read and the
# store has no column for them, so they are remembered by the content's digest: a list page
# parses only contents it has not seen (a new or edited memo), not every memo every time.
_SNIPPET_CACHE_SIZE = 4096


def memo_name(uid: str) -> str:
    return f"{MEMO_PREFIX}{uid}"


def reaction_name(memo_uid: str, reaction_id: int) -> str:
    return f"{memo_name(memo_uid)}/reactions/{reaction_id}"


def memo_snippet(content: str) -> str:
    """The 64-character preview of ``content`` (spec §10.6)."""
    digest = _digest(content)
    known = _SNIPPETS.get(digest)
    if known is not None:
        _SNIPPETS.move_to_end(digest)
        return known
    return remember_snippet(content, snippet(content))


def remember_snippet(content: str, made: str) -> str:
    """Keep the snippet a memo write already derived, so its response does not parse the content again."""
    _SNIPPETS[_digest(content)] = made
    if len(_SNIPPETS) > _SNIPPET_CACHE_SIZE:
        _SNIPPETS.popitem(last=False)
    return made


def _digest(content: str) -> bytes:
    return hashlib.blake2b(content.encode("utf-8", "surrogatepass"), digest_size=16).digest()


_SNIPPETS: collections.OrderedDict[bytes, str] = collections.OrderedDict()


# --- rows -> messages --------------------------------------------------------------------------


def visibility_to_message(visibility: str) -> api.Visibility:
    return _VISIBILITY_TO_MESSAGE.get(visibility, api.PRIVATE)


def state_to_message(row_status: str) -> common_pb2.State:
    return _STATE_TO_MESSAGE.get(row_status, common_pb2.STATE_UNSPECIFIED)


def related_memo_to_message(memo: RelatedMemo, *, with_snippet: bool) -> api.MemoRelation.Memo:
    return api.MemoRelation.Memo(name=memo_name(memo.uid), snippet=memo_snippet(memo.content) if with_snippet else "")


def relation_to_message(relation: LinkedRelation, *, with_snippets: bool) -> api.MemoRelation:
    """Single-memo responses carry both ends' snippets; lists leave them empty (spec §4)."""
    return api.MemoRelation(
        memo=related_memo_to_message(relation.memo, with_snippet=with_snippets),
        related_memo=related_memo_to_message(relation.related_memo, with_snippet=with_snippets),
        type=_RELATION_TYPE_TO_MESSAGE.get(relation.type, api.MemoRelation.TYPE_UNSPECIFIED),
    )


def reaction_to_message(reaction: Reaction, *, creator_username: str) -> api.Reaction:
    """``content_id`` is the memo's name (``memos/{uid}``), so the reaction's name derives from it."""
    memo_uid = reaction.content_id.removeprefix(MEMO_PREFIX)
    return api.Reaction(
        name=reaction_name(memo_uid, reaction.id),
        creator=user_name(creator_username),
        content_id=reaction.content_id,
        reaction_type=reaction.reaction_type,
        create_time=Timestamp(seconds=reaction.created_ts),
    )


@dataclasses.dataclass(frozen=True, slots=True)
class MemoParts:
    """What a Memo message shows besides its own row.

    ``relations`` are those the viewer may see, already in response order;
    ``reactions`` pairs each reaction with its creator's username (reactions of
    deleted users are left out before); ``parent_uid`` names the memo a comment
    belongs to (None: not a comment, ``parent`` omitted).
    """

    creator_username: str
    attachments: Sequence[Attachment] = ()
    relations: Sequence[LinkedRelation] = ()
    reactions: Sequence[tuple[Reaction, str]] = ()
    parent_uid: str | None = None
    with_snippets: bool = False  # relation snippets: single-memo responses only


def memo_to_message(memo: Memo, parts: MemoParts) -> api.Memo:
    """The API Memo of a store row (spec §1.1); tags and property are read from the stored payload."""
    name = memo_name(memo.uid)
    message = api.Memo(
        name=name,
        state=state_to_message(memo.row_status),
        creator=user_name(parts.creator_username),
        create_time=Timestamp(seconds=memo.created_ts),
        update_time=Timestamp(seconds=memo.updated_ts),
        content=memo.content,
        visibility=visibility_to_message(memo.visibility),
        pinned=memo.pinned,
        snippet=memo_snippet(memo.content),
        attachments=[attachment_to_message(a, memo_name=name) for a in parts.attachments],
        relations=[relation_to_message(r, with_snippets=parts.with_snippets) for r in parts.relations],
        reactions=[reaction_to_message(r, creator_username=username) for r, username in parts.reactions],
    )
    payload: memo_pb2.MemoPayload | None = memo.payload
    if payload is not None:
        message.tags.extend(payload.tags)
        if payload.HasField("property"):
            _copy_property(payload.property, message.property)
        if payload.HasField("location"):
            location = payload.location
            message.location.CopyFrom(
                api.Location(placeholder=location.placeholder, latitude=location.latitude, longitude=location.longitude)
            )
    if parts.parent_uid is not None:
        message.parent = memo_name(parts.parent_uid)
    return message


def _copy_property(stored: memo_pb2.MemoPayload.Property, target: api.Memo.Property) -> None:
    target.SetInParent()  # present (even when all false) whenever the payload has the key
    target.has_link = stored.has_link
    target.has_task_list = stored.has_task_list
    target.has_code = stored.has_code
    target.has_incomplete_tasks = stored.has_incomplete_tasks
    target.title = stored.title


# --- messages -> what the store writes -----------------------------------------------------------


def visibility_to_store(visibility: int) -> str:
    """PUBLIC and PROTECTED are stored as asked; anything else (unspecified, unknown) is PRIVATE (§1.3)."""
    if visibility == api.PUBLIC:
        return VISIBILITY_PUBLIC
    if visibility == api.PROTECTED:
        return VISIBILITY_PROTECTED
    return VISIBILITY_PRIVATE


def state_to_store(state: int) -> str:
    """ARCHIVED archives; any other value means NORMAL."""
    return ROW_STATUS_ARCHIVED if state == common_pb2.ARCHIVED else ROW_STATUS_NORMAL


def location_to_payload(location: api.Location, payload: memo_pb2.MemoPayload) -> None:
    payload.location.CopyFrom(
        memo_pb2.MemoPayload.Location(
            placeholder=location.placeholder, latitude=location.latitude, longitude=location.longitude
        )
    )


# Timestamp's valid range (0001-01-01 .. 9999-12-31): beyond it a value cannot be rendered back.
_MIN_SECONDS = -62135596800
_MAX_SECONDS = 253402300799


def timestamp_seconds(timestamp: Timestamp) -> int | None:
    """Whole seconds of a client-given time, None when it cannot be stored (out of Timestamp's range)."""
    if not _MIN_SECONDS <= timestamp.seconds <= _MAX_SECONDS:
        return None
    return int(timestamp.seconds)
