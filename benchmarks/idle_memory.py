#!/usr/bin/env python3
"""Idle memory of a fresh server: start it on an empty data dir, make a few requests, idle, read RSS.

    python benchmarks/idle_memory.py                 # dist/memos.pyz (build it first)
    python benchmarks/idle_memory.py --module        # python -m memos from this checkout
    python benchmarks/idle_memory.py --pyz other.pyz --idle 10

Prints VmRSS (and the peak VmHWM) of the server process from /proc (Linux only).
Target: idle RSS <= 40 MiB. Not a test: the figure depends on the machine.
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MIB = 40
WARMUP_PATHS = ("/healthz", "/", "/api/v1/instance/profile", "/robots.txt", "/memos/abc")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering /healthz")
        try:
            if get(base + "/healthz") == 200:
                return time.monotonic() - began
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"no /healthz answer within {timeout} s")


def memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def interpreter_baseline_kib(python: str) -> int:
    """What the interpreter alone holds, with this machine's site-packages start-up files."""
    script = "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])"
    return int(subprocess.run([python, "-c", script], capture_output=True, text=True, check=True).stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--pyz", type=Path, default=ROOT / "dist" / "memos.pyz", help="default dist/memos.pyz")
    source.add_argument("--module", action="store_true", help="run `python -m memos` from this checkout")
    parser.add_argument(
        "--python", default=sys.executable,
        help="interpreter to run the pyz with (e.g. a clean venv's, to leave out the .pth files of this machine)",
    )
    parser.add_argument("--idle", type=float, default=5.0, help="seconds to idle before measuring")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of warm-up requests")
    args = parser.parse_args()

    if args.module:
        command = [args.python, "-m", "memos"]
    else:
        if not args.pyz.is_file():
            raise SystemExit(f"{args.pyz} does not exist: run build_zipapp.py first, or use --module")
        command = [args.python, str(args.pyz.resolve())]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMOS_")}
    env["PYTHONPATH"] = str(ROOT) if args.module else ""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="memos-bench-") as data:
        proc = subprocess.Popen(
            [*command, "--addr", "127.0.0.1", "--port", str(port), "--data", data],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=data,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            startup = wait_healthy(base, proc, timeout=60)
            statuses = {}
            for _ in range(args.rounds):
                for path in WARMUP_PATHS:
                    statuses[path] = get(base + path)
            time.sleep(args.idle)
            memory = memory_kib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    rss = memory["VmRSS"] / 1024
    print(f"source: {' '.join(command)}")
    print(f"the bare interpreter ({args.python} -c pass): {interpreter_baseline_kib(args.python) / 1024:.1f} MiB")
    print(f"first /healthz after {startup:.2f} s; warm-up answers: {statuses}")
    print(f"idle RSS: {rss:.1f} MiB (peak {memory['VmHWM'] / 1024:.1f} MiB); target <= {TARGET_MIB} MiB: "
          f"{'met' if rss <= TARGET_MIB else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
