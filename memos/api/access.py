"""The role and ownership checks every service makes on the caller.

The access layer has already turned away anonymous callers of protected RPCs;
these checks are the per-RPC rules of the access spec (signed in, admin, self,
self-or-admin), with the codes and messages clients see.
"""
from __future__ import annotations

from typing import Any

from memos.call import CallContext, Code, RpcError
from memos.store.models import ROLE_ADMIN, User


def is_admin(user: Any) -> bool:
    return user is not None and user.role == ROLE_ADMIN


def require_caller(ctx: CallContext) -> User:
    """The signed-in caller; UNAUTHENTICATED when there is none."""
    caller: User | None = ctx.principal
    if caller is None:
        raise RpcError(Code.UNAUTHENTICATED, "user not authenticated")
    return caller


def require_admin(ctx: CallContext) -> User:
    caller = require_caller(ctx)
    if not is_admin(caller):
        raise RpcError(Code.PERMISSION_DENIED, "permission denied")
    return caller


def require_self_or_admin(ctx: CallContext, owner: User) -> User:
    caller = require_caller(ctx)
    if caller.id != owner.id and not is_admin(caller):
        raise RpcError(Code.PERMISSION_DENIED, "permission denied")
    return caller


def require_self(ctx: CallContext, owner: User) -> User:
    """Owner-only RPCs: admins are refused like anyone else."""
    caller = require_caller(ctx)
    if caller.id != owner.id:
        raise RpcError(Code.PERMISSION_DENIED, "permission denied")
    return caller
