"""The identifiers a filter may use: the memo environment and the attachment environment."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from memos.filter.conditions import Column, Flag


class FieldKind(enum.Enum):
    TEXT = "text"  # free text: ordered, text matching, size(), in
    LABEL = "label"  # enumerated text (visibility): == != in
    CREATOR = "creator"  # "users/<username>": == != in
    ID = "id"  # integer id: == != in
    TIME = "time"  # Unix seconds: all comparisons, accessors
    BOOLEAN = "boolean"  # 0/1 column
    PAYLOAD_FLAG = "payload flag"  # boolean in the memo payload
    TAGS = "tags"  # list(string) in the memo payload
    TAG = "tag"  # hierarchical alias: only tag in [...]
    NULLABLE_ID = "nullable id"  # dyn: int or null, == != in


@dataclass(frozen=True)
class Field:
    name: str
    kind: FieldKind
    column: Column | None = None
    flag: Flag | None = None


def _fields(*fields: Field) -> dict[str, Field]:
    return {field.name: field for field in fields}


MEMO_FIELDS = _fields(
    Field("content", FieldKind.TEXT, Column.CONTENT),
    Field("creator", FieldKind.CREATOR, Column.CREATOR_ID),
    Field("creator_id", FieldKind.ID, Column.CREATOR_ID),
    Field("created_ts", FieldKind.TIME, Column.CREATED_TS),
    Field("updated_ts", FieldKind.TIME, Column.UPDATED_TS),
    Field("pinned", FieldKind.BOOLEAN, Column.PINNED),
    Field("visibility", FieldKind.LABEL, Column.VISIBILITY),
    Field("tags", FieldKind.TAGS),
    Field("tag", FieldKind.TAG),
    Field("has_task_list", FieldKind.PAYLOAD_FLAG, flag=Flag.HAS_TASK_LIST),
    Field("has_link", FieldKind.PAYLOAD_FLAG, flag=Flag.HAS_LINK),
    Field("has_code", FieldKind.PAYLOAD_FLAG, flag=Flag.HAS_CODE),
    Field("has_incomplete_tasks", FieldKind.PAYLOAD_FLAG, flag=Flag.HAS_INCOMPLETE_TASKS),
)

ATTACHMENT_FIELDS = _fields(
    Field("filename", FieldKind.TEXT, Column.FILENAME),
    Field("mime_type", FieldKind.TEXT, Column.MIME_TYPE),
    Field("create_time", FieldKind.TIME, Column.CREATED_TS),
    Field("memo_id", FieldKind.NULLABLE_ID, Column.MEMO_ID),
)
