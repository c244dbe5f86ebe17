"""What the server benchmarks share: which server to start, starting it, reading its memory, the bare app.

Imported by the scripts beside it (``python benchmarks/<name>.py`` puts this folder on ``sys.path``).
Linux only: memory and sockets are read from /proc.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PYZ = ROOT / "dist" / "memos.pyz"

# The ceiling memos is compared with: a few Starlette routes on stock hypercorn, on the same interpreter.
# /json/<n> answers a JSON body of exactly n bytes (GET, or POST after reading the request body), so a
# memos answer can be set against the cheapest possible answer of the same size.
BARE_APP = r"""
import asyncio, sys
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

bodies = {}

def json_body(size):
    if size not in bodies:
        bodies[size] = b'{"d":"' + b"x" * max(size - 8, 0) + b'"}'
    return bodies[size]

async def healthz(request):
    return PlainTextResponse("Service ready.")

async def signin(request):
    body = await request.body()
    return PlainTextResponse(str(len(body)), status_code=400)

async def json(request):
    if request.method == "POST":
        await request.body()
    return Response(json_body(request.path_params["size"]), media_type="application/json")

async def blob(request):
    size = request.path_params["size"]
    async def chunks():
        chunk = b"x" * 65536
        for start in range(0, size, 65536):
            yield chunk[: size - start]
    return StreamingResponse(chunks(), headers={"content-length": str(size)})

config = Config()
config.bind = [f"127.0.0.1:{sys.argv[1]}"]
config.accesslog = None
app = Starlette(routes=[
    Route("/healthz", healthz),
    Route("/api/v1/auth/signin", signin, methods=["POST"]),
    Route("/json/{size:int}", json, methods=["GET", "POST"]),
    Route("/blob/{size:int}", blob),
])
asyncio.run(serve(app, config))
"""


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    """--pyz / --module: the built memos.pyz (the default) or ``python -m memos`` from this checkout."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--pyz", type=Path, default=DEFAULT_PYZ, help="default dist/memos.pyz")
    source.add_argument("--module", action="store_true", help="run `python -m memos` from this checkout")


def memos_command(args: argparse.Namespace, python: str = sys.executable) -> list[str]:
    """The command that starts memos as chosen by add_source_arguments (without its flags)."""
    if args.module:
        return [python, "-m", "memos"]
    if not args.pyz.is_file():
        raise SystemExit(f"{args.pyz} does not exist: run build_zipapp.py first, or use --module")
    return [python, str(args.pyz.resolve())]


def memos_env(module: bool) -> dict[str, str]:
    """The environment for a memos process: no MEMOS_* settings of this shell, this checkout for --module."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMOS_")}
    env["PYTHONPATH"] = str(ROOT) if module else ""
    return env


def bare_command(port: int, python: str = sys.executable) -> list[str]:
    return [python, "-c", BARE_APP, str(port)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_status(url: str, timeout: float = 5) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def wait_healthy(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> float:
    """Seconds until GET /healthz answers 200; exits the benchmark if the process dies or never answers."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode} before answering /healthz")
        with contextlib.suppress(OSError):
            if get_status(f"http://127.0.0.1:{port}/healthz", timeout=2) == 200:
                return time.monotonic() - began
        time.sleep(0.05)
    raise SystemExit(f"no /healthz answer within {timeout} s")


@contextlib.contextmanager
def running(
    command: Sequence[str], port: int, cwd: str, env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server, wait for /healthz, yield its process; stop it (SIGTERM) on the way out."""
    process = subprocess.Popen(
        list(command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, env=env,
    )
    try:
        wait_healthy(port, process)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def status_kib(pid: int, field: str) -> int:
    """One memory figure of /proc/<pid>/status in KiB, e.g. VmRSS or VmHWM (the peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for process {pid}")


def rss_mib(pid: int) -> float:
    return status_kib(pid, "VmRSS") / 1024


def peak_mib(pid: int) -> float:
    return status_kib(pid, "VmHWM") / 1024


def sockets(pid: int) -> int:
    """How many sockets the process holds open."""
    count = 0
    for name in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:")
    return count


# Memo contents for the benchmarks that load memos: words in three scripts, up to two tags,
# one rare word in about one memo in 5000 and a common one in most.
WORDS = (
    "meeting", "notes", "plan", "review", "draft", "idea", "today", "tomorrow", "project",
    "release", "deploy", "server", "bug", "fix", "coffee", "book", "travel", "family", "health",
    "budget", "invoice", "design", "sketch", "garden", "recipe", "music", "film", "weekly",
    "quarterly", "roadmap", "feedback", "customer", "support", "question", "answer", "reminder",
    "call", "email", "会议", "记录", "计划", "想法", "旅行", "读书", "メモ", "日記", "買い物", "料理",
)
TAGS = ("work", "work/project", "personal", "book", "travel", "idea", "todo")
RARE_WORD = "zanzibarite"  # in about one memo in 5000
COMMON_WORD = "project"


def memo_content(rng: random.Random, index: int) -> tuple[str, list[str]]:
    """The content of the index-th benchmark memo and the tags written in it."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 60))]
    tags = rng.sample(TAGS, rng.randint(0, 2))
    if index % 5000 == 17:
        words.insert(rng.randint(0, len(words)), RARE_WORD.capitalize())
    return " ".join(words + [f"#{tag}" for tag in tags]), tags
