#!/usr/bin/env python3
"""The memo store at scale: list pages and content search over N memos, with and without the indexes.

    python benchmarks/memo_store.py                      # 100k memos in a temporary database
    python benchmarks/memo_store.py --memos 20000 --runs 100
    python benchmarks/memo_store.py --keep /tmp/memos_100k.db   # keep (or reuse) the database file

Inserts the memos through ``store.memos.create`` (one transaction each, as the API writes
them; an existing ``--keep`` file is reused), then times, as the median of ``--runs``
calls through the store (the reader thread included):

- the default ListMemos page (signed-in scoping, created_ts DESC, 21 rows for a page of 20);
- the same page pinned first, and ordered by update time;
- a filtered page (``tag in ["work"] && !pinned``);
- ``content.contains`` pages and counts for a rare and a common word, with the trigram
  index and as the plain scan Memos does (the index switched off for the same query);
- the start-up build of the search index for a database that lacks it (a Memos v0.30 file).

Not a test: the figures depend on the machine.
"""
from __future__ import annotations

import argparse
import asyncio
import pathlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import COMMON_WORD, RARE_WORD, memo_content  # noqa: E402

from memos.filter import parse_memo_filter  # noqa: E402
from memos.gen.store import memo_pb2  # noqa: E402
from memos.store import CreateMemo, FindMemo, Store  # noqa: E402


async def _fill(store: Store, count: int) -> None:
    existing = await store.memos.count(FindMemo(row_status=None, exclude_comments=False))
    if existing >= count:
        print(f"reusing {existing} memos")
        return
    rng = random.Random(42)
    started = time.perf_counter()
    for index in range(existing, count):
        content, tags = memo_content(rng, index)
        await store.memos.create(
            CreateMemo(
                uid=f"bench-{index}",
                creator_id=1 + index % 4,
                content=content,
                visibility=("PUBLIC", "PROTECTED", "PRIVATE")[index % 3],
                payload=memo_pb2.MemoPayload(tags=tags, property=memo_pb2.MemoPayload.Property()),
                created_ts=1_600_000_000 + index * 60,
                updated_ts=1_600_000_000 + index * 60 + rng.randint(0, 10_000),
            )
        )
        if (index + 1) % 10_000 == 0:
            print(f"  {index + 1} memos inserted ({time.perf_counter() - started:.1f} s)", flush=True)
    elapsed = time.perf_counter() - started
    print(f"inserted {count - existing} memos through store.memos.create in {elapsed:.1f} s"
          f" ({elapsed / max(count - existing, 1) * 1000:.2f} ms each)")


async def _median_ms(call: Callable[[], Awaitable[Any]], runs: int) -> float:
    await call()  # warm caches and the reader thread
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def _measure(store: Store, runs: int) -> None:
    search = store.driver.search  # type: ignore[attr-defined]
    signed_in = {"visibilities": ["PUBLIC", "PROTECTED"], "or_creator_id": 1, "limit": 21}

    async def page(**find: Any) -> Any:
        return await store.memos.find(FindMemo(**{**signed_in, **find}))

    def filtered(text: str) -> Any:
        return parse_memo_filter(text)

    cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("ListMemos default page (21 rows)", lambda: page()),
        ("  pinned first", lambda: page(pinned_first=True)),
        ("  by update time", lambda: page(time_field="updated_ts")),
        ('filtered page: tag in ["work"] && !pinned', lambda: page(filter=filtered('tag in ["work"] && !pinned'))),
    ]
    for word in (RARE_WORD, COMMON_WORD):
        condition = filtered(f'content.contains("{word.upper()}")')
        cases.append((f'content.contains("{word.upper()}") page', lambda c=condition: page(filter=c)))
        cases.append((f'content.contains("{word.upper()}") count', lambda c=condition: store.memos.count(
            FindMemo(filter=c, visibilities=["PUBLIC", "PROTECTED"], or_creator_id=1))))
    print(f"\nmedian of {runs} runs, ms:            with indexes   Memos-style scan")
    for label, call in cases:
        indexed = await _median_ms(call, runs)
        if "contains" in label:
            search.ready = False
            try:
                scanned = await _median_ms(call, max(runs // 5, 3))
            finally:
                search.ready = True
            print(f"  {label:<42} {indexed:8.2f}       {scanned:8.2f}")
        else:
            print(f"  {label:<42} {indexed:8.2f}")
    hits = await store.memos.count(FindMemo(filter=filtered(f'content.contains("{RARE_WORD}")'), row_status=None))
    common = await store.memos.count(FindMemo(filter=filtered(f'content.contains("{COMMON_WORD}")'), row_status=None))
    print(f"  ({RARE_WORD!r} is in {hits} memos, {COMMON_WORD!r} in {common})")


async def _start_time(path: str) -> float:
    started = time.perf_counter()
    store = await Store.open("sqlite", path, deployment_dir=None)
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed


async def _rebuild_time(path: str) -> None:
    """Time a start with the index current, then one that builds it, as for a Memos v0.30 file."""
    import apsw

    print(f"\nstart with the search index current (checked against every memo): {await _start_time(path):.2f} s")
    conn = apsw.Connection(path)
    conn.execute("DROP TABLE IF EXISTS memo_search; DROP TABLE IF EXISTS memo_search_source")
    conn.close()
    print(f"start with the search index built from scratch: {await _start_time(path):.2f} s")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--memos", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", help="database file to create or reuse (default: a temporary one)")
    parser.add_argument("--rebuild", action="store_true", help="also time rebuilding the search index at start")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.keep or str(pathlib.Path(scratch) / "memos_bench.db")
        store = await Store.open("sqlite", path, deployment_dir=None)
        try:
            await _fill(store, args.memos)
            await store.driver.run_write(lambda conn: conn.execute("PRAGMA optimize"))
            await _measure(store, args.runs)
        finally:
            await store.close()
        if args.rebuild:
            await _rebuild_time(path)


if __name__ == "__main__":
    asyncio.run(main())
