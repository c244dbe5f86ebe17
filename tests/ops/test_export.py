"""`memos export` then `memos import` into a fresh instance: every memo, comment, relation and attachment
comes back as it was; per-user exports carry the comments others left."""
from __future__ import annotations

import json
import pathlib
import zipfile

import httpx
import pytest
from ops_support import (
    DATABASE,
    MEMOS,
    all_memos,
    attach,
    comments_of,
    create_memo,
    file_bytes,
    memos_command,
    sign_up,
)
from support import running_server

from memos.ops.frontmatter import parse


def _patch(url: str, headers: dict[str, str], name: str, mask: str, **fields: object) -> None:
    response = httpx.patch(f"{url}/api/v1/{name}", params={"updateMask": mask}, json=fields, headers=headers)
    assert response.status_code == 200, response.text


def _comment(url: str, headers: dict[str, str], name: str, content: str) -> dict:
    response = httpx.post(f"{url}/api/v1/{name}/comments", json={"content": content}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def source(tmp_path: pathlib.Path) -> dict:
    """An instance with two users, every memo feature the export carries, and its export zip."""
    data = tmp_path / "source"
    with running_server(MEMOS, data) as url:
        alice, bob = sign_up(url, "alice"), sign_up(url, "bob")
        first = create_memo(url, alice, "# Plan\n\n- [ ] buy #food\n", visibility="PUBLIC",
                            location={"placeholder": "Paris", "latitude": 48.85, "longitude": 2.35})
        second = create_memo(url, alice, "see the plan #ideas",
                             relations=[{"relatedMemo": {"name": first["name"]}, "type": "REFERENCE"}])
        old = create_memo(url, alice, "archived one")
        _patch(url, alice, first["name"], "pinned", pinned=True)
        _patch(url, alice, old["name"], "state", state="ARCHIVED")
        _comment(url, bob, first["name"], "bob was here")
        create_memo(url, bob, "bob's own memo")
        uid = first["name"].split("/")[1]
        stored = [attach(data, uid, "list.txt", b"eggs\nmilk\n" * 100), attach(data, uid, "blob.txt", b"row", DATABASE)]
        everything = memos_command("export", "--data", str(data), "-o", str(tmp_path / "all.zip"))
        assert everything.returncode == 0, everything.stderr
        alices = memos_command("export", "--data", str(data), "--user", "alice", "-o", str(tmp_path / "alice.zip"))
        assert alices.returncode == 0, alices.stderr
        views = {who: {m["name"]: m for m in all_memos(url, h)} for who, h in (("alice", alice), ("bob", bob))}
    return {"all": tmp_path / "all.zip", "alice": tmp_path / "alice.zip", "stored": stored, "views": views,
            "first": first["name"], "second": second["name"]}


def _essentials(memo: dict) -> dict:
    return {key: memo.get(key) for key in (
        "name", "creator", "content", "visibility", "pinned", "state", "tags", "location", "createTime",
        "updateTime", "property", "snippet", "parent",
    )} | {"relations": sorted((r["memo"]["name"], r["relatedMemo"]["name"], r["type"])
                              for r in memo.get("relations", []))}


def test_an_export_imported_into_a_fresh_instance_is_the_same(tmp_path: pathlib.Path, source: dict) -> None:
    with running_server(MEMOS, tmp_path / "fresh") as url:
        alice, bob = sign_up(url, "alice"), sign_up(url, "bob")
        done = memos_command("import", "--data", str(tmp_path / "fresh"), str(source["all"]))
        assert done.returncode == 0, done.stderr
        assert "imported 5 memos and 2 attachments" in done.stdout
        for who, headers in (("alice", alice), ("bob", bob)):
            now = {m["name"]: m for m in all_memos(url, headers)}
            assert {n: _essentials(m) for n, m in now.items()} == {
                n: _essentials(m) for n, m in source["views"][who].items()
            }
        [comment] = comments_of(url, alice, source["first"])
        assert comment["content"] == "bob was here" and comment["creator"] == "users/bob"
        attachments = {a["filename"]: a for a in all_memos(url, alice) for a in a.get("attachments", [])}
        for stored in source["stored"]:
            assert file_bytes(url, alice, attachments[stored.filename]) == stored.content


def test_a_user_export_holds_their_memos_and_the_comments_on_them(tmp_path: pathlib.Path, source: dict) -> None:
    with zipfile.ZipFile(source["alice"]) as zf:
        manifest = json.loads(zf.read("memos-export.json"))
        files = {name: parse(zf.read(name).decode()) for name in zf.namelist() if name.endswith(".md")}
    assert manifest["user"] == "alice" and manifest["memos"] == 4
    creators = sorted(fields["creator"] for fields, _ in files.values())
    assert creators == ["alice", "alice", "alice", "bob"]
    comment = next(fields for fields, content in files.values() if content == "bob was here")
    assert comment["parent"] == source["first"].split("/")[1]
    first = files[f"memos/{source['first'].split('/')[1]}.md"][0]
    assert first["pinned"] is True and first["tags"] == ["food"]
    assert first["location"] == {"placeholder": "Paris", "latitude": 48.85, "longitude": 2.35}
    assert [a["filename"] for a in first["attachments"]] == ["blob.txt", "list.txt"]


def test_import_as_another_user_and_twice_gets_fresh_uids(tmp_path: pathlib.Path, source: dict) -> None:
    data = tmp_path / "other"
    with running_server(MEMOS, data) as url:
        carol = sign_up(url, "carol")
        for _ in range(2):
            done = memos_command("import", "--data", str(data), "--user", "carol", str(source["alice"]))
            assert done.returncode == 0, done.stderr
        memos = all_memos(url, carol)
        assert len(memos) == 6  # 3 top-level memos twice; the comments hang under them
        assert {m["creator"] for m in memos} == {"users/carol"}
        names = {m["name"] for m in memos}
        assert source["first"] in names and len(names) == 6
        copies = [m for m in memos if m["content"] == "see the plan #ideas"]
        assert len(copies) == 2
        plans = {m["name"] for m in memos if m["content"].startswith("# Plan")}
        # Each copy refers to the plan of its own import.
        assert {copy["relations"][0]["relatedMemo"]["name"] for copy in copies} == plans
        for memo in memos:
            if memo["content"].startswith("# Plan"):
                assert [c["content"] for c in comments_of(url, carol, memo["name"])] == ["bob was here"]


def test_unknown_users_stop_the_export_and_the_import(tmp_path: pathlib.Path, source: dict) -> None:
    data = tmp_path / "lonely"
    with running_server(MEMOS, data) as url:
        headers = sign_up(url, "alice")
        done = memos_command("import", "--data", str(data), str(source["all"]))
        assert done.returncode == 2
        assert done.stderr.strip().splitlines()[-1] == (
            "memos import: no user named bob on this instance; create them first, "
            "or pass --user NAME to import everything as one user"
        )
        assert all_memos(url, headers) == []
        refused = memos_command("export", "--data", str(data), "--user", "nobody", "-o", str(tmp_path / "x.zip"))
        assert refused.returncode == 2 and "no user named 'nobody'" in refused.stderr
        assert not (tmp_path / "x.zip").exists()
