"""A small world for MemoService tests: a public instance with an admin and two users, and REST/Connect helpers."""
from __future__ import annotations

import base64
import dataclasses
import json
import pathlib
from collections.abc import Iterator
from typing import Any, ClassVar, TypeVar

from starlette.testclient import TestClient
from support import bearer, create_user_row, make_profile, sign_in

from memos.app import create_app

CONNECT = "/memos.api.v1.MemoService/"


@dataclasses.dataclass
class World:
    client: TestClient
    ids: dict[str, int]
    headers: dict[str, dict[str, str]]  # username -> Authorization header; "anon" -> {}

    def create(self, who: str, content: str = "text", memo_id: str = "", **fields: Any) -> dict:
        query = f"?memoId={memo_id}" if memo_id else ""
        response = self.client.post(f"/api/v1/memos{query}", json={"content": content, **fields},
                                    headers=self.headers[who])
        assert response.status_code == 200, response.text
        return response.json()

    def get(self, who: str, name: str) -> Any:
        return self.client.get(f"/api/v1/{name}", headers=self.headers[who])

    def list(self, who: str, **params: Any) -> Any:
        return self.client.get("/api/v1/memos", params=params, headers=self.headers[who])

    def names(self, who: str, **params: Any) -> list[str]:
        response = self.list(who, **params)
        assert response.status_code == 200, response.text
        return [memo["name"] for memo in response.json()["memos"]]

    def patch(self, who: str, name: str, body: dict, mask: str | None = None) -> Any:
        query = f"?updateMask={mask}" if mask is not None else ""
        return self.client.patch(f"/api/v1/{name}{query}", json=body, headers=self.headers[who])

    def comment(self, who: str, parent: str, content: str = "a comment", comment_id: str = "", **fields: Any) -> Any:
        return self.client.post(f"/api/v1/{parent}/comments", params={"commentId": comment_id} if comment_id else {},
                                json={"content": content, **fields}, headers=self.headers[who])

    def connect(self, who: str, method: str, body: dict) -> Any:
        return self.client.post(CONNECT + method, content=json.dumps(body),
                                headers={"content-type": "application/json", **self.headers[who]})

    def run_sql(self, sql: str, *args: Any) -> None:
        store = self.client.app.state.store
        self.client.portal.call(store.driver.run_write, lambda conn: conn.execute(sql, args))


def memo_world(data_dir: pathlib.Path, *, public: bool = True) -> Iterator[World]:
    profile = make_profile(data_dir, instance_url="http://memos.test" if public else "")
    with TestClient(create_app(profile), raise_server_exceptions=False) as client:
        ids = {name: create_user_row(client, name, role) for name, role in
               (("root", "ADMIN"), ("alice", "USER"), ("bob", "USER"))}
        headers = {name: bearer(sign_in(client, name)) for name in ids}
        yield World(client, ids, {"anon": {}, **headers})




@dataclasses.dataclass
class SignedInWorld:
    """root (admin), alice and bob, signed in: their access tokens; memos written through the API."""

    client: TestClient
    tokens: dict[str, str]
    memo_visibility: ClassVar[str] = "PUBLIC"  # what memo() writes unless told
    memo_content: ClassVar[str] = "hello"

    def headers(self, who: str | None) -> dict[str, str]:
        return bearer(self.tokens[who]) if who else {}

    def memo(self, owner: str = "alice", visibility: str | None = None, content: str | None = None) -> str:
        body = {"content": content or self.memo_content, "visibility": visibility or self.memo_visibility}
        response = self.client.post("/api/v1/memos", json=body, headers=self.headers(owner))
        assert response.status_code == 200, response.text
        return str(response.json()["name"])


SignedIn = TypeVar("SignedIn", bound=SignedInWorld)


def signed_in_world(world: type[SignedIn], data_dir: pathlib.Path, **profile: object) -> Iterator[SignedIn]:
    with TestClient(create_app(make_profile(data_dir, **profile)), raise_server_exceptions=False) as client:
        for name, role in (("root", "ADMIN"), ("alice", "USER"), ("bob", "USER")):
            create_user_row(client, name, role)
        yield world(client, {name: sign_in(client, name) for name in ("root", "alice", "bob")})


def error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["message"]


# --- attachments ----------------------------------------------------------------------------------

ATTACHMENT_CONNECT = "/memos.api.v1.AttachmentService/"


def upload(world: World, who: str, filename: str = "note.txt", content: bytes = b"hello", *,
           attachment_id: str = "", **fields: Any) -> Any:
    """CreateAttachment over REST (the body is the Attachment itself); the raw response."""
    body = {"filename": filename, "content": base64.b64encode(content).decode(), **fields}
    params = {"attachmentId": attachment_id} if attachment_id else {}
    return world.client.post("/api/v1/attachments", params=params, json=body, headers=world.headers[who])


def uploaded(world: World, who: str, filename: str = "note.txt", content: bytes = b"hello", **fields: Any) -> dict:
    """An attachment created over REST (the test fails when the upload does)."""
    response = upload(world, who, filename, content, **fields)
    assert response.status_code == 200, response.text
    return dict(response.json())


def set_storage(world: World, **setting: Any) -> None:
    """Changes the STORAGE instance setting (as root), e.g. ``storageType="DATABASE"``."""
    response = world.client.patch("/api/v1/instance/settings/STORAGE",
                                  json={"name": "instance/settings/STORAGE", "storageSetting": setting},
                                  headers=world.headers["root"])
    assert response.status_code == 200, response.text
