"""`memos import`: folders of plain Markdown, and every kind of bad input refused whole (exit 2, nothing stored)."""
from __future__ import annotations

import datetime as dt
import io
import os
import pathlib
import zipfile

import pytest
from ops_support import MEMOS, all_memos, attach, create_memo, memos_command, sign_up
from support import running_server


@pytest.fixture
def instance(tmp_path: pathlib.Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    with running_server(MEMOS, data) as url:
        yield data, url, sign_up(url, "alice")


def test_a_folder_of_markdown_files_becomes_memos(tmp_path: pathlib.Path, instance: tuple) -> None:
    data, url, headers = instance
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "first.md").write_text("# Groceries\n\n- [x] milk #shopping\n")
    (folder / "sub" / "second.markdown").write_text("\ufeffsee https://example.com #links/web")
    (folder / "empty.md").write_text("  \n")
    (folder / "ignored.txt").write_text("not markdown")
    when = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC).timestamp()
    os.utime(folder / "first.md", (when, when))
    done = memos_command("import", "--data", str(data), "--user", "alice", str(folder))
    assert done.returncode == 0, done.stderr
    assert "imported 2 memos" in done.stdout
    memos = {m["content"]: m for m in all_memos(url, headers)}
    assert set(memos) == {"# Groceries\n\n- [x] milk #shopping\n", "see https://example.com #links/web"}
    groceries = memos["# Groceries\n\n- [x] milk #shopping\n"]
    assert groceries["createTime"] == "2021-03-04T05:06:07Z"
    assert groceries["tags"] == ["shopping"] and groceries["visibility"] == "PRIVATE"
    assert groceries["property"]["hasTaskList"] is True and groceries["property"]["title"] == "Groceries"
    # Derived exactly as the API derives it from the same content.
    link = memos["see https://example.com #links/web"]
    by_api = create_memo(url, headers, "see https://example.com #links/web")
    for key in ("tags", "property", "snippet"):
        assert link[key] == by_api[key]


def _export_of(data: pathlib.Path, tmp_path: pathlib.Path, url: str, headers: dict) -> pathlib.Path:
    memo = create_memo(url, headers, "to be exported")
    attach(data, memo["name"].split("/")[1], "a.txt", b"attachment bytes")
    create_memo(url, headers, "second one")
    exported = tmp_path / "export.zip"
    done = memos_command("export", "--data", str(data), "-o", str(exported))
    assert done.returncode == 0, done.stderr
    return exported


def _changed_zip(exported: pathlib.Path, tmp_path: pathlib.Path, change) -> pathlib.Path:  # type: ignore[no-untyped-def]
    copy = tmp_path / "changed.zip"
    with zipfile.ZipFile(exported) as source, zipfile.ZipFile(copy, "w") as target:
        for name in source.namelist():
            content = change(name, source.read(name))
            if content is not None:
                target.writestr(name, content)
    return copy


def _break_front_matter(name: str, content: bytes) -> bytes:
    return content.replace(b"visibility: ", b"visibility ", 1) if name.endswith(".md") else content


def _bad_visibility(name: str, content: bytes) -> bytes:
    return content.replace(b'"PRIVATE"', b'"SECRET"', 1) if name.endswith(".md") else content


def _flip_attachment(name: str, content: bytes) -> bytes:
    return content + b"!" if name.startswith("attachments/") else content


def _drop_attachment(name: str, content: bytes) -> bytes | None:
    return None if name.startswith("attachments/") else content


def _drop_manifest(name: str, content: bytes) -> bytes | None:
    return None if name == "memos-export.json" else content


@pytest.mark.parametrize(("change", "message"), [
    (_break_front_matter, "is not 'key: value'"),
    (_bad_visibility, "visibility must be one of"),
    (_flip_attachment, "does not match its checksum"),
    (_drop_attachment, "is missing from the zip"),
    (_drop_manifest, "not one made by 'memos export'"),
])
def test_a_damaged_export_imports_nothing(tmp_path: pathlib.Path, instance: tuple, change: object,
                                          message: str) -> None:
    data, url, headers = instance
    exported = _export_of(data, tmp_path, url, headers)
    before = all_memos(url, headers)
    assets = sorted((data / "assets").iterdir())
    done = memos_command("import", "--data", str(data), str(_changed_zip(exported, tmp_path, change)))
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("memos import: ") and message in last
    assert all_memos(url, headers) == before
    assert sorted((data / "assets").iterdir()) == assets  # no attachment file left behind either


@pytest.mark.parametrize("what", ["not a zip", "missing", "folder without --user", "empty folder"])
def test_bad_sources_are_one_line_and_status_2(tmp_path: pathlib.Path, instance: tuple, what: str) -> None:
    data, _, _ = instance
    source = tmp_path / "source"
    args = []
    if what == "not a zip":
        source.write_bytes(b"plain bytes" * 10)
    elif what in ("folder without --user", "empty folder"):
        source.mkdir()
        (source / "a.txt").write_text("no markdown")
        if what == "folder without --user":
            (source / "a.md").write_text("x")
        else:
            args = ["--user", "alice"]
    done = memos_command("import", "--data", str(data), *args, str(source))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("memos import: ")


def test_a_zip_of_something_else_is_refused(tmp_path: pathlib.Path, instance: tuple) -> None:
    data, _, _ = instance
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("hello.md", "hi")
    (tmp_path / "other.zip").write_bytes(buffer.getvalue())
    done = memos_command("import", "--data", str(data), "--user", "alice", str(tmp_path / "other.zip"))
    assert done.returncode == 2
    assert "not one made by 'memos export'" in done.stderr
