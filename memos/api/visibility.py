"""Which memos a caller may see, by visibility (PUBLIC, PROTECTED, PRIVATE).

- Anonymous: PUBLIC only. Whether an anonymous caller gets this far at all
  (a private instance lets anonymous callers reach almost nothing) is the
  access layer's decision, made before any service runs.
- Signed in: their own memos whatever the visibility, everyone's PUBLIC and
  PROTECTED ones.
- Admins get no extra visibility in lists; only where an RPC says "creator or
  admin" (a notification's payload, a memo's attachments or reactions) may an
  admin see someone else's PRIVATE memo.

Row status (archived or not) is no part of this test.
"""
from __future__ import annotations

from typing import Protocol

from memos.api.access import is_admin
from memos.store.models import User

PUBLIC = "PUBLIC"
PROTECTED = "PROTECTED"
PRIVATE = "PRIVATE"


class MemoLike(Protocol):
    @property
    def creator_id(self) -> int: ...

    @property
    def visibility(self) -> str: ...


def visibilities_of_others(caller: User | None) -> list[str]:
    """The visibilities of other people's memos ``caller`` may see."""
    return [PUBLIC] if caller is None else [PUBLIC, PROTECTED]


def visibilities_of_creator(caller: User | None, creator_id: int) -> list[str] | None:
    """The visibilities of one creator's memos ``caller`` may see; None means all of them (the caller's own)."""
    if caller is not None and caller.id == creator_id:
        return None
    return visibilities_of_others(caller)


def may_see(caller: User | None, memo: MemoLike, *, admin_sees_private: bool = False) -> bool:
    """Whether ``caller`` may see ``memo``; ``admin_sees_private`` for the RPCs that let admins through."""
    if caller is not None and caller.id == memo.creator_id:
        return True
    if admin_sees_private and is_admin(caller):
        return True
    return memo.visibility in visibilities_of_others(caller)
