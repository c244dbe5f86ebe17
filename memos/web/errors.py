"""The Echo-style error body of every plain (non-API) route: `{"message":"..."}` + newline."""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

# Go's JSON encoder escapes these three for HTML safety; clients may compare bytes.
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def echo_body(message: str) -> bytes:
    text = json.dumps({"message": message}, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _HTML_ESCAPES.items():
        text = text.replace(char, escaped)
    return (text + "\n").encode("utf-8")


def echo_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON error response shaped like Echo's default HTTP error handler."""
    return Response(echo_body(message), status_code=status, headers=headers, media_type="application/json")


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Router 404/405 (and any HTTPException) as an Echo body; 405 keeps its Allow header."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return echo_error(exc.status_code, exc.detail, exc.headers)


async def internal_error_handler(request: Request, exc: Exception) -> Response:
    """An unexpected exception: 500 without details (the traceback goes to the log)."""
    return echo_error(500, "Internal Server Error")


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def echo_exception_handlers() -> dict[type[Exception], ExceptionHandler]:
    """Handlers for `Starlette(exception_handlers=...)`."""
    return {HTTPException: http_exception_handler, Exception: internal_error_handler}
