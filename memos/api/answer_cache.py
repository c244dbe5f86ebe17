"""Rendered answers of the reads clients repeat most (ListMemos, GetMemo), reused while nothing changed.

A web client asks for the same first page again and again (every visit, every refocus, every
live event); working it out takes four database reads and the rendering of twenty memos, while
sending bytes already made takes none. An answer is reused only when all of this is the same:

- the procedure and the encoding the transport sends (REST JSON, Connect JSON, Connect binary);
- the request message (its deterministic binary form: REST and Connect ask alike);
- the caller's user id and role (anonymous is its own caller; no answer ever crosses users);
- the instance's public/private mode;
- the store's generation, which moves with every committed write by this process or another.

Answers that depend on the clock are never kept (a filter naming ``now``). The cache sits at the
end of the interceptor chain, so authentication and the access policy run for every call, cached or
not; the service's own access checks are part of what was worked out for that same caller at that
same generation. The bytes held are bounded (least recently used go first), and a new generation
drops every answer of the old one at once.
"""
from __future__ import annotations

import collections
import dataclasses
import functools
from collections.abc import Callable, Hashable, Mapping

from google.protobuf.message import Message

from memos.call import CallContext, Handler
from memos.gen.api.v1 import memo_service_pb2 as api

CACHE_BYTES = 4 * 1024 * 1024
# An answer bigger than this would push out many smaller ones for one caller's sake.
ENTRY_BYTES_MAX = CACHE_BYTES // 8
# What an entry costs beyond its answer and request bytes: the key tuple, the dict slot.
ENTRY_OVERHEAD = 200

Generation = Callable[[], "Hashable | None"]
CacheKey = tuple[str, str, bytes, int, str, bool]


@dataclasses.dataclass(frozen=True)
class Cacheable:
    """A procedure whose answers may be reused: its response type, and which requests qualify."""

    output: type[Message]
    qualifies: Callable[[Message], bool]


def _always(request: Message) -> bool:
    return True


def _without_clock(request: Message) -> bool:
    # Any filter that mentions now (even inside a string) is worked out afresh: erring this way is cheap.
    return "now" not in getattr(request, "filter", "")


MEMO_READS: Mapping[str, Cacheable] = {
    "/memos.api.v1.MemoService/ListMemos": Cacheable(api.ListMemosResponse, _without_clock),
    "/memos.api.v1.MemoService/GetMemo": Cacheable(api.Memo, _always),
}


class AnswerCache:
    """Encoded answers by key, all of one generation, bounded in bytes, least recently used out first."""

    def __init__(self, max_bytes: int = CACHE_BYTES, max_entry_bytes: int = ENTRY_BYTES_MAX) -> None:
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self.size = 0  # bytes held, entry overheads included
        self._generation: Hashable | None = None
        self._entries: collections.OrderedDict[CacheKey, tuple[bytes, int]] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CacheKey, generation: Hashable) -> bytes | None:
        """The answer kept for ``key``, if it was made at ``generation``; a new generation empties the cache."""
        if generation != self._generation:
            self.clear()
            self._generation = generation
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: CacheKey, generation: Hashable, payload: bytes) -> None:
        """Keep ``payload``, worked out at ``generation``, unless the store has moved on since."""
        if generation != self._generation:
            return  # a write committed while this answer was worked out: it may already be stale
        cost = len(payload) + len(key[2]) + ENTRY_OVERHEAD
        if cost > self.max_entry_bytes:
            return
        self._forget(key)
        self._entries[key] = (payload, cost)
        self.size += cost
        while self.size > self.max_bytes:
            self._forget(next(iter(self._entries)))

    def clear(self) -> None:
        self._entries.clear()
        self.size = 0

    def _forget(self, key: CacheKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.size -= entry[1]


class AnswerCacheInterceptor:
    """The last interceptor of the chain: serves a kept answer, or keeps the answer the service gives."""

    def __init__(
        self,
        cache: AnswerCache,
        generation: Generation,
        *,
        instance_is_public: bool,
        cacheable: Mapping[str, Cacheable] = MEMO_READS,
    ) -> None:
        self._cache = cache
        self._generation = generation
        self._instance_is_public = instance_is_public
        self._cacheable = cacheable

    async def __call__(self, request: Message, ctx: CallContext, call_next: Handler) -> Message:
        rule = self._cacheable.get(ctx.procedure)
        if rule is None or ctx.encoding is None or not rule.qualifies(request):
            return await call_next(request, ctx)
        generation = self._generation()  # before the service reads: see AnswerCache.put
        if generation is None:
            return await call_next(request, ctx)
        key = self._key(request, ctx)
        kept = self._cache.get(key, generation)
        if kept is not None:
            ctx.encoded_answer = kept
            return rule.output()  # stands in for the answer; the transport sends the kept bytes
        headers_before = len(ctx.response_headers)
        response = await call_next(request, ctx)
        if len(ctx.response_headers) == headers_before:  # an answer with headers of its own is not kept
            ctx.keep_encoded = functools.partial(self._cache.put, key, generation)
        return response

    def _key(self, request: Message, ctx: CallContext) -> CacheKey:
        caller = ctx.principal
        caller_id, role = (int(caller.id), str(caller.role)) if caller is not None else (0, "")
        assert ctx.encoding is not None
        return (
            ctx.procedure,
            ctx.encoding,
            request.SerializeToString(deterministic=True),
            caller_id,
            role,
            self._instance_is_public,
        )
