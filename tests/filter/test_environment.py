"""The two environments hold exactly the identifiers of spec §9.1 and §9.3."""
from __future__ import annotations

import pytest

from memos.filter import FilterError, parse_attachment_filter, parse_memo_filter
from memos.filter.environment import ATTACHMENT_FIELDS, MEMO_FIELDS


def test_memo_identifiers() -> None:
    assert set(MEMO_FIELDS) == {
        "content", "creator", "creator_id", "created_ts", "updated_ts", "pinned", "visibility", "tags", "tag",
        "has_task_list", "has_link", "has_code", "has_incomplete_tasks",
    }


def test_attachment_identifiers() -> None:
    assert set(ATTACHMENT_FIELDS) == {"filename", "mime_type", "create_time", "memo_id"}


@pytest.mark.parametrize("name", ["row_status", "uid", "title", "property", "display_time", "id", "payload"])
def test_no_other_memo_identifiers(name: str) -> None:
    with pytest.raises(FilterError, match=f"undeclared reference to '{name}'"):
        parse_memo_filter(f"{name} == 1")


@pytest.mark.parametrize("name", ["type", "size", "creator_id", "uid", "content"])
def test_no_other_attachment_identifiers(name: str) -> None:
    with pytest.raises(FilterError, match=f"undeclared reference to '{name}'"):
        parse_attachment_filter(f"{name} == 1")
