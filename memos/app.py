"""create_app(profile): the one place where the parts are wired together."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from memos.api.instance_service import InstanceService
from memos.auth.interceptor import AuthInterceptor
from memos.profile import Profile
from memos.rpc.context import CallContext
from memos.store.store import Store


async def _nobody(ctx: CallContext) -> None:
    """Until credentials exist every caller is anonymous."""
    return None


def create_app(profile: Profile) -> Starlette:
    """The ASGI app; its lifespan opens the store (migrating it) and closes it again."""
    # Imported here so that memos.app stays cheap to import for the CLI's --help.
    from memos.gen.api.v1 import (  # noqa: F401  (registers every file descriptor)
        ai_service_pb2,
        attachment_service_pb2,
        auth_service_pb2,
        idp_service_pb2,
        instance_service_pb2,
        memo_service_pb2,
        shortcut_service_pb2,
        user_service_pb2,
    )
    from memos.rpc.interceptors import logging_interceptor, metadata_interceptor, recovery_interceptor
    from memos.rpc.methods import MethodTable
    from memos.rpc.router import rpc_routes
    from memos.web.routes import web_routes, with_web_middleware

    store = Store(profile.driver, profile.dsn, demo=profile.demo)
    services = [InstanceService(store, profile)]
    table = MethodTable.from_package("memos.api.v1").bind(services)
    chain = [
        metadata_interceptor,
        logging_interceptor,
        recovery_interceptor,
        AuthInterceptor(_nobody, instance_is_public=profile.is_public),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.start()
        try:
            yield
        finally:
            await store.close()

    app = Starlette(routes=[*rpc_routes(table, chain), *web_routes(profile)], lifespan=lifespan)
    app.state.store = store
    app.state.profile = profile
    return with_web_middleware(app, profile)
