"""What a memo write causes besides the write: inbox notifications, their e-mails, webhooks.

MemoService calls one method of ``MemoEffects`` after each successful write, passing the
API ``Memo`` message exactly as its response renders it (webhooks carry that message), the
memo's row id, and its creator's ``User`` (the memo's creator, also when an admin made the
change: webhooks go to the creator's hooks and mentions are sent in the creator's name).
``mentioned`` (optional everywhere) is ``Derived.mentions`` from the ``derive(content)`` the
write already ran; without it the content is parsed again for its mentions.

- ``memo_created(memo, memo_id=, creator=)`` after CreateMemo: webhook ``memos.memo.created``
  to the creator's webhooks; MEMO_MENTION for every user the content mentions (spec §5.2).
- ``comment_created(comment, comment_id=, commenter=, parent=ParentMemo(...))`` after
  CreateMemoComment, instead of ``memo_created`` (the comment's inner create is part of it):
  ``memos.memo.created`` to the commenter's webhooks (the comment without its relation, as
  the inner create rendered it), ``memos.memo.comment.created`` to the parent creator's
  webhooks (the comment with its relation), MEMO_COMMENT for the parent's creator unless
  the comment is PRIVATE or they commented themselves (§5.1), and MEMO_MENTION with the
  parent as context. Raises ``RpcError(INTERNAL, "failed to create inbox")`` when the
  MEMO_COMMENT row cannot be written (the comment exists already, as in Memos).
- ``memo_updated(memo, memo_id=, creator=, previous_content=, parent=)`` after UpdateMemo,
  SetMemoAttachments and SetMemoRelations: webhook ``memos.memo.updated``; when the update
  changed ``content`` (``previous_content`` given: the content before the update),
  MEMO_MENTION for usernames the previous content did not mention. ``parent`` (pass it when
  the updated memo is a comment) applies the PRIVATE-parent rule of §5.2.
- ``memo_deleted(memo, creator=)`` in DeleteMemo before anything is deleted: webhook
  ``memos.memo.deleted`` with the memo as it was.

None of them fails the write, except the MEMO_COMMENT row above.

Timing. Inbox rows are written inline, before the method returns: each is one small
INSERT (a mention costs one lookup on the unique username index besides), the MEMO_COMMENT
failure must reach the caller, and a client that lists its notifications right after the
write sees them. Everything that talks to another machine runs later in the background:
e-mails go to the Mailer's queue and webhook deliveries to the WebhookDispatcher's queue,
both bounded (a full queue drops the item and logs it) with a fixed number of workers,
so a dead or slow SMTP server or webhook receiver never delays or fails the write and no
task or buffer is created per call beyond the queued item.

E-mail for a new inbox row is sent when the instance NOTIFICATION setting enables e-mail
with a usable SMTP config, the instance URL is set (the links point there), the receiver
has an e-mail address and may still see the memo. Memos v0.30 has no per-user switch for
notifications: a user who wants no e-mail leaves their address empty.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Protocol

from memos.api.convert.user import user_name
from memos.api.names import parse_memo_name
from memos.api.visibility import PRIVATE, may_see
from memos.call import Code, RpcError
from memos.gen.api.v1 import memo_service_pb2 as memo_api
from memos.gen.store import inbox_pb2
from memos.markdown import mentions
from memos.notify import webhooks as hooks
from memos.notify.email import Email, Mailer, comment_email, display_name, mention_email
from memos.notify.webhooks import WebhookDispatcher
from memos.profile import Profile
from memos.store import CreateInbox, FindUser, Store, User
from memos.store.user import ROW_STATUS_NORMAL

log = logging.getLogger(__name__)

_VISIBILITY = {
    memo_api.PUBLIC: "PUBLIC",
    memo_api.PROTECTED: "PROTECTED",
    memo_api.PRIVATE: PRIVATE,
}


@dataclasses.dataclass(frozen=True, slots=True)
class ParentMemo:
    """The memo a comment belongs to: its API message (name, visibility) and its row ids."""

    memo: memo_api.Memo
    id: int
    creator_id: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Seen:
    """What the visibility test needs of a memo (``visibility.may_see`` takes store strings)."""

    creator_id: int
    visibility: str


def _visibility(memo: memo_api.Memo) -> str:
    # Memos stores UNSPECIFIED as PRIVATE; the strictest reading is the safe one here too.
    return _VISIBILITY.get(memo.visibility, PRIVATE)


def _mentions(memo: memo_api.Memo, mentioned: Sequence[str] | None) -> tuple[str, ...]:
    """The usernames the write derived already, else parsed from the content now."""
    return tuple(mentioned) if mentioned is not None else mentions(memo.content)


def _uid(memo: memo_api.Memo) -> str:
    return parse_memo_name(memo.name)


class MemoEffects:
    """One per app; MemoService receives it in its constructor."""

    def __init__(self, store: Store, profile: Profile, *, mailer: Mailer, webhooks: WebhookDispatcher) -> None:
        self._store = store
        self._profile = profile
        self._mailer = mailer
        self._webhooks = webhooks

    # --- the entry points -------------------------------------------------------------

    async def memo_created(
        self, memo: memo_api.Memo, *, memo_id: int, creator: User, mentioned: Sequence[str] | None = None
    ) -> None:
        await self._fire(creator.id, hooks.MEMO_CREATED, creator, memo)
        await self._notify_mentions(memo, memo_id, creator, _mentions(memo, mentioned))

    async def comment_created(
        self,
        comment: memo_api.Memo,
        *,
        comment_id: int,
        commenter: User,
        parent: ParentMemo,
        mentioned: Sequence[str] | None = None,
    ) -> None:
        inner = memo_api.Memo()
        inner.CopyFrom(comment)
        del inner.relations[:]  # the inner create ran before the COMMENT relation existed
        inner.ClearField("parent")
        await self._fire(commenter.id, hooks.MEMO_CREATED, commenter, inner)
        await self._fire(parent.creator_id, hooks.MEMO_COMMENT_CREATED, commenter, comment)
        told = await self._notify_comment(comment, comment_id, commenter, parent)
        skip = {parent.creator_id} if told else set()
        await self._notify_mentions(comment, comment_id, commenter, _mentions(comment, mentioned), parent, skip)

    async def memo_updated(
        self,
        memo: memo_api.Memo,
        *,
        memo_id: int,
        creator: User,
        previous_content: str | None = None,
        parent: ParentMemo | None = None,
        mentioned: Sequence[str] | None = None,
    ) -> None:
        await self._fire(creator.id, hooks.MEMO_UPDATED, creator, memo)
        if previous_content is None:
            return
        before = set(mentions(previous_content))
        added = tuple(name for name in _mentions(memo, mentioned) if name not in before)
        await self._notify_mentions(memo, memo_id, creator, added, parent)

    async def memo_deleted(self, memo: memo_api.Memo, *, creator: User) -> None:
        await self._fire(creator.id, hooks.MEMO_DELETED, creator, memo)

    async def join(self) -> None:
        """Wait until queued e-mails and webhook deliveries are done (tests, orderly shutdown)."""
        await self._mailer.join()
        await self._webhooks.join()

    async def close(self) -> None:
        await self._mailer.close()
        await self._webhooks.close()

    # --- webhooks ---------------------------------------------------------------------

    async def _fire(self, owner_id: int, activity_type: str, creator: User, memo: memo_api.Memo) -> None:
        """Queue ``activity_type`` for the webhooks of user ``owner_id``; never raises."""
        try:
            setting = await self._store.user_settings.get(owner_id, "WEBHOOKS")
            webhooks = setting.webhooks.webhooks if setting is not None else ()
            if webhooks:
                self._webhooks.submit_memo_event(webhooks, activity_type, user_name(creator.username), memo)
        except Exception:  # a webhook problem must never fail the memo write
            log.exception("webhook %s for %s not queued", activity_type, memo.name)

    # --- inbox --------------------------------------------------------------------------

    async def _notify_comment(
        self, comment: memo_api.Memo, comment_id: int, commenter: User, parent: ParentMemo
    ) -> bool:
        """MEMO_COMMENT for the parent's creator; True when one was written."""
        if _visibility(comment) == PRIVATE or commenter.id == parent.creator_id:
            return False
        message = inbox_pb2.InboxMessage(type=inbox_pb2.InboxMessage.MEMO_COMMENT)
        message.memo_comment.memo_id = comment_id
        message.memo_comment.related_memo_id = parent.id
        try:
            await self._store.inboxes.create(CreateInbox(commenter.id, parent.creator_id, message))
        except Exception as exc:
            log.exception("inbox row for comment %s not written", comment.name)
            raise RpcError(Code.INTERNAL, "failed to create inbox") from exc
        receiver = await self._store.users.get(FindUser(id=parent.creator_id))
        if receiver is not None and self._may_see(receiver, comment, commenter.id):
            await self._email(
                lambda setting_url, to: comment_email(
                    recipient=to.email,
                    receiver_name=display_name(to.nickname, to.username),
                    sender_name=display_name(commenter.nickname, commenter.username),
                    instance_url=setting_url,
                    memo_uid=_uid(parent.memo),
                    comment_uid=_uid(comment),
                ),
                receiver,
            )
        return True

    async def _notify_mentions(
        self,
        memo: memo_api.Memo,
        memo_id: int,
        creator: User,
        usernames: Sequence[str],
        parent: ParentMemo | None = None,
        skip: set[int] | None = None,
    ) -> None:
        """MEMO_MENTION for each mentioned user who may be told (§5.2); failures are logged only."""
        if not usernames or _visibility(memo) == PRIVATE:
            return  # a PRIVATE memo mentions nobody but its creator, who is never told
        private_parent = parent is not None and _visibility(parent.memo) == PRIVATE
        for username in usernames:
            try:
                target = await self._store.users.get(FindUser(username=username, row_status=ROW_STATUS_NORMAL))
                if target is None or target.id == creator.id or target.id in (skip or ()):
                    continue
                if private_parent and parent is not None and target.id != parent.creator_id:
                    continue
                await self._mention(memo, memo_id, creator, target, parent)
            except Exception:
                log.exception("mention of %s in %s not notified", username, memo.name)

    async def _mention(
        self, memo: memo_api.Memo, memo_id: int, creator: User, target: User, parent: ParentMemo | None
    ) -> None:
        message = inbox_pb2.InboxMessage(type=inbox_pb2.InboxMessage.MEMO_MENTION)
        message.memo_mention.memo_id = memo_id
        if parent is not None:
            message.memo_mention.related_memo_id = parent.id
        await self._store.inboxes.create(CreateInbox(creator.id, target.id, message))
        if self._may_see(target, memo, creator.id):
            await self._email(
                lambda setting_url, to: mention_email(
                    recipient=to.email,
                    receiver_name=display_name(to.nickname, to.username),
                    sender_name=display_name(creator.nickname, creator.username),
                    instance_url=setting_url,
                    memo_uid=_uid(memo),
                ),
                target,
            )

    # --- e-mail -------------------------------------------------------------------------

    @staticmethod
    def _may_see(receiver: User, memo: memo_api.Memo, creator_id: int) -> bool:
        return may_see(receiver, _Seen(creator_id, _visibility(memo)), admin_sees_private=True)

    async def _email(self, compose: _Compose, receiver: User) -> None:
        """Queue a notification e-mail when the instance and the receiver allow one; never raises."""
        instance_url = self._profile.instance_url
        if not instance_url.strip() or not receiver.email.strip():
            return
        try:
            setting = (await self._store.instance_settings.get("NOTIFICATION")).notification_setting
            if setting.email.enabled:
                self._mailer.submit_notification(setting, instance_url, compose(instance_url, receiver))
        except Exception:
            log.exception("notification e-mail to user %s not queued", receiver.id)


class _Compose(Protocol):
    def __call__(self, instance_url: str, receiver: User, /) -> Email: ...
