"""The Store facade: opening, migrating and reading an existing database, on real SQLite files."""
from __future__ import annotations

import ast
import hashlib
import pathlib
import uuid

import pytest
from support import sqlite_rows as _rows

import memos
from memos.store import (
    FindUser,
    Store,
    StoreError,
)

pytestmark = pytest.mark.anyio



async def test_first_start_leaves_exactly_one_basic_row_with_version_and_secret(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "memos_prod.db"
    store = await Store.open("sqlite", str(path))
    basic = await store.instance_settings.basic()
    await store.close()
    assert basic.schema_version == "0.30.1"
    assert str(uuid.UUID(basic.secret_key, version=4)) == basic.secret_key
    assert [name for (name,) in _rows(path, "SELECT name FROM system_setting")] == ["BASIC"]
    assert _rows(path, "SELECT COUNT(*) FROM user") == [(0,)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["memos_prod.db"]


async def test_reopening_changes_nothing_and_keeps_the_secret(tmp_path: pathlib.Path) -> None:
    path = str(tmp_path / "memos_prod.db")
    store = await Store.open("sqlite", path)
    secret = (await store.instance_settings.basic()).secret_key
    await store.close()
    before = _rows(tmp_path / "memos_prod.db", "SELECT name, value, description FROM system_setting")
    store = await Store.open("sqlite", path)
    assert (await store.instance_settings.basic()).secret_key == secret
    await store.close()
    assert _rows(tmp_path / "memos_prod.db", "SELECT name, value, description FROM system_setting") == before


async def test_unknown_and_unsupported_drivers_are_refused(tmp_path: pathlib.Path) -> None:
    with pytest.raises(StoreError, match="unknown db driver: oracle"):
        await Store.open("oracle", str(tmp_path / "x.db"))
    with pytest.raises(StoreError, match="postgres"):
        await Store.open("postgres", "postgres://localhost/memos")


async def test_demo_mode_opens_and_is_marked(tmp_path: pathlib.Path) -> None:
    store = await Store.open("sqlite", str(tmp_path / "memos_demo.db"), demo=True)
    try:
        assert store.demo
        assert (await store.instance_settings.basic()).schema_version == "0.30.1"
    finally:
        await store.close()


async def test_memos_v030_database_reads_unchanged(v030_database: pathlib.Path) -> None:
    users_before = _rows(v030_database, "SELECT id, username, role, nickname, password_hash FROM user ORDER BY id")
    related_before = _rows(v030_database, "SELECT value FROM system_setting WHERE name = 'MEMO_RELATED'")
    store = await Store.open("sqlite", str(v030_database))
    try:
        users = await store.users.find(FindUser())
        assert sorted((u.id, u.username, u.role, u.nickname, u.password_hash) for u in users) == users_before
        assert (await store.users.get(FindUser(username="steven"))).role == "ADMIN"
        assert await store.users.count(FindUser(role="ADMIN")) == 1

        related = (await store.instance_settings.get("MEMO_RELATED")).memo_related_setting
        assert related.content_length_limit == 8192
        assert list(related.reactions)[:3] == ["👍", "💛", "🔥"] and len(related.reactions) == 15

        tokens = await store.user_settings.get(1, "PERSONAL_ACCESS_TOKENS")
        assert [t.token_id for t in tokens.personal_access_tokens.tokens] == ["demo-access-token"]
        assert tokens.personal_access_tokens.tokens[0].created_at.seconds == 1704067200

        demo_hash = hashlib.sha256(b"memos_pat_demo").hexdigest()
        found = await store.user_settings.find_personal_access_token(demo_hash)
        assert found is not None and found[0] == 1 and found[1].description == "Demo access token"
        assert await store.user_settings.find_personal_access_token("0" * 64) is None

        basic = await store.instance_settings.basic()
        assert basic.schema_version == "0.30.1" and basic.secret_key
    finally:
        await store.close()
    # Reading wrote nothing back: obsolete keys of the old row are still there.
    assert _rows(v030_database, "SELECT value FROM system_setting WHERE name = 'MEMO_RELATED'") == related_before


def test_only_the_dialect_modules_know_the_database_library() -> None:
    # Room for a second dialect: above memos/store/<dialect>/ nothing imports apsw or a dialect module
    # (open_driver, which picks the dialect, imports it lazily inside the function).
    root = pathlib.Path(memos.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(("store/sqlite/", "gen/")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            known = [name for name in names if name == "apsw" or name.startswith("memos.store.sqlite")]
            offenders += [f"{relative}: {name}" for name in known]
    assert offenders == []


async def test_the_generation_moves_with_every_committed_write_of_this_process_or_another(
    tmp_path: pathlib.Path,
) -> None:
    from support import sqlite_execute

    path = tmp_path / "memos_prod.db"
    store = await Store.open("sqlite", str(path))
    try:
        start = store.generation()
        assert start is not None and store.generation() == start  # reading moves nothing
        await store.users.get(FindUser(id=1))
        assert store.generation() == start
        await store.driver.execute_script("INSERT INTO memo (uid, creator_id, content) VALUES ('a', 1, 'x')")
        after_own = store.generation()
        assert after_own != start
        sqlite_execute(path, "UPDATE memo SET content = 'y'")  # another program, e.g. a restore tool
        assert store.generation() not in (start, after_own)
    finally:
        await store.close()
    assert store.generation() is None  # closed: nothing may be reused
