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
import socket
import tempfile
import time

from _common import add_source_arguments, bare_command, free_port, memos_command, running, sockets, status_kib

BODY = 64 * 1024 * 1024


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
    add_source_arguments(parser)
    parser.add_argument("--connections", type=int, default=2100)
    args = parser.parse_args()
    command = memos_command(args)

    with tempfile.TemporaryDirectory(prefix="memos-bench-") as data:
        memos_port, bare_port = free_port(), free_port()
        command += ["--addr", "127.0.0.1", "--port", str(memos_port), "--data", data]
        memos = measure(command, memos_port, args.connections, data)
        bare = measure(bare_command(bare_port), bare_port, args.connections, data)

    print(f"{args.connections} short connections, then 4 + 4 concurrent 64 MiB bodies; memos / bare Starlette")
    for name, value in memos.items():
        ratio = f"{value / bare[name]:.2f}" if bare[name] else "-"
        print(f"  {name:28} memos {value:9.2f}   bare {bare[name]:9.2f}   ratio {ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
