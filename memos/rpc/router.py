"""Starlette routes for both RPC transports of one method table.

Typical wiring::

    table = MethodTable.from_package("memos.api.v1")   # after importing the *_pb2 modules
    table.bind([InstanceService(...), ...])
    routes = rpc_routes(table, [*standard_interceptors(), auth_interceptor])
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from memos.call import Interceptor
from memos.rpc.connect import ConnectEndpoint
from memos.rpc.forwarding import TrustedProxies
from memos.rpc.gateway import GatewayEndpoint
from memos.rpc.methods import MethodTable
from memos.rpc.transport import (
    DEFAULT_MAX_BODY_BYTES,
    BodyBudget,
    BodyLimitOf,
    PeerIpOf,
    default_peer_ip,
    fixed_body_limit,
)


class _AsgiEndpoint:
    """An ASGI app around a request handler, so the Route lets every HTTP method through
    (the transports answer 405/501 themselves)."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)


def rpc_routes(
    table: MethodTable,
    interceptors: Sequence[Interceptor],
    peer_ip_of: PeerIpOf | None = None,
    *,
    package: str = "memos.api.v1",
    rest_prefixes: Sequence[str] = ("/api/v1",),
    body_limit_of: BodyLimitOf | None = None,
    body_budget: BodyBudget | None = None,
    trusted_proxies: TrustedProxies | None = None,
) -> list[BaseRoute]:
    """Connect under ``/<package>.*`` and the REST gateway under each of ``rest_prefixes``.

    Bindings keep their full paths (``/api/v1/...``); another prefix such as
    ``/file`` only hands its requests to the gateway, which answers its 404.

    ``interceptors`` is the whole chain, outermost first; both transports run
    it. ``peer_ip_of`` tells the client IP of a request (default: the socket
    peer), used for the gateway's x-forwarded-for; ``ctx.peer`` is that peer,
    or the client named in X-Forwarded-For when the peer is one of the
    ``trusted_proxies`` (default: loopback).

    ``body_limit_of`` tells, from a request's headers, the largest body it may
    send (default: 4 MiB for all); a larger one is answered HTTP 413 with the
    code resource_exhausted, before it is read when its length is declared.
    Both transports share one ``body_budget`` (default: a new BodyBudget) for
    the bodies held in memory at once; without room a request is answered
    unavailable (HTTP 503, Retry-After).
    """
    peer = peer_ip_of or default_peer_ip
    limit_of = body_limit_of or fixed_body_limit(DEFAULT_MAX_BODY_BYTES)
    budget = body_budget or BodyBudget()
    proxies = trusted_proxies or TrustedProxies()
    connect = ConnectEndpoint(table, interceptors, peer, limit_of, budget, proxies)
    gateway = GatewayEndpoint(table, interceptors, peer, limit_of, budget, proxies)
    routes: list[BaseRoute] = [Route(f"/{package}.{{procedure:path}}", _AsgiEndpoint(connect))]
    routes.extend(Route(f"{prefix.rstrip('/')}/{{rest:path}}", _AsgiEndpoint(gateway)) for prefix in rest_prefixes)
    return routes
