#!/usr/bin/env python3
"""Peak server memory while a large attachment is uploaded and downloaded, against a bare Starlette app.

    python benchmarks/attachment_transfer.py               # dist/memos.pyz (build it first)
    python benchmarks/attachment_transfer.py --module --mib 50

memos: the upload limit is raised to fit, then one file of --mib MiB (random bytes) is uploaded
with CreateAttachment over REST (base64 in JSON, what the web UI sends) and over Connect (binary
protobuf), each into LOCAL storage, then downloaded whole from /file/attachments/. The bare app
reads a body of the same size as the JSON upload and streams the same number of bytes back.
For each step the peak resident memory above the idle figure is read from /proc (VmHWM, reset
before each step through /proc/<pid>/clear_refs). Not a test: figures depend on the machine.
Goals: an upload holds a small multiple of the file; a download holds a bounded buffer, not the file.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from _common import add_source_arguments, bare_command, free_port, memos_command, memos_env, running, status_kib

MIB = 1024 * 1024


def reset_peak(pid: int) -> None:
    # "5" resets the peak resident set size (Linux 4.0+).
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_above(pid: int, idle_kib: int) -> float:
    return (status_kib(pid, "VmHWM") - idle_kib) / 1024


def call(url: str, body: bytes | None = None, headers: dict[str, str] | None = None, method: str = "POST") -> bytes:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{method} {url}: {error.code} {error.read()[:300]!r}") from None


def download(url: str, headers: dict[str, str]) -> int:
    total = 0
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=600) as response:
        while chunk := response.read(1 << 20):
            total += len(chunk)
    return total


def measure_memos(args: argparse.Namespace, content: bytes) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        command = [*memos_command(args), "--port", str(port), "--data", data]
        with running(command, port, cwd=data, env=memos_env(args.module)) as process:
            json_headers = {"Content-Type": "application/json"}
            user = json.dumps({"username": "bench", "password": "bench-pw", "role": "ADMIN"}).encode()
            call(f"{base}/api/v1/users", user, json_headers)
            signin = json.dumps({"passwordCredentials": {"username": "bench", "password": "bench-pw"}}).encode()
            token = json.loads(call(f"{base}/api/v1/auth/signin", signin, json_headers))["accessToken"]
            auth = {"Authorization": f"Bearer {token}"}
            limit = {"name": "instance/settings/STORAGE",
                     "storageSetting": {"storageType": "LOCAL", "uploadSizeLimitMb": len(content) // MIB + 2}}
            call(f"{base}/api/v1/instance/settings/STORAGE", json.dumps(limit).encode(), {**json_headers, **auth},
                 method="PATCH")
            time.sleep(1)
            idle = status_kib(process.pid, "VmRSS")
            figures = {"idle RSS (MiB)": idle / 1024}

            body = json.dumps({"filename": "big.bin", "type": "application/octet-stream",
                               "content": base64.b64encode(content).decode()}).encode()
            reset_peak(process.pid)
            made = json.loads(call(f"{base}/api/v1/attachments", body, {**json_headers, **auth}))
            figures["upload, REST JSON base64: peak above idle (MiB)"] = peak_above(process.pid, idle)
            del body

            from memos.gen.api.v1 import attachment_service_pb2 as api

            binary = api.CreateAttachmentRequest(
                attachment=api.Attachment(filename="big2.bin", type="application/octet-stream", content=content)
            ).SerializeToString()
            reset_peak(process.pid)
            call(f"{base}/memos.api.v1.AttachmentService/CreateAttachment", binary,
                 {"Content-Type": "application/proto", **auth})
            figures["upload, Connect binary: peak above idle (MiB)"] = peak_above(process.pid, idle)
            del binary

            reset_peak(process.pid)
            uid = made["name"].split("/", 1)[1]
            size = download(f"{base}/file/attachments/{uid}/big.bin", auth)
            assert size == len(content), size
            figures["download: peak above idle (MiB)"] = peak_above(process.pid, idle)
    return figures


def measure_bare(content_size: int) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    body = b"x" * (4 * ((content_size + 2) // 3) + 100)  # as large as the JSON upload
    with tempfile.TemporaryDirectory() as cwd, running(bare_command(port), port, cwd=cwd) as process:
        idle = status_kib(process.pid, "VmRSS")
        reset_peak(process.pid)
        call(f"{base}/json/100", body, {"Content-Type": "application/json"})
        upload = peak_above(process.pid, idle)
        reset_peak(process.pid)
        assert download(f"{base}/blob/{content_size}", {}) == content_size
        return {"idle RSS (MiB)": idle / 1024, "upload (body read whole)": upload,
                "download": peak_above(process.pid, idle)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_source_arguments(parser)
    parser.add_argument("--mib", type=int, default=50, help="file size in MiB (default 50)")
    args = parser.parse_args()
    if args.module:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    content = os.urandom(args.mib * MIB)
    memos = measure_memos(args, content)
    bare = measure_bare(len(content))
    print(f"file: {args.mib} MiB")
    for name, value in memos.items():
        print(f"memos  {name:<50} {value:8.1f}")
    for name, value in bare.items():
        print(f"bare   {name:<50} {value:8.1f}")
    upload_ratio = memos["upload, REST JSON base64: peak above idle (MiB)"] / max(bare["upload (body read whole)"], 1)
    print(f"ratio  REST upload peak / bare body read peak: {upload_ratio:.2f}")
    print(f"ratio  upload peak / file size: {memos['upload, REST JSON base64: peak above idle (MiB)'] / args.mib:.2f}")
    print(f"ratio  download peak / file size: {memos['download: peak above idle (MiB)'] / args.mib:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
