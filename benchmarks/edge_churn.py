#!/usr/bin/env python3
"""Connection churn and oversized bodies: memos.pyz against a bare Starlette app on stock hypercorn.

    python benchmarks/edge_churn.py                  # dist/memos.pyz (build it first)
    python benchmarks/edge_churn.py --module         # python -m memos from this checkout
    python benchmarks/edge_churn.py --connections 5000

Both servers run in the same run on 127.0.0.1 and get the same load:

- churn: N new connections one after the other, each one GET /healthz, closed by the client;
  sockets held right after and one second later, resident memory after, time per connection;
- bodies: four concurrent 64 MiB POSTs with a declared length and four without, to the sign-in
  route (memos) or a route that reads its whole body (the bare app, what an unguarded server does);
  peak resident memory (VmHWM) and memory after.

Prints each figure and memos' ratio to the bare app. Linux only (/proc). Not a test: the figures
depend on the machine.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BODY = 64 * 1024 * 1024

BARE_APP = r"""
import asyncio, sys
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

async def healthz(request):
    return PlainTextResponse("Service ready.")

async def signin(request):
    body = await request.body()
    return PlainTextResponse(str(len(body)), status_code=400)

config = Config()
config.bind = [f"127.0.0.1:{sys.argv[1]}"]
config.accesslog = None
app = Starlette(routes=[Route("/healthz", healthz), Route("/api/v1/auth/signin", signin, methods=["POST"])])
asyncio.run(serve(app, config))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for process {pid}")


def sockets(pid: int) -> int:
    count = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:")
    return count


@contextlib.contextmanager
def running(command: list[str], port: int, cwd: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{command[:3]} did not start")
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def churn(port: int, pid: int, count: int) -> dict[str, float]:
    before_rss = status_kib(pid, "VmRSS")
    began = time.perf_counter()
    for _ in range(count):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            sock.recv(4096)
    elapsed = time.perf_counter() - began
    held_now = sockets(pid)
    time.sleep(1)
    return {
        "per connection (ms)": elapsed / count * 1000,
        "sockets held right after": held_now,
        "sockets held 1 s later": sockets(pid),
        "RSS growth (MiB)": (status_kib(pid, "VmRSS") - before_rss) / 1024,
    }


def send_body(port: int, declared: bool) -> None:
    head = "POST /api/v1/auth/signin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    head += f"Content-Length: {BODY}\r\n\r\n" if declared else "Transfer-Encoding: chunked\r\n\r\n"
    chunk = b" " * (256 * 1024)
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        for _ in range(BODY // len(chunk)):
            sock.sendall(chunk if declared else b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if not declared:
            sock.sendall(b"0\r\n\r\n")
        sock.recv(4096)


def bodies(port: int, pid: int) -> dict[str, float]:
    before_rss, before_peak = status_kib(pid, "VmRSS"), status_kib(pid, "VmHWM")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda declared: send_body(port, declared), [True] * 4 + [False] * 4))
    time.sleep(1)
    return {
        "peak RSS growth (MiB)": (status_kib(pid, "VmHWM") - before_peak) / 1024,
        "RSS growth after (MiB)": (status_kib(pid, "VmRSS") - before_rss) / 1024,
    }


def measure(command: list[str], port: int, connections: int, cwd: str) -> dict[str, float]:
    with running(command, port, cwd) as process:
        figures = churn(port, process.pid, connections)
        figures.update(bodies(port, process.pid))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--pyz", type=Path, default=ROOT / "dist" / "memos.pyz", help="default dist/memos.pyz")
    source.add_argument("--module", action="store_true", help="run `python -m memos` from this checkout")
    parser.add_argument("--connections", type=int, default=2100)
    args = parser.parse_args()
    if not args.module and not args.pyz.is_file():
        raise SystemExit(f"{args.pyz} does not exist: run build_zipapp.py first, or use --module")

    with tempfile.TemporaryDirectory(prefix="memos-bench-") as data:
        memos_port, bare_port = free_port(), free_port()
        memos_command = [sys.executable, "-m", "memos"] if args.module else [sys.executable, str(args.pyz)]
        memos_command += ["--addr", "127.0.0.1", "--port", str(memos_port), "--data", data]
        memos = measure(memos_command, memos_port, args.connections, data)
        bare = measure([sys.executable, "-c", BARE_APP, str(bare_port)], bare_port, args.connections, data)

    print(f"{args.connections} short connections, then 4 + 4 concurrent 64 MiB bodies; memos / bare Starlette")
    for name, value in memos.items():
        ratio = f"{value / bare[name]:.2f}" if bare[name] else "-"
        print(f"  {name:28} memos {value:9.2f}   bare {bare[name]:9.2f}   ratio {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
