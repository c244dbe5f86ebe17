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
import signal
import subprocess
import sys
import tempfile
import time

from _common import add_source_arguments, free_port, get_status, memos_command, memos_env, status_kib, wait_healthy

TARGET_MIB = 40
WARMUP_PATHS = ("/healthz", "/", "/api/v1/instance/profile", "/robots.txt", "/memos/abc")


def interpreter_baseline_kib(python: str) -> int:
    """What the interpreter alone holds, with this machine's site-packages start-up files."""
    script = "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])"
    return int(subprocess.run([python, "-c", script], capture_output=True, text=True, check=True).stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_source_arguments(parser)
    parser.add_argument(
        "--python", default=sys.executable,
        help="interpreter to run the pyz with (e.g. a clean venv's, to leave out the .pth files of this machine)",
    )
    parser.add_argument("--idle", type=float, default=5.0, help="seconds to idle before measuring")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of warm-up requests")
    args = parser.parse_args()

    command = memos_command(args, args.python)
    env = memos_env(args.module)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="memos-bench-") as data:
        proc = subprocess.Popen(
            [*command, "--addr", "127.0.0.1", "--port", str(port), "--data", data],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=data,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            startup = wait_healthy(port, proc)
            statuses = {}
            for _ in range(args.rounds):
                for path in WARMUP_PATHS:
                    statuses[path] = get_status(base + path)
            time.sleep(args.idle)
            memory = {field: status_kib(proc.pid, field) for field in ("VmRSS", "VmHWM")}
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
