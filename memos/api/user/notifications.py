"""UserService RPCs on a user's notification inbox."""
from __future__ import annotations

import asyncio
from typing import Any

from google.protobuf import empty_pb2

from memos.api.access import require_self
from memos.api.convert.notification import notification_memo_ids, notification_to_message
from memos.api.names import parse_notification_name, parse_user_name
from memos.api.user.lookup import UserLookups
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import user_service_pb2 as api
from memos.markdown import snippet
from memos.store import FindInbox, FindMemo, FindUser, UpdateInbox, User
from memos.store.errors import NotFound


class UserNotificationService(UserLookups):
    """The inbox: listing, marking and deleting notifications."""

    SERVICE_NAME = "memos.api.v1.UserService"

    async def _notification_target(self, name: str, ctx: CallContext) -> tuple[User, int]:
        username, inbox_id = parse_notification_name(name)
        owner = await self._owner(username)
        require_self(ctx, owner)
        row = await self._store.inboxes.get(inbox_id)
        if row is None:
            raise RpcError(Code.NOT_FOUND, "notification not found")
        if row.receiver_id != owner.id:
            raise RpcError(Code.PERMISSION_DENIED, "permission denied")
        return owner, row.id

    async def ListUserNotifications(
        self, request: api.ListUserNotificationsRequest, ctx: CallContext
    ) -> api.ListUserNotificationsResponse:
        owner = await self._owner(parse_user_name(request.parent))
        caller = require_self(ctx, owner)
        rows = [r for r in await self._store.inboxes.find(FindInbox(receiver_id=owner.id)) if r.message.type != 0]
        memo_ids = {i for r in rows for i in notification_memo_ids(r.message)}
        memos = {m.id: m for m in await self._memos_by_id(memo_ids)}
        snippets = await self._snippets(memos)
        notifications = []
        for row in rows:
            sender = await self._store.users.get(FindUser(id=row.sender_id))
            if sender is None:
                continue  # Memos skips rows whose sender is gone
            notifications.append(notification_to_message(owner, sender, caller, row, memos, snippets))
        return api.ListUserNotificationsResponse(notifications=notifications)

    async def _memos_by_id(self, ids: set[int]) -> list[Any]:
        if not ids:
            return []
        # The payload check needs only creator, visibility and uid: the stats rows carry them.
        return await self._store.memos.find_summaries(
            FindMemo(ids=sorted(ids), row_status=None, exclude_comments=False)
        )

    async def _snippets(self, memos: dict[int, Any]) -> dict[int, str]:
        """The snippet of each memo, by id: parsed in a worker thread, a long inbox must not stall the loop."""
        contents = await self._store.memos.contents(sorted(memos))
        if not contents:
            return {}
        return await asyncio.to_thread(lambda: {memo_id: snippet(text) for memo_id, text in contents.items()})

    async def UpdateUserNotification(
        self, request: api.UpdateUserNotificationRequest, ctx: CallContext
    ) -> api.UserNotification:
        if not request.HasField("notification"):
            raise RpcError(Code.INVALID_ARGUMENT, "notification is required")
        owner, inbox_id = await self._notification_target(request.notification.name, ctx)
        status = None
        for path in request.update_mask.paths:
            if path != "status":
                raise RpcError(Code.INVALID_ARGUMENT, f"invalid update path: {path}")
            status = _INBOX_STATUS.get(request.notification.status)
            if status is None:
                raise RpcError(Code.INVALID_ARGUMENT, "invalid status")
        inboxes = self._store.inboxes
        row = await inboxes.update(UpdateInbox(inbox_id, status=status)) if status else await inboxes.get(inbox_id)
        if row is None:  # deleted since the target was checked
            raise RpcError(Code.NOT_FOUND, "notification not found")
        sender = await self._store.users.get(FindUser(id=row.sender_id))
        memos = {m.id: m for m in await self._memos_by_id(set(notification_memo_ids(row.message)))}
        return notification_to_message(owner, sender, ctx.principal, row, memos, await self._snippets(memos))

    async def DeleteUserNotification(
        self, request: api.DeleteUserNotificationRequest, ctx: CallContext
    ) -> empty_pb2.Empty:
        _, inbox_id = await self._notification_target(request.name, ctx)
        try:
            await self._store.inboxes.delete(inbox_id)
        except NotFound:
            raise RpcError(Code.NOT_FOUND, "notification not found") from None
        return empty_pb2.Empty()


_INBOX_STATUS = {api.UserNotification.UNREAD: "UNREAD", api.UserNotification.ARCHIVED: "ARCHIVED"}
