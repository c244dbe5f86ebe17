"""Plain HTTP around the API: health, SEO files, the web UI, CORS, Echo error bodies.

`memos.app` wires these into the Starlette app:

    Starlette(
        routes=[*web_routes(profile), ...API, file, feed routes...],
        middleware=web_middleware(profile),
        exception_handlers=echo_exception_handlers(),
        lifespan=...,
    )
"""
from __future__ import annotations

import os

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from memos.profile import Profile
from memos.store import Store
from memos.web.cors import CorsMiddleware
from memos.web.errors import echo_error, echo_exception_handlers
from memos.web.frontend import FrontendMiddleware
from memos.web.health import health_routes
from memos.web.seo import PublicMemoUids, seo_routes

__all__ = ["echo_error", "echo_exception_handlers", "web_middleware", "web_routes"]


def web_routes(profile: Profile, *, public_memo_uids: PublicMemoUids | None = None) -> list[BaseRoute]:
    """`/healthz`, `/robots.txt` and (given a source of public memo uids) `/sitemap.xml`."""
    return [*health_routes(), *seo_routes(profile, public_memo_uids)]


def web_middleware(profile: Profile, *, static_dir: str | os.PathLike[str] | None = None,
                   store: Store | None = None) -> list[Middleware]:
    """CORS outside, then the UI (static files + SPA fallback) around the routes; given the store,
    the UI's pages carry the admin's custom code (memos.web.ui_page)."""
    return [
        Middleware(CorsMiddleware, instance_url=profile.instance_url),
        Middleware(FrontendMiddleware, static_dir=static_dir, store=store),
    ]
