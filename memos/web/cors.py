"""CORS for every route, as Memos answers it.

Every origin except `null` is reflected, so browsers may call the API from
anywhere without cookies; credentials are only allowed for trusted origins
(the server's own Host, or the configured instance URL's scheme and host).
Preflights (any OPTIONS with an Origin) are answered here and never reach a route.
"""
from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_ALLOW_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"


def _origin_parts(url: str) -> tuple[str, str] | None:
    """(scheme, host[:port]) lower-cased, or None when it does not parse as an origin."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc or "@" in parts.netloc:
        return None
    return parts.scheme.lower(), parts.netloc.lower()


def is_trusted_origin(origin: str, host: str, instance_url: str) -> bool:
    """Same host as the request (scheme not compared), or the instance URL's scheme and host."""
    parsed = _origin_parts(origin)
    if parsed is None:
        return False
    scheme, netloc = parsed
    if host and netloc == host.strip().lower():
        return True
    instance = _origin_parts(instance_url) if instance_url.strip() else None
    return instance is not None and (scheme, netloc) == instance


class CorsMiddleware:
    """ASGI middleware; `routes` default to those of the Starlette app serving the request."""

    def __init__(self, app: ASGIApp, instance_url: str = "", routes: Sequence[BaseRoute] | None = None) -> None:
        self.app = app
        self.instance_url = instance_url
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin", "")
        if scope["method"] == "OPTIONS":
            await self._preflight(scope, headers, origin, send)
            return
        added: list[tuple[bytes, bytes]] = [(b"vary", b"Origin")]
        if origin and origin != "null":
            added += self._origin_headers(origin, headers)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + added
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _origin_headers(self, origin: str, headers: Headers) -> list[tuple[bytes, bytes]]:
        result = [(b"access-control-allow-origin", origin.encode("latin-1"))]
        if is_trusted_origin(origin, headers.get("host", ""), self.instance_url):
            result.append((b"access-control-allow-credentials", b"true"))
        return result

    async def _preflight(self, scope: Scope, headers: Headers, origin: str, send: Send) -> None:
        response_headers = MutableHeaders()
        response_headers.append("Vary", "Origin")
        if origin and origin != "null":
            response_headers.append("Vary", "Access-Control-Request-Method")
            response_headers.append("Vary", "Access-Control-Request-Headers")
            for name, value in self._origin_headers(origin, headers):
                response_headers.append(name.decode(), value.decode("latin-1"))
            specific = self._route_methods(scope)
            if specific:
                response_headers["Allow"] = specific
            response_headers["Access-Control-Allow-Methods"] = specific or DEFAULT_ALLOW_METHODS
            requested = headers.get("access-control-request-headers")
            if requested:
                response_headers["Access-Control-Allow-Headers"] = requested
        await send({"type": "http.response.start", "status": 204, "headers": response_headers.raw})
        await send({"type": "http.response.body", "body": b""})

    def _route_methods(self, scope: Scope) -> str:
        """The methods of the route owning the path, if it is limited to some ('' otherwise)."""
        routes = self.routes
        if routes is None:
            routes = getattr(scope.get("app"), "routes", ())
        return _limited_methods(routes, scope)


def _limited_methods(routes: Sequence[BaseRoute], scope: Scope) -> str:
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is Match.NONE:
            continue
        methods = getattr(route, "methods", None)
        if match is Match.PARTIAL and methods:
            return ", ".join(["OPTIONS", *sorted(methods)])
        if isinstance(route, Mount) and route.routes:
            return _limited_methods(route.routes, {**scope, **child_scope})
        return ""  # a route that takes every method, as the API and Connect mounts do
    return ""
