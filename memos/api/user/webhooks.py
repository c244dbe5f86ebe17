"""UserService RPCs on a user's webhooks."""
from __future__ import annotations

import secrets
from collections.abc import Callable

from google.protobuf import empty_pb2

from memos.api.access import require_self_or_admin
from memos.api.convert.user_setting import (
    StoreSetting,
    StoreWebhook,
    webhook_to_message,
)
from memos.api.names import parse_webhook_name
from memos.api.user.lookup import UserLookups
from memos.call import CallContext, Code, RpcError
from memos.gen.api.v1 import user_service_pb2 as api
from memos.gen.store import user_setting_pb2 as store_pb
from memos.notify.netguard import validate_webhook_url
from memos.notify.webhooks import generate_signing_secret, validate_signing_secret
from memos.store.models import User


class UserWebhookService(UserLookups):
    """A user's webhooks and their signing secrets."""

    SERVICE_NAME = "memos.api.v1.UserService"

    async def _webhooks(self, owner: User) -> store_pb.WebhooksUserSetting:
        stored = await self._store.get_user_setting(owner.id, "WEBHOOKS")
        return stored.webhooks if stored is not None else store_pb.WebhooksUserSetting()

    async def _stored_webhook(self, owner: User, webhook_id: str) -> StoreWebhook:
        webhooks = await self._webhooks(owner)
        stored = next((w for w in webhooks.webhooks if w.id == webhook_id), None)
        if stored is None:
            raise RpcError(Code.NOT_FOUND, "webhook not found")
        return stored

    async def _modify_webhook(
        self, owner: User, webhook_id: str, change: Callable[[StoreWebhook], None]
    ) -> StoreWebhook:
        """Apply ``change`` to one stored webhook in one write transaction; NOT_FOUND when it is not there."""
        changed: list[StoreWebhook] = []

        def modify(setting: StoreSetting) -> bool:
            webhook = next((w for w in setting.webhooks.webhooks if w.id == webhook_id), None)
            if webhook is None:
                raise RpcError(Code.NOT_FOUND, "webhook not found")
            change(webhook)
            changed.append(webhook)
            return True

        await self._store.modify_user_setting(owner.id, "WEBHOOKS", modify)
        return changed[0]

    async def _webhook_target(self, name: str, ctx: CallContext) -> tuple[User, str]:
        username, webhook_id = parse_webhook_name(name)
        owner = await self._user(username)
        require_self_or_admin(ctx, owner)
        return owner, webhook_id

    async def _checked_url(self, url: str) -> str:
        """The trimmed URL, once it is http(s) and resolves to no private address (unless allowed)."""
        return await validate_webhook_url(url, allow_private=self._profile.allow_private_webhooks)

    async def ListUserWebhooks(
        self, request: api.ListUserWebhooksRequest, ctx: CallContext
    ) -> api.ListUserWebhooksResponse:
        owner = await self._user_named(request.parent)
        require_self_or_admin(ctx, owner)
        webhooks = await self._webhooks(owner)
        return api.ListUserWebhooksResponse(webhooks=[webhook_to_message(owner.username, w) for w in webhooks.webhooks])

    async def CreateUserWebhook(self, request: api.CreateUserWebhookRequest, ctx: CallContext) -> api.UserWebhook:
        owner = await self._user_named(request.parent)
        require_self_or_admin(ctx, owner)
        wanted = request.webhook
        if not wanted.url.strip():
            raise RpcError(Code.INVALID_ARGUMENT, "webhook URL is required")
        url = await self._checked_url(wanted.url)
        secret = validate_signing_secret(wanted.signing_secret)
        webhook = StoreWebhook(
            id=secrets.token_hex(8),
            title=wanted.display_name,
            url=url,
            signing_secret=secret or generate_signing_secret(),
        )

        def add(setting: StoreSetting) -> bool:
            setting.webhooks.webhooks.append(webhook)
            return True

        await self._store.modify_user_setting(owner.id, "WEBHOOKS", add)
        return webhook_to_message(owner.username, webhook)

    async def UpdateUserWebhook(self, request: api.UpdateUserWebhookRequest, ctx: CallContext) -> api.UserWebhook:
        if not request.HasField("webhook"):
            raise RpcError(Code.INVALID_ARGUMENT, "webhook is required")
        owner, webhook_id = await self._webhook_target(request.webhook.name, ctx)
        await self._stored_webhook(owner, webhook_id)  # an unknown id is NOT_FOUND before any validation
        wanted = request.webhook
        masked = set(request.update_mask.paths) if request.HasField("update_mask") else None
        changes: dict[str, str] = {}
        # URLs are resolved (awaited) before the write transaction, which must not wait on the network.
        if (masked is None or "url" in masked) and wanted.url.strip():
            changes["url"] = await self._checked_url(wanted.url)
        if masked is None or "display_name" in masked:
            changes["title"] = wanted.display_name
        if masked is not None and "signing_secret" in masked:
            # An empty secret is allowed here: it switches signing off.
            changes["signing_secret"] = validate_signing_secret(wanted.signing_secret)
        elif masked is None and wanted.signing_secret.strip():
            changes["signing_secret"] = validate_signing_secret(wanted.signing_secret)

        def apply(webhook: StoreWebhook) -> None:
            for field, value in changes.items():
                setattr(webhook, field, value)

        return webhook_to_message(owner.username, await self._modify_webhook(owner, webhook_id, apply))

    async def DeleteUserWebhook(self, request: api.DeleteUserWebhookRequest, ctx: CallContext) -> empty_pb2.Empty:
        owner, webhook_id = await self._webhook_target(request.name, ctx)

        def remove(setting: StoreSetting) -> bool:
            webhooks = setting.webhooks.webhooks
            index = next((i for i, w in enumerate(webhooks) if w.id == webhook_id), None)
            if index is None:
                raise RpcError(Code.NOT_FOUND, "webhook not found")
            del webhooks[index]
            return True

        await self._store.modify_user_setting(owner.id, "WEBHOOKS", remove)
        return empty_pb2.Empty()

    async def GetUserWebhookSigningSecret(
        self, request: api.GetUserWebhookSigningSecretRequest, ctx: CallContext
    ) -> api.GetUserWebhookSigningSecretResponse:
        owner, webhook_id = await self._webhook_target(request.name, ctx)
        stored = await self._stored_webhook(owner, webhook_id)
        return api.GetUserWebhookSigningSecretResponse(signing_secret=stored.signing_secret)
