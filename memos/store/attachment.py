"""Attachments: today only the reference a removed attachment leaves behind (see ``Users.delete``).

The attachment entity (its Find object, rows and facade part) grows here.
"""
from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class AttachmentRef:
    """Where a removed attachment's content lived, so its file or object can be deleted after commit.

    ``payload`` is JSON text from a dialect and a ``memos.store.AttachmentPayload``
    from the facade.
    """

    id: int
    uid: str
    storage_type: str
    reference: str
    payload: Any
