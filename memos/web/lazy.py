"""Routes whose code loads on their first request.

Most servers never see an RSS reader or an MCP client; their modules and tables
cost about 2 MiB resident, so they are imported when first asked for, not at start.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.routing import BaseRoute, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send


class LazyApp:
    """An ASGI app built by ``build`` on its first request, then kept."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = self._build()
        await self._app(scope, receive, send)


def lazy_routes(paths: Sequence[tuple[str, list[str] | None]], build: Callable[[], list[BaseRoute]]) -> list[BaseRoute]:
    """Routes for ``paths`` (path, methods) that hand their requests to the routes ``build`` makes on first use."""
    app = LazyApp(lambda: Router(routes=build()))
    return [Route(path, app, methods=methods) for path, methods in paths]
