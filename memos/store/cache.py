"""A small in-process TTL cache, shaped like the one Memos keeps per entity kind.

No thread per cache: expired entries are swept lazily, at most once per sweep
interval, by whichever call touches the cache next.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

DEFAULT_TTL = 600.0
DEFAULT_SWEEP_INTERVAL = 300.0
DEFAULT_MAX_ENTRIES = 1000
# On overflow this share of the entries (those expiring soonest) is dropped at
# once, so a full cache does not pay for an eviction on every insert.
EVICT_FRACTION = 0.2


class TTLCache(Generic[K, V]):
    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        sweep_interval: float = DEFAULT_SWEEP_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._sweep_interval = sweep_interval
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        self._next_sweep = clock() + sweep_interval

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: K) -> V | None:
        with self._lock:
            now = self._tick()
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= now:
                del self._entries[key]
                return None
            return value

    def set(self, key: K, value: V) -> None:
        with self._lock:
            now = self._tick()
            self._entries[key] = (now + self._ttl, value)
            if len(self._entries) > self._max_entries:
                self._evict_soonest_expiring()

    def delete(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def delete_where(self, predicate: Callable[[K], bool]) -> None:
        with self._lock:
            for key in [k for k in self._entries if predicate(k)]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _tick(self) -> float:
        now = self._clock()
        if now >= self._next_sweep:
            self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
            self._next_sweep = now + self._sweep_interval
        return now

    def _evict_soonest_expiring(self) -> None:
        count = max(1, int(len(self._entries) * EVICT_FRACTION))
        by_expiry = sorted(self._entries.items(), key=lambda item: item[1][0])
        for key, _ in by_expiry[:count]:
            del self._entries[key]
