"""The interceptor chain both transports run every call through.

Standard order, outermost first: metadata -> logging -> recovery -> (auth,
supplied by the application) -> service method.
"""
from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence

from google.protobuf.message import Message

from memos.call import CLIENT_ERROR_CODES, CallContext, Code, Handler, Interceptor, RpcError

logger = logging.getLogger("memos.rpc")

NO_CACHE_HEADERS = (
    ("Cache-Control", "no-cache, no-store, must-revalidate"),
    ("Pragma", "no-cache"),
    ("Expires", "0"),
)


def build_chain(interceptors: Sequence[Interceptor], handler: Handler) -> Handler:
    """One handler that runs ``interceptors`` in order, then ``handler``."""
    chained = handler
    for interceptor in reversed(interceptors):
        chained = functools.partial(_intercept, interceptor, chained)
    return chained


async def _intercept(interceptor: Interceptor, call_next: Handler, request: Message, ctx: CallContext) -> Message:
    return await interceptor(request, ctx, call_next)


class MetadataInterceptor:
    """Marks successful Connect responses uncacheable.

    The transports have already copied the request headers the services may
    read into ``ctx.headers``; REST answers carry no caching headers.
    """

    async def __call__(self, request: Message, ctx: CallContext, call_next: Handler) -> Message:
        response = await call_next(request, ctx)
        if ctx.transport == "connect":
            ctx.response_headers.extend(NO_CACHE_HEADERS)
        return response


class LoggingInterceptor:
    """One log line per finished call on the "memos.rpc" logger.

    INFO "OK" on success, INFO "client error" for codes the caller caused,
    WARN "not implemented" for a method this server does not offer yet (the
    client asked for it; nothing failed here, but the operator may want to
    know what clients miss), ERROR "server error" for other codes, ERROR
    "unknown error" for failures without a status. The message is the summary; method, code, duration_ms
    (and error) are record attributes, which the key=value formatter prints.
    """

    def __init__(self, with_stack: bool = False) -> None:
        self.with_stack = with_stack  # demo mode logs where errors came from

    async def __call__(self, request: Message, ctx: CallContext, call_next: Handler) -> Message:
        started = time.perf_counter()
        try:
            response = await call_next(request, ctx)
        except RpcError as exc:
            self._log(ctx, started, exc.code, exc)
            raise
        except Exception as exc:
            self._log(ctx, started, None, exc)
            raise
        self._log(ctx, started, Code.OK, None)
        return response

    def _log(self, ctx: CallContext, started: float, code: Code | None, error: Exception | None) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        if code is Code.OK:
            level, summary = logging.INFO, "OK"
        elif code is None:
            level, summary = logging.ERROR, "unknown error"
        elif code in CLIENT_ERROR_CODES:
            level, summary = logging.INFO, "client error"
        elif code is Code.UNIMPLEMENTED:
            level, summary = logging.WARNING, "not implemented"
        else:
            level, summary = logging.ERROR, "server error"
        code_name = code.connect_name if code is not None else "unknown"
        fields: dict[str, object] = {"method": ctx.procedure, "code": code_name, "duration_ms": duration_ms}
        if error is not None:
            fields["error"] = _error_text(error)
        logger.log(level, summary, exc_info=error if (self.with_stack and error is not None) else None, extra=fields)


class RecoveryInterceptor:
    """Turns any failure that is not an RpcError into INTERNAL without leaking its text."""

    async def __call__(self, request: Message, ctx: CallContext, call_next: Handler) -> Message:
        try:
            return await call_next(request, ctx)
        except RpcError:
            raise
        except Exception:
            logger.exception("panic recovered in RPC handler method=%s", ctx.procedure)
            raise RpcError(Code.INTERNAL, "internal server error") from None


def standard_interceptors(*, demo: bool = False) -> list[Interceptor]:
    """The layers every call passes before the application's own (auth) interceptor."""
    return [MetadataInterceptor(), LoggingInterceptor(with_stack=demo), RecoveryInterceptor()]


def _error_text(error: Exception) -> str:
    return error.message if isinstance(error, RpcError) else f"{type(error).__name__}: {error}"
