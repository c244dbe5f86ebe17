from __future__ import annotations

import asyncio
import pathlib
import threading

import apsw
import pytest

from memos.store.errors import Conflict, InvalidValue, StoreError
from memos.store.models import SystemSettingRow
from memos.store.sqlite import SqliteDriver
from memos.store.store import Store

pytestmark = pytest.mark.anyio


async def _read_value(driver: SqliteDriver, sql: str, args: tuple = ()) -> object:
    return await driver.run_read(lambda conn: conn.execute(sql, args).fetchall()[0][0])


async def test_unicode_lower_folds_case_fully(store: Store) -> None:
    driver = store.driver
    assert await _read_value(driver, "SELECT memos_unicode_lower('Straße ÄÖÜ')") == "strasse äöü"
    assert await _read_value(driver, "SELECT memos_unicode_lower(X'C39F')") == "ss"
    assert await _read_value(driver, "SELECT memos_unicode_lower(NULL)") is None
    assert await _read_value(driver, "SELECT memos_unicode_lower(42)") == 42
    like = "SELECT memos_unicode_lower('GROSSE Pläne') LIKE '%' || memos_unicode_lower('große') || '%'"
    assert await _read_value(driver, like) == 1


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("'hello world' REGEXP 'w.r'", 1),
        ("'hello world' REGEXP '^world'", 0),
        ("NULL REGEXP 'a'", 0),
        ("'a' REGEXP NULL", 0),
        ("123 REGEXP '1'", 0),
        ("'#dev/til' REGEXP '#dev/(til|git)'", 1),
    ],
)
async def test_regexp(store: Store, expression: str, expected: int) -> None:
    assert await _read_value(store.driver, f"SELECT {expression}") == expected


async def test_invalid_regexp_is_an_error_naming_the_pattern(store: Store) -> None:
    with pytest.raises(InvalidValue, match=r"invalid regular expression '\('"):
        await _read_value(store.driver, "SELECT 'a' REGEXP '('")


async def test_connection_pragmas(store: Store) -> None:
    driver = store.driver
    for pragma, expected in (("journal_mode", "wal"), ("foreign_keys", 0), ("busy_timeout", 10000), ("mmap_size", 0)):
        assert await _read_value(driver, f"PRAGMA {pragma}") == expected
        assert await driver.run_write(lambda conn, p=pragma: conn.execute(f"PRAGMA {p}").fetchall()[0][0]) == expected


async def test_readers_refuse_to_write(store: Store) -> None:
    with pytest.raises(StoreError):
        await store.driver.run_read(lambda conn: conn.execute("DELETE FROM system_setting"))
    assert await store.count_users() == 0
    assert len(await store.list_instance_settings()) == 1


async def test_reads_continue_while_a_write_transaction_is_open(store: Store) -> None:
    driver = store.driver
    inside_write = threading.Event()
    release = threading.Event()

    def slow_write(conn: apsw.Connection) -> None:
        conn.execute("INSERT INTO user (username, password_hash) VALUES ('pending', 'x')")
        inside_write.set()
        release.wait(10)

    write = asyncio.ensure_future(driver.run_write(slow_write))
    queued_write = None
    try:
        assert await asyncio.to_thread(inside_write.wait, 5)
        queued_write = asyncio.ensure_future(store.create_user(username="queued", password_hash="x"))
        for _ in range(25):
            # Each read must finish promptly and must not see the uncommitted row.
            assert await asyncio.wait_for(store.count_users(), 2) == 0
            assert await asyncio.wait_for(store.get_user(username="pending"), 2) is None
        assert not write.done() and not queued_write.done()
    finally:
        release.set()
    await write
    await queued_write
    # The queued write ran after the slow one, not beside it.
    assert [user.username for user in await store.list_users()] == ["queued", "pending"]


async def test_a_failing_write_rolls_back(store: Store) -> None:
    def half_write(conn: apsw.Connection) -> None:
        conn.execute("INSERT INTO user (username, password_hash) VALUES ('half', 'x')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.driver.run_write(half_write)
    assert await store.count_users() == 0
    # The writer connection is usable again afterwards.
    await store.create_user(username="whole", password_hash="x")
    assert await store.count_users() == 1


async def test_unique_violation_is_a_conflict(store: Store) -> None:
    await store.create_user(username="alice", password_hash="x")
    with pytest.raises(Conflict, match=r"user\.username"):
        await store.create_user(username="alice", password_hash="y")


async def test_system_setting_upsert_keeps_the_description(store: Store) -> None:
    driver = store.driver
    await driver.upsert_system_setting(SystemSettingRow("GENERAL", "{}", "kept"))
    row = await driver.upsert_system_setting(SystemSettingRow("GENERAL", '{"weekStartDayOffset":1}'))
    assert row == SystemSettingRow("GENERAL", '{"weekStartDayOffset":1}', "kept")


async def test_database_size_is_page_count_times_page_size(store: Store) -> None:
    driver = store.driver
    pages = await _read_value(driver, "PRAGMA page_count")
    page_size = await _read_value(driver, "PRAGMA page_size")
    assert await store.database_size() == pages * page_size > 0


async def test_in_memory_databases_are_refused() -> None:
    with pytest.raises(StoreError, match="must be a file"):
        await SqliteDriver.open(":memory:")


async def test_an_unopenable_path_is_a_store_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(StoreError, match="cannot open SQLite database"):
        await SqliteDriver.open(str(tmp_path / "missing-dir" / "memos_prod.db"))


async def test_a_closed_driver_says_so(tmp_path: pathlib.Path) -> None:
    store = await Store.open("sqlite", str(tmp_path / "memos_prod.db"))
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.count_users()
    await store.close()  # closing twice is harmless


async def test_file_uri_dsn(tmp_path: pathlib.Path) -> None:
    store = await Store.open("sqlite", f"file:{tmp_path / 'uri.db'}?cache=private")
    try:
        assert (await store.basic_setting()).schema_version == "0.30.1"
    finally:
        await store.close()
    assert (tmp_path / "uri.db").exists()
