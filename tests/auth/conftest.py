"""Fixtures shared by the auth tests."""
from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest

from memos.store import Store


@pytest.fixture
async def store(tmp_path: pathlib.Path) -> AsyncIterator[Store]:
    """A started Store on a fresh SQLite file."""
    opened = await Store.open("sqlite", str(tmp_path / "memos.db"))
    try:
        yield opened
    finally:
        await opened.close()
