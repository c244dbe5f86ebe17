"""Helpers for the tests of memos.ops: the `memos` command as a process, a live instance with
memos and attachments made over the API (attachments stored the way uploads are), and reading
everything back over the API."""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import pathlib
import subprocess
import sys

import httpx
from support import bearer

from memos.gen.store.instance_setting_pb2 import InstanceStorageSetting
from memos.storage.attachments import AttachmentStorage
from memos.store import CreateAttachment, FindMemo, Store

MEMOS = [sys.executable, "-m", "memos"]
LOCAL = InstanceStorageSetting(storage_type=InstanceStorageSetting.LOCAL, filepath_template="assets/{filename}")
DATABASE = InstanceStorageSetting(storage_type=InstanceStorageSetting.DATABASE)


def memos_environment() -> dict[str, str]:
    """This environment without MEMOS_* settings (the tests pass every flag themselves)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("MEMOS_")}


def memos_command(*args: str, cwd: pathlib.Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`memos <args>` as a process of its own."""
    return subprocess.run([*MEMOS, *args], capture_output=True, text=True, timeout=timeout,
                          env=memos_environment(), cwd=cwd)


def sign_up(url: str, username: str, password: str = "pw") -> dict[str, str]:
    """Create the user over REST (the first one is the admin), sign in; its Authorization header."""
    created = httpx.post(f"{url}/api/v1/users", json={"username": username, "password": password})
    assert created.status_code == 200, created.text
    signed = httpx.post(f"{url}/api/v1/auth/signin",
                        json={"passwordCredentials": {"username": username, "password": password}})
    assert signed.status_code == 200, signed.text
    return bearer(signed.json()["accessToken"])


def create_memo(url: str, headers: dict[str, str], content: str, **fields: object) -> dict:
    response = httpx.post(f"{url}/api/v1/memos", json={"content": content, **fields}, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def all_memos(url: str, headers: dict[str, str], **params: str) -> list[dict]:
    """Every memo the caller lists (NORMAL and ARCHIVED), over every page."""
    memos: list[dict] = []
    for state in ("NORMAL", "ARCHIVED"):
        token = ""
        while True:
            response = httpx.get(f"{url}/api/v1/memos", headers=headers, timeout=30,
                                 params={"pageSize": "500", "pageToken": token, "state": state, **params})
            assert response.status_code == 200, response.text
            body = response.json()
            memos.extend(body.get("memos", []))
            token = body.get("nextPageToken", "")
            if not token:
                break
    return memos


def comments_of(url: str, headers: dict[str, str], name: str) -> list[dict]:
    response = httpx.get(f"{url}/api/v1/{name}/comments", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json().get("memos", [])


def file_bytes(url: str, headers: dict[str, str], attachment: dict) -> bytes:
    uid = attachment["name"].rsplit("/", 1)[-1]
    response = httpx.get(f"{url}/file/attachments/{uid}/{attachment['filename']}", headers=headers, timeout=30)
    assert response.status_code == 200, (response.status_code, response.text)
    return response.content


@dataclasses.dataclass(frozen=True)
class Stored:
    uid: str
    filename: str
    content: bytes


def attach(data_dir: pathlib.Path, memo_uid: str, filename: str, content: bytes,
           setting: InstanceStorageSetting = LOCAL, *, outside: pathlib.Path | None = None,
           reference: str = "") -> Stored:
    """An attachment of memo ``memo_uid`` saved as an upload would be (``outside``: a LOCAL file kept
    elsewhere, as older Memos versions allowed; ``reference``: a LOCAL row naming that path as it is),
    written by a store of its own beside the server."""

    async def run() -> Stored:
        store = await Store.open("sqlite", str(data_dir / "memos_prod.db"), deployment_dir=None)
        storage = AttachmentStorage(str(data_dir))
        try:
            memo = await store.memos.get(FindMemo(uid=memo_uid, row_status=None, exclude_comments=False))
            assert memo is not None
            uid = f"att-{memo_uid}-{filename}".replace(".", "-")[:36].rstrip("-")
            if reference:
                kept: tuple[str, str, bytes | None] = ("LOCAL", reference, None)
            elif outside is not None:
                outside.mkdir(parents=True, exist_ok=True)
                (outside / filename).write_bytes(content)
                kept = ("LOCAL", str(outside / filename), None)
            else:
                saved = await storage.save(setting, uid=uid, filename=filename, content_type="text/plain",
                                           content=content, now=dt.datetime.now().astimezone())
                kept = (saved.storage_type, saved.reference, saved.blob)
            await store.attachments.create(CreateAttachment(
                uid=uid, creator_id=memo.creator_id, filename=filename, type="text/plain", size=len(content),
                storage_type=kept[0], reference=kept[1], blob=kept[2], memo_id=memo.id,
            ))
            return Stored(uid, filename, content)
        finally:
            await storage.close()
            await store.close()

    return asyncio.run(run())
