"""create_app(profile): the one place where the parts are wired together."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from memos.api.ai_service import AIService
from memos.api.answer_cache import AnswerCache, AnswerCacheInterceptor
from memos.api.attachment.service import AttachmentService
from memos.api.auth_service import AuthService
from memos.api.idp_service import IdentityProviderService
from memos.api.instance_service import InstanceService
from memos.api.live import LiveHub
from memos.api.memo.attachments import MemoAttachmentService
from memos.api.memo.comments import MemoCommentService
from memos.api.memo.link_metadata import LinkMetadataService
from memos.api.memo.memos import MemoService
from memos.api.memo.reactions import MemoReactionService
from memos.api.memo.relations import MemoRelationService
from memos.api.memo.shares import MemoShareService
from memos.api.memo_effects import MemoEffects
from memos.api.memo_html import MemoHtmlService
from memos.api.shortcut_service import ShortcutService
from memos.api.user.access_tokens import PersonalAccessTokenService
from memos.api.user.linked_identities import LinkedIdentityService
from memos.api.user.notifications import UserNotificationService
from memos.api.user.settings import UserSettingService
from memos.api.user.stats import UserStatsService
from memos.api.user.users import UserAccountService
from memos.api.user.webhooks import UserWebhookService
from memos.api.visibility import visibilities_of_others
from memos.auth.authenticator import Authenticator
from memos.auth.body_limits import RequestBodyLimits
from memos.auth.interceptor import AuthInterceptor
from memos.auth.sso import SsoSignIn
from memos.notify.email import Mailer
from memos.notify.link_preview import LinkPreviewer
from memos.notify.netguard import AddressGuard
from memos.notify.webhooks import WebhookDispatcher
from memos.profile import Profile
from memos.rpc.forwarding import TrustedProxies, parse_trusted_proxies
from memos.rpc.interceptors import standard_interceptors
from memos.rpc.methods import MethodTable
from memos.rpc.router import rpc_routes
from memos.rpc.transport import BodyBudget, BodyLimitOf
from memos.storage.attachments import AttachmentStorage
from memos.storage.presign import keep_presigned_links_fresh
from memos.store import FindMemo, Store
from memos.store.errors import DatabaseDamaged
from memos.web import echo_exception_handlers, web_middleware, web_routes
from memos.web.attachment_files import AttachmentFiles
from memos.web.files import file_routes
from memos.web.lazy import lazy_routes
from memos.web.sse import sse_routes

API_PACKAGE = "memos.api.v1"
# This project's additive extensions: their own proto package and REST prefix.
EXT_PACKAGE = "memospyz.v1"
EXT_REST_PREFIX = "/api/pyz/v1"


def load_api_descriptors() -> None:
    """Register every memos.api.v1 file in the descriptor pool the method table is computed from."""
    from memos.gen.api.v1 import (  # noqa: F401
        ai_service_pb2,
        attachment_service_pb2,
        auth_service_pb2,
        idp_service_pb2,
        instance_service_pb2,
        memo_service_pb2,
        shortcut_service_pb2,
        user_service_pb2,
    )
    from memos.gen.ext.v1 import memo_html_service_pb2  # noqa: F401


class StartupError(Exception):
    """The app cannot start; the message tells the operator what to do, in one line."""


def damaged_database_message(dsn: str, error: Exception) -> str:
    return (
        f"the database file {dsn} is damaged ({error}); it was left untouched. "
        f"Stop memos, replace {dsn} with your latest backup copy "
        "(delete any -wal and -shm files next to it that do not belong to that backup), and start again"
    )


def create_app(profile: Profile) -> Starlette:
    """The ASGI app; its lifespan opens the store (migrating it) and closes it again."""
    load_api_descriptors()
    store = Store(profile.driver, profile.dsn, demo=profile.demo, deployment_dir=profile.deployment_dir)
    # The side effects of memo writes (inbox, e-mail, webhooks): MemoService receives this one
    # instance; its queues live as long as the app and close with it.
    # One guard for every request to a URL a user chose (webhooks, link previews):
    # --allow-private-webhooks relaxes both.
    guard = AddressGuard(allow_private=profile.allow_private_webhooks)
    memo_effects = MemoEffects(store, profile, mailer=Mailer(), webhooks=WebhookDispatcher(guard))
    link_previewer = LinkPreviewer(guard)
    # The one hub of live events: services that write memos publish to it, /api/v1/sse reads from it.
    live_hub = LiveHub()
    # The one place attachment bytes are saved and removed (its S3 clients close with the app);
    # the file server reads through it too.
    storage = AttachmentStorage(profile.data)
    attachment_files = AttachmentFiles(store, profile, storage)
    memo_parts = (store, profile, memo_effects, live_hub, storage)
    table = MethodTable.from_package(API_PACKAGE)
    table.bind([
        InstanceService(store, profile),
        AuthService(store, sso=SsoSignIn(store)),
        # memos.api.v1.UserService, one object per concern, each binding its own RPCs.
        UserAccountService(store, profile, storage),
        UserSettingService(store, profile),
        PersonalAccessTokenService(store, profile),
        UserWebhookService(store, profile),
        LinkedIdentityService(store, profile),
        UserStatsService(store, profile),
        UserNotificationService(store, profile),
        # memos.api.v1.MemoService, one object per concern (memos/api/memo/).
        MemoService(*memo_parts),
        MemoCommentService(*memo_parts),
        MemoRelationService(*memo_parts),
        MemoAttachmentService(*memo_parts),
        MemoReactionService(*memo_parts),
        MemoShareService(*memo_parts),
        AttachmentService(store, storage),
        LinkMetadataService(link_previewer),
        AIService(store),
        IdentityProviderService(store),
        ShortcutService(store),
    ])
    extensions = MethodTable.from_package(EXT_PACKAGE)
    extensions.bind([MemoHtmlService(*memo_parts)])
    answer_cache = AnswerCache()  # rendered ListMemos/GetMemo answers (memos.api.answer_cache)
    chain = [
        *standard_interceptors(demo=profile.demo),
        AuthInterceptor(Authenticator(store), instance_is_public=profile.is_public),
        # Last, so authentication and the access policy run for every call, served from the cache or not.
        AnswerCacheInterceptor(answer_cache, store.generation, instance_is_public=profile.is_public),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            await store.start()
        except DatabaseDamaged as error:
            raise StartupError(damaged_database_message(profile.dsn, error)) from None
        presigner = asyncio.create_task(keep_presigned_links_fresh(store, storage), name="s3-presign")
        try:
            yield
        finally:
            presigner.cancel()
            live_hub.close()  # normally closed already by the shutdown signal (see memos.cli)
            await memo_effects.close()  # queued e-mails and deliveries are dropped, as on a Memos restart
            await link_previewer.close()
            await storage.close()
            attachment_files.close()
            await store.close()

    body_limits = RequestBodyLimits(store)
    body_budget = BodyBudget()  # one budget for every body held in memory at once
    proxies = TrustedProxies(parse_trusted_proxies(",".join(profile.trusted_proxies)))

    def transports(methods: MethodTable, package: str, prefixes: tuple[str, ...]) -> list[BaseRoute]:
        return rpc_routes(
            methods, chain, package=package, rest_prefixes=prefixes,
            body_limit_of=body_limits, body_budget=body_budget, trusted_proxies=proxies,
        )

    async def public_memo_uids() -> list[str]:
        # What an anonymous visitor may see.
        public = FindMemo(visibilities=visibilities_of_others(None), row_status=None, exclude_comments=False)
        memos = await store.memos.find_summaries(public)
        return [memo.uid for memo in memos]

    app = Starlette(
        routes=[
            # The specific file routes first: the gateway's /file catch-all answers every other /file path.
            *file_routes(store, profile, attachment_files.serve),
            # Before the gateway's /api/v1 catch-all.
            *sse_routes(store, live_hub),
            # The extensions first: /api/v1/{rest:path} would not take /api/pyz/v1, but keep it obvious.
            *transports(extensions, EXT_PACKAGE, (EXT_REST_PREFIX,)),
            *transports(table, API_PACKAGE, ("/api/v1", "/file")),
            *web_routes(profile, public_memo_uids=public_memo_uids),
            *lazy_routes(RSS_PATHS, lambda: _rss_routes(store, profile)),
            *lazy_routes(MCP_PATHS, lambda: _mcp_routes(table, profile, body_limits, body_budget)),
        ],
        middleware=web_middleware(profile, store=store),
        exception_handlers=echo_exception_handlers(),
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.profile = profile
    app.state.memo_effects = memo_effects
    app.state.live_hub = live_hub
    app.state.answer_cache = answer_cache
    app.state.attachment_storage = storage
    return app


# Paths served by parts loaded on first use (memos.web.lazy); each module says what it serves.
RSS_PATHS: list[tuple[str, list[str] | None]] = [("/explore/rss.xml", ["GET"]), ("/u/{username}/rss.xml", ["GET"])]
MCP_PATHS: list[tuple[str, list[str] | None]] = [("/mcp", None)]


def _rss_routes(store: Store, profile: Profile) -> list[BaseRoute]:
    from memos.web.rss import rss_routes

    return rss_routes(store, profile)


def _mcp_routes(table: MethodTable, profile: Profile, body_limits: BodyLimitOf, budget: BodyBudget) -> list[BaseRoute]:
    from memos.web.mcp import mcp_routes

    return mcp_routes(table, profile, body_limit_of=body_limits, body_budget=budget)
