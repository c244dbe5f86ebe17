"""Fixtures shared by the store tests: real SQLite files in tmp_path, and the contract data."""
from __future__ import annotations

import json
import pathlib
from collections.abc import Callable

import apsw
import pytest
from support import contract_path

from memos.store import Store, migrator


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def db_path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "memos_prod.db"


@pytest.fixture
async def store(db_path: pathlib.Path):
    """A started Store on a fresh database file (``db_path``), without deployment files."""
    opened = await Store.open("sqlite", str(db_path), deployment_dir=None)
    yield opened
    await opened.close()


@pytest.fixture
def contract_dir() -> pathlib.Path:
    return contract_path()


def build_database(path: pathlib.Path, *, basic: dict | None, extra_sql: str = "") -> bytes:
    """A database made outside the Store (as another program would), closed; returns its bytes."""
    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA journal_mode = WAL").fetchall()
    with conn:
        conn.execute(migrator.latest_schema("sqlite"))
        if basic is not None:
            conn.execute("INSERT INTO system_setting (name, value) VALUES ('BASIC', ?)", (json.dumps(basic),))
        if extra_sql:
            conn.execute(extra_sql)
    conn.close()
    return path.read_bytes()


@pytest.fixture(name="build_database")
def build_database_fixture() -> Callable[..., bytes]:
    """build_database for tests (a conftest cannot be imported by name beside the top-level one)."""
    return build_database


@pytest.fixture
def v030_database(tmp_path: pathlib.Path, contract_dir: pathlib.Path) -> pathlib.Path:
    """What a Memos v0.30 data directory holds: the demo seed on the v0.30 schema, stamped 0.30.1."""
    path = tmp_path / "memos_prod.db"
    seed = (contract_dir / "memos-v0.30-demo-seed.sql").read_text(encoding="utf-8")
    build_database(path, basic={"schemaVersion": "0.30.1"}, extra_sql=seed)
    return path
