"""Rendered memo HTML, kept beside the Memos tables: derived once per write, read many times.

``memo_html`` is a table of this project (Memos v0.30 ignores it). Each row records the
HTML of one memo, the ``HTML_VERSION`` of the renderer that made it, and a digest of the
content it was made from. A row is used only while both still match, so HTML made before
a renderer change, or before Memos v0.30 (or a write path that forgot to call ``put``)
changed the content, is simply rendered again by the reader and saved.

The memo write path calls, after a create or a content change::

    await store.memo_html.put(memo.id, memo.content, derived.html, HTML_VERSION)
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from memos.store.store import Store


def content_digest(content: str) -> str:
    """What a stored rendering remembers of its source (32 hex digits)."""
    return hashlib.blake2b(content.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class MemoHtml:
    """A ``memo_html`` row."""

    memo_id: int
    html: str
    html_version: int
    content_digest: str


class MemoHtmlDriver(Protocol):
    async def put(self, rows: Sequence[MemoHtml]) -> None:
        """Insert or replace the row of each ``memo_id`` in one transaction; nothing for memos that are gone."""
        ...

    async def find(self, memo_ids: Sequence[int]) -> list[MemoHtml]: ...


class MemoHtmls:
    """``store.memo_html``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def put(self, memo_id: int, content: str, html: str, version: int) -> None:
        """Remember ``html``, rendered by renderer ``version`` from ``content``, for memo ``memo_id``."""
        await self.put_many([(memo_id, content, html)], version)

    async def put_many(self, renderings: Sequence[tuple[int, str, str]], version: int) -> None:
        """``put`` for many (memo id, content, html) at once, in one transaction."""
        rows = [MemoHtml(memo_id, html, version, content_digest(content)) for memo_id, content, html in renderings]
        if rows:
            await self._store.driver.memo_html.put(rows)

    async def fresh(self, contents: dict[int, str], version: int) -> dict[int, str]:
        """memo id -> stored HTML, for the memos of ``contents`` (id -> current content) whose
        stored HTML was made by renderer ``version`` from exactly that content."""
        if not contents:
            return {}
        return {
            row.memo_id: row.html
            for row in await self._store.driver.memo_html.find(list(contents))
            if row.html_version == version and row.content_digest == content_digest(contents[row.memo_id])
        }
