from __future__ import annotations

from memos.store.cache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_value_is_served_until_its_ttl_passes() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(ttl=600, clock=clock)
    cache.set("GENERAL", 1)
    clock.now += 599
    assert cache.get("GENERAL") == 1
    clock.now += 2
    assert cache.get("GENERAL") is None


def test_set_overwrites_and_renews_expiry() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(ttl=10, clock=clock)
    cache.set("k", 1)
    clock.now += 8
    cache.set("k", 2)
    clock.now += 8
    assert cache.get("k") == 2


def test_overflow_evicts_a_fifth_soonest_expiring_first() -> None:
    clock = Clock()
    cache: TTLCache[int, int] = TTLCache(ttl=100, max_entries=10, clock=clock)
    for key in range(10):
        cache.set(key, key)
        clock.now += 1
    cache.set(10, 10)  # 11 entries > 10: the two oldest go
    assert len(cache) == 9
    assert cache.get(0) is None and cache.get(1) is None
    assert all(cache.get(key) == key for key in range(2, 11))


def test_sweep_drops_expired_entries_without_them_being_read() -> None:
    clock = Clock()
    cache: TTLCache[str, int] = TTLCache(ttl=10, sweep_interval=300, clock=clock)
    for key in "abc":
        cache.set(key, 0)
    clock.now += 301
    cache.set("fresh", 1)
    assert len(cache) == 1


def test_delete_and_delete_where() -> None:
    cache: TTLCache[str, int] = TTLCache()
    for key in ("3-GENERAL", "3-TAGS", "33-GENERAL"):
        cache.set(key, 1)
    cache.delete("3-TAGS")
    cache.delete("missing")
    cache.delete_where(lambda key: key.startswith("3-"))
    assert cache.get("3-GENERAL") is None
    assert cache.get("33-GENERAL") == 1
