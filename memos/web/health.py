"""`GET /healthz`: a liveness answer that never touches the database."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

HEALTHY_BODY = "Service ready."


async def healthz(request: Request) -> Response:
    return PlainTextResponse(HEALTHY_BODY, media_type="text/plain; charset=UTF-8")


def health_routes() -> list[BaseRoute]:
    return [Route("/healthz", healthz, methods=["GET"])]
