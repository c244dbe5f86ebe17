#!/usr/bin/env python3
"""MemoService over the wire at N memos, each figure set against a bare Starlette app on stock hypercorn.

    python benchmarks/memo_api.py                         # dist/memos.pyz, 100k memos (build it first)
    python benchmarks/memo_api.py --module --memos 10000  # python -m memos from this checkout
    python benchmarks/memo_api.py --module --data /tmp/memos-100k   # keep (or reuse) the loaded data

Starts memos on an empty data directory (or --data) and, on the same interpreter, a bare Starlette app
whose /json/<n> answers a JSON body of n bytes. Signs the first user up through the API and loads N memos
with CreateMemo, --concurrency requests at a time over keep-alive connections (the load rate is printed).
Then, for each case, --warmup unmeasured requests, and --requests measured ones, one after the other
on one keep-alive connection, each followed by one to the bare app (same method and body, answering as
many bytes as memos' warm-up answers, the median): on a machine shared with other work both see the same
moments of load. Reported: median and p95 latency and requests per second of each, and the ratio of the
request rates (memos / bare):

- ListMemos, a page of 20, over REST and over Connect (JSON): a repeated page, served from the answer
  cache after the first; and the same pages with a filter naming `now` (`created_ts < now`, every memo),
  which the cache never keeps: the whole work of a page;
- filtered ListMemos: `tag in ["work"]`, `"work" in tags`, and content.contains() of a rare and a
  common word (the search latency), each request a little different (trailing blanks in the filter)
  so none is served from the cache;
- GetMemo of a random loaded memo; CreateMemo of a new one (the bare app reads the same body).

Memory (VmRSS from /proc) of the server: idle after sign-up, after the load, and after the cases
(with the peak, VmHWM). Goals: ListMemos >= 0.6 of the bare rate; search < 10 ms median at 100k memos;
memory after loading 100k memos and serving lists < 80 MiB. Only 127.0.0.1. Not a test: the figures
depend on the machine (the client runs on it too).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import http.client
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
from _common import (
    COMMON_WORD,
    RARE_WORD,
    add_source_arguments,
    bare_command,
    free_port,
    memo_content,
    memos_command,
    memos_env,
    peak_mib,
    rss_mib,
    running,
)

USERNAME, PASSWORD = "bench", "bench-password"
NAMES_FILE = "bench_memo_names.txt"  # in the data directory: the memos loaded so far, for --data reuse
VISIBILITIES = ("PUBLIC", "PROTECTED", "PRIVATE")
TOKEN_AGE_S = 600  # access tokens live 15 minutes: sign in again well before
CONNECT_LIST = "/memos.api.v1.MemoService/ListMemos"
GOAL_LIST_RATIO, GOAL_SEARCH_MS, GOAL_MEMORY_MIB = 0.6, 10.0, 80.0


class Session:
    """The benchmark user's access token, renewed by signing in again before it expires."""

    def __init__(self, base: str) -> None:
        self.base = base
        self._token = ""
        self._signed_in = 0.0

    def sign_up(self) -> None:
        answer = httpx.post(f"{self.base}/api/v1/users", json={"username": USERNAME, "password": PASSWORD})
        if answer.status_code not in (200, 409) and "already" not in answer.text:
            raise SystemExit(f"sign-up failed: {answer.status_code} {answer.text}")

    def headers(self) -> dict[str, str]:
        if time.monotonic() - self._signed_in > TOKEN_AGE_S:
            credentials = {"username": USERNAME, "password": PASSWORD}
            answer = httpx.post(f"{self.base}/api/v1/auth/signin", json={"passwordCredentials": credentials})
            if answer.status_code != 200:
                raise SystemExit(f"sign-in failed: {answer.status_code} {answer.text}")
            self._token, self._signed_in = answer.json()["accessToken"], time.monotonic()
        return {"Authorization": f"Bearer {self._token}"}


def memo_body(rng: random.Random, index: int) -> dict[str, str]:
    content, _ = memo_content(rng, index)
    return {"content": content, "visibility": VISIBILITIES[index % 3]}


# ---- loading ----------------------------------------------------------------------------------------

async def _load(session: Session, start: int, count: int, concurrency: int, names: list[str]) -> None:
    rng = random.Random(start)
    bodies = iter([memo_body(rng, index) for index in range(start, start + count)])
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    began = time.perf_counter()
    async with httpx.AsyncClient(base_url=session.base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            for body in bodies:  # one shared iterator: each body is sent once
                answer = await client.post("/api/v1/memos", json=body, headers=session.headers())
                if answer.status_code != 200:
                    raise SystemExit(f"CreateMemo failed: {answer.status_code} {answer.text}")
                names.append(answer.json()["name"])
                done = len(names) - start
                if done % 10_000 == 0:
                    elapsed = time.perf_counter() - began
                    print(f"  {len(names)} memos ({done / elapsed:.0f} per second)", flush=True)

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def load(session: Session, data: Path, wanted: int, concurrency: int) -> tuple[list[str], float | None]:
    """Create memos through the API until there are `wanted`; returns their names and the load rate."""
    names_path = data / NAMES_FILE
    names = names_path.read_text().split() if names_path.is_file() else []
    missing = wanted - len(names)
    rate = None
    if missing > 0:
        print(f"loading {missing} memos through CreateMemo, {concurrency} at a time ...", flush=True)
        began = time.perf_counter()
        try:
            asyncio.run(_load(session, len(names), missing, concurrency, names))
        finally:
            names_path.write_text("\n".join(names))
        elapsed = time.perf_counter() - began
        rate = missing / elapsed
        print(f"loaded {missing} memos in {elapsed:.1f} s: {rate:.0f} memos per second")
    else:
        print(f"reusing {len(names)} memos of {data}")
    return names, rate


# ---- measuring --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Figures:
    median_ms: float
    p95_ms: float
    per_second: float
    size: int  # median body size of the answers, bytes


class Client:
    """One keep-alive connection that times each request (its answer read whole)."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = headers

    def send(self, request: tuple[str, str, bytes]) -> tuple[float, int]:
        """(seconds, answer bytes); exits on an answer other than 200."""
        method, path, body = request
        started = time.perf_counter()
        self.connection.request(method, path, body=body or None, headers=self.headers)
        answer = self.connection.getresponse()
        payload = answer.read()
        elapsed = time.perf_counter() - started
        if answer.status != 200:
            raise SystemExit(f"{method} {path}: {answer.status} {payload[:300]!r}")
        return elapsed, len(payload)

    def close(self) -> None:
        self.connection.close()


def figures(samples: list[tuple[float, int]]) -> Figures:
    times = [elapsed * 1000 for elapsed, _ in samples]
    return Figures(
        median_ms=statistics.median(times),
        p95_ms=statistics.quantiles(times, n=20)[18],
        per_second=len(samples) / sum(elapsed for elapsed, _ in samples),
        size=int(statistics.median(size for _, size in samples)),
    )


def timed_requests(port: int, requests: Iterator[tuple[str, str, bytes]], headers: dict[str, str],
                   count: int, warmup: int) -> Figures:
    """Send warmup + count requests one after the other on one keep-alive connection; time the last count."""
    client = Client(port, headers)
    try:
        samples = [client.send(next(requests)) for _ in range(warmup + count)]
    finally:
        client.close()
    return figures(samples[warmup:])


def interleaved(memos: Client, bare: Client, memos_requests: Iterator[tuple[str, str, bytes]],
                bare_requests: Iterator[tuple[str, str, bytes]], count: int) -> tuple[Figures, Figures]:
    """One memos request, then one bare request, count times: on a machine shared with other work,
    both see the same moments of load, so their ratio means something."""
    memos_samples, bare_samples = [], []
    for _ in range(count):
        memos_samples.append(memos.send(next(memos_requests)))
        bare_samples.append(bare.send(next(bare_requests)))
    return figures(memos_samples), figures(bare_samples)


def repeat(method: str, path: str, body: bytes = b"") -> Iterator[tuple[str, str, bytes]]:
    while True:
        yield method, path, body


def get_memos(names: list[str]) -> Iterator[tuple[str, str, bytes]]:
    rng = random.Random(7)
    while True:
        yield "GET", f"/api/v1/{rng.choice(names)}", b""


def create_memos(first: int) -> Iterator[tuple[str, str, bytes]]:
    rng = random.Random(first)
    index = first
    while True:
        yield "POST", "/api/v1/memos", json.dumps(memo_body(rng, index)).encode()
        index += 1


def list_path(filter_text: str = "") -> str:
    query = {"pageSize": "20", **({"filter": filter_text} if filter_text else {})}
    return "/api/v1/memos?" + urllib.parse.urlencode(query)


def distinct_filters(filter_text: str) -> Iterator[tuple[str, str, bytes]]:
    """The same filter with a different number of trailing blanks each time: the same rows, but never
    the same request, so the answer cache never serves it (what a search costs)."""
    for blanks in itertools.count():
        yield "GET", list_path(filter_text + " " * blanks), b""


def cases(names: list[str]) -> list[tuple[str, Iterator[tuple[str, str, bytes]]]]:
    connect_body = json.dumps({"pageSize": 20}).encode()
    # A filter naming now is never kept by the answer cache: the whole work of a page, every time.
    uncached_connect_body = json.dumps({"pageSize": 20, "filter": "created_ts < now"}).encode()
    return [
        ("ListMemos REST (page of 20)", repeat("GET", list_path())),
        ("ListMemos Connect JSON (page of 20)", repeat("POST", CONNECT_LIST, connect_body)),
        ("ListMemos REST, uncached (created_ts < now)", repeat("GET", list_path("created_ts < now"))),
        ("ListMemos Connect JSON, uncached", repeat("POST", CONNECT_LIST, uncached_connect_body)),
        ('ListMemos tag in ["work"], uncached', distinct_filters('tag in ["work"]')),
        ('ListMemos "work" in tags, uncached', distinct_filters('"work" in tags')),
        (f'search content.contains("{RARE_WORD}")', distinct_filters(f'content.contains("{RARE_WORD}")')),
        (f'search content.contains("{COMMON_WORD}")', distinct_filters(f'content.contains("{COMMON_WORD}")')),
        ("GetMemo (random memos)", get_memos(names)),
        ("CreateMemo", create_memos(len(names) + 1_000_000)),
    ]


def measure(session: Session, memos_port: int, bare_port: int, names: list[str],
            count: int, warmup: int) -> list[tuple[str, Figures, Figures]]:
    results = []
    for label, requests in cases(names):
        memos_client = Client(memos_port, {**session.headers(), "Content-Type": "application/json"})
        bare_client = Client(bare_port, {"Content-Type": "application/json"})
        try:
            first = next(requests)  # the method and body the bare app gets too
            warm = [memos_client.send(first)] + [memos_client.send(next(requests)) for _ in range(warmup - 1)]
            size = int(statistics.median(size for _, size in warm))  # the bare app answers as much
            bare_requests = repeat(first[0], f"/json/{size}", first[2])
            for _ in range(warmup):
                bare_client.send(next(bare_requests))
            memos, bare = interleaved(memos_client, bare_client, requests, bare_requests, count)
        finally:
            memos_client.close()
            bare_client.close()
        results.append((label, memos, bare))
        print(f"  {label:<40} {memos.median_ms:7.2f} {memos.p95_ms:7.2f} {memos.per_second:7.0f}"
              f"   {bare.median_ms:6.2f} {bare.per_second:7.0f}   {memos.per_second / bare.per_second:5.2f}"
              f"   {memos.size:7d}", flush=True)
    return results


# ---- reporting --------------------------------------------------------------------------------------

def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report(results: list[tuple[str, Figures, Figures]], memory: dict[str, float], memos_count: int) -> None:
    print("\nmarkdown:\n")
    print("| case | median ms | p95 ms | req/s | bare median ms | bare req/s | ratio | body bytes |")
    print("|---|---|---|---|---|---|---|---|")
    for label, memos, bare in results:
        print(f"| {label} | {memos.median_ms:.2f} | {memos.p95_ms:.2f} | {memos.per_second:.0f} |"
              f" {bare.median_ms:.2f} | {bare.per_second:.0f} | {memos.per_second / bare.per_second:.2f} |"
              f" {memos.size} |")
    print()
    for name, value in memory.items():
        print(f"- {name}: {value:.1f} MiB")
    print("\ngoals:")
    for label, memos, bare in results:
        if label.startswith("ListMemos REST") or label.startswith("ListMemos Connect"):
            ratio = memos.per_second / bare.per_second
            print(f"  {label}: {ratio:.2f} of the bare rate (goal >= {GOAL_LIST_RATIO}): "
                  f"{verdict(ratio >= GOAL_LIST_RATIO)}")
        if label.startswith("search"):
            print(f"  {label}: median {memos.median_ms:.2f} ms at {memos_count} memos "
                  f"(goal < {GOAL_SEARCH_MS} ms at 100k): {verdict(memos.median_ms < GOAL_SEARCH_MS)}")
    after = memory["after the load and the cases"]
    print(f"  memory after the load and the cases: {after:.1f} MiB (goal < {GOAL_MEMORY_MIB} MiB at 100k): "
          f"{verdict(after < GOAL_MEMORY_MIB)}")


def settle(seconds: float = 2.0) -> None:
    time.sleep(seconds)


def run(args: argparse.Namespace, data: Path) -> None:
    memos_port, bare_port = free_port(), free_port()
    command = [*memos_command(args), "--addr", "127.0.0.1", "--port", str(memos_port), "--data", str(data)]
    base = f"http://127.0.0.1:{memos_port}"
    with running(command, memos_port, str(data), memos_env(args.module)) as server, \
            running(bare_command(bare_port), bare_port, str(data)) as bare_server:
        session = Session(base)
        session.sign_up()
        session.headers()
        timed_requests(memos_port, repeat("GET", list_path()), session.headers(), 20, 0)
        settle()
        memory = {"idle after sign-up": rss_mib(server.pid)}
        names, _ = load(session, data, args.memos, args.concurrency)
        settle()
        memory["after the load"] = rss_mib(server.pid)
        print(f"\n{args.requests} requests per case after {args.warmup} warm-up ones, one at a time;"
              f" memos at {len(names)} memos against the bare app:")
        print(f"  {'case':<40} {'median':>7} {'p95':>7} {'req/s':>7}   {'bare':>6} {'req/s':>7}   ratio"
              f"   {'bytes':>7}")
        results = measure(session, memos_port, bare_port, names, args.requests, args.warmup)
        settle()
        memory["after the load and the cases"] = rss_mib(server.pid)
        memory["peak (VmHWM)"] = peak_mib(server.pid)
        memory["the bare app, after the cases"] = rss_mib(bare_server.pid)
    report(results, memory, len(names))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_source_arguments(parser)
    parser.add_argument("--memos", type=int, default=100_000, help="memos to load (default 100000)")
    parser.add_argument("--concurrency", type=int, default=8, help="CreateMemo requests in flight while loading")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per case")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured requests before each case")
    parser.add_argument("--data", type=Path, help="data directory to create or reuse (default: a temporary one)")
    args = parser.parse_args()
    if args.data:
        args.data.mkdir(parents=True, exist_ok=True)
        run(args, args.data.resolve())
        return 0
    with tempfile.TemporaryDirectory(prefix="memos-bench-") as scratch:
        run(args, Path(scratch))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
