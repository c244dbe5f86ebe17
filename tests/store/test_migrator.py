from __future__ import annotations

import json
import pathlib
import re
from collections.abc import Callable

import apsw
import pytest
from support import sqlite_rows as _rows

from memos.store import migrator
from memos.store.errors import MigrationError
from memos.store.sqlite import SqliteDriver
from memos.store.store import Store

pytestmark = pytest.mark.anyio


def _contract_columns(contract_dir: pathlib.Path) -> dict[str, set[str]]:
    """table -> column names, from the schema table of sqlite-schema.md."""
    columns: dict[str, set[str]] = {}
    for line in (contract_dir / "sqlite-schema.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("table", "") or set(cells[0]) == {"-"}:
            continue
        for name in cells[1].split(","):
            columns.setdefault(cells[0], set()).add(name.strip())
    return columns


async def test_latest_schema_has_the_v030_tables_and_columns(
    tmp_path: pathlib.Path, contract_dir: pathlib.Path
) -> None:
    path = tmp_path / "fresh.db"
    driver = await SqliteDriver.open(str(path))
    await migrator.migrate(driver)
    await driver.close()
    expected = _contract_columns(contract_dir)
    assert len(expected) == 11
    listed = _rows(path, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    tables = {name for (name,) in listed}
    assert tables == set(expected)
    for table, columns in expected.items():
        assert {row[1] for row in _rows(path, f"PRAGMA table_info({table})")} == columns, table


async def test_fresh_database_is_stamped_with_the_schema_version_only(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "fresh.db"
    driver = await SqliteDriver.open(str(path))
    await migrator.migrate(driver)
    await driver.close()
    assert _rows(path, "SELECT name, value FROM system_setting") == [("BASIC", '{"schemaVersion":"0.30.1"}')]


def _assert_untouched(path: pathlib.Path, before: bytes) -> None:
    assert path.read_bytes() == before
    wal = pathlib.Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


async def _refusal(path: pathlib.Path) -> str:
    with pytest.raises(MigrationError) as caught:
        await Store.open("sqlite", str(path))
    return str(caught.value)


async def test_newer_schema_is_refused_without_writing(
    tmp_path: pathlib.Path, build_database: Callable[..., bytes]
) -> None:
    path = tmp_path / "memos_prod.db"
    before = build_database(path, basic={"schemaVersion": "99.0.0"})
    message = await _refusal(path)
    assert message == "cannot downgrade schema version from 99.0.0 to 0.30.1"
    _assert_untouched(path, before)


@pytest.mark.parametrize("basic", [{"schemaVersion": "0.21.0"}, {"schemaVersion": ""}, {}, None])
async def test_too_old_schema_is_refused_without_writing(
    tmp_path: pathlib.Path, build_database: Callable[..., bytes], basic: dict | None
) -> None:
    path = tmp_path / "memos_prod.db"
    before = build_database(path, basic=basic)
    message = await _refusal(path)
    assert message.startswith("Your Memos installation is too old to upgrade directly.")
    current = (basic or {}).get("schemaVersion") or "0.0.0"
    assert f"Current schema version: {current}" in message
    assert "0.30.1" in message and "v0.22.0" in message and "v0.25.3" in message
    _assert_untouched(path, before)


async def test_supported_but_unshipped_upgrade_is_refused_without_writing(
    tmp_path: pathlib.Path, build_database: Callable[..., bytes]
) -> None:
    path = tmp_path / "memos_prod.db"
    before = build_database(path, basic={"schemaVersion": "0.26.2"})
    message = await _refusal(path)
    assert "0.26.2" in message and "Memos v0.30 first" in message
    _assert_untouched(path, before)


async def test_a_rollback_journal_database_is_left_in_its_mode_when_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "memos_prod.db"
    conn = apsw.Connection(str(path))
    with conn:
        conn.execute(migrator.latest_schema("sqlite"))
        conn.execute("""INSERT INTO system_setting (name, value) VALUES ('BASIC', '{"schemaVersion":"1.0.0"}')""")
    conn.close()
    before = path.read_bytes()
    await _refusal(path)
    assert path.read_bytes() == before


async def test_garbage_version_is_a_clear_error(
    tmp_path: pathlib.Path, build_database: Callable[..., bytes]
) -> None:
    path = tmp_path / "memos_prod.db"
    build_database(path, basic={"schemaVersion": "latest"})
    assert "not a valid version" in await _refusal(path)


def test_version_parsing_and_order() -> None:
    assert migrator.parse_version("0.30.1") == (0, 30, 1)
    assert migrator.parse_version("") == (0, 0, 0)
    assert migrator.parse_version("0.9.9") < migrator.parse_version("0.22.0") < migrator.parse_version("0.30.1")
    assert migrator.format_version((0, 30, 1)) == "0.30.1"
    assert migrator.target_version("sqlite") == (0, 30, 1)


def _migration_folder(tmp_path: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    root = tmp_path / "migration"
    root.mkdir()
    (root / "LATEST.sql").write_text(migrator.latest_schema("sqlite"), encoding="utf-8")
    for name, sql in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(sql, encoding="utf-8")
    return root


def test_upgrade_files_are_found_and_versioned(tmp_path: pathlib.Path) -> None:
    root = _migration_folder(
        tmp_path,
        {
            "0.31/01__second.sql": "SELECT 2;",
            "0.31/00__first.sql": "SELECT 1;",
            "0.31/notes.txt": "",
            "seed/01__demo.sql": "",
        },
    )
    steps = migrator.upgrade_files("sqlite", root)
    assert [(step.version, step.path) for step in steps] == [
        ((0, 31, 1), "0.31/00__first.sql"),
        ((0, 31, 2), "0.31/01__second.sql"),
    ]
    assert migrator.target_version("sqlite", root) == (0, 31, 2)


async def test_pending_upgrade_files_run_once_and_restamp(
    tmp_path: pathlib.Path, build_database: Callable[..., bytes]
) -> None:
    root = _migration_folder(
        tmp_path,
        {
            "0.31/00__note.sql": "CREATE TABLE upgrade_note (text TEXT);",
            "0.31/01__fill.sql": "INSERT INTO upgrade_note VALUES ('ran');",
        },
    )
    path = tmp_path / "memos_prod.db"
    build_database(path, basic={"schemaVersion": "0.30.1", "secretKey": "s"})
    for _ in range(2):  # the second start finds nothing to do
        driver = await SqliteDriver.open(str(path))
        await migrator.migrate(driver, root)
        await driver.close()
    assert _rows(path, "SELECT text FROM upgrade_note") == [("ran",)]
    basic = json.loads(_rows(path, "SELECT value FROM system_setting WHERE name = 'BASIC'")[0][0])
    assert basic == {"schemaVersion": "0.31.2", "secretKey": "s"}


async def test_a_failing_upgrade_leaves_the_schema_and_stamp_alone(
    tmp_path: pathlib.Path, build_database: Callable[..., bytes]
) -> None:
    root = _migration_folder(
        tmp_path,
        {
            "0.31/00__ok.sql": "CREATE TABLE upgrade_note (text TEXT);",
            "0.31/01__bad.sql": "INSERT INTO nowhere VALUES (1);",
        },
    )
    path = tmp_path / "memos_prod.db"
    build_database(path, basic={"schemaVersion": "0.30.1"})
    driver = await SqliteDriver.open(str(path))
    with pytest.raises(Exception, match="nowhere"):
        await migrator.migrate(driver, root)
    await driver.close()
    assert not _rows(path, "SELECT 1 FROM sqlite_master WHERE name = 'upgrade_note'")
    assert _rows(path, "SELECT value FROM system_setting")[0][0] == '{"schemaVersion": "0.30.1"}'


def test_packaged_migration_folder_holds_only_latest_for_now() -> None:
    assert migrator.upgrade_files("sqlite") == []
    assert re.search(r"CREATE TABLE memo\b", migrator.latest_schema("sqlite"))
