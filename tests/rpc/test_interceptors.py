"""The interceptor chain: order, logging line, recovery, Connect cache headers."""
from __future__ import annotations

import logging

import pytest
from google.protobuf import empty_pb2
from google.protobuf.message import Message

from memos.call import AccessRefused, CallContext, Code, Handler, RpcError
from memos.rpc.interceptors import (
    NO_CACHE_HEADERS,
    LoggingInterceptor,
    MetadataInterceptor,
    RecoveryInterceptor,
    build_chain,
    standard_interceptors,
)

pytestmark = pytest.mark.anyio
PROCEDURE = "/memos.api.v1.InstanceService/GetInstanceProfile"


def _ctx(transport: str = "connect") -> CallContext:
    return CallContext(procedure=PROCEDURE, transport=transport, headers={})


def _failing(error: Exception) -> Handler:
    async def handler(request: Message, ctx: CallContext) -> Message:
        raise error

    return handler


async def _ok(request: Message, ctx: CallContext) -> Message:
    return empty_pb2.Empty()


async def test_chain_runs_interceptors_outermost_first() -> None:
    seen: list[str] = []

    def tagging(tag: str):
        async def interceptor(request: Message, ctx: CallContext, call_next: Handler) -> Message:
            seen.append(f"{tag} in")
            response = await call_next(request, ctx)
            seen.append(f"{tag} out")
            return response

        return interceptor

    async def handler(request: Message, ctx: CallContext) -> Message:
        seen.append("handler")
        return empty_pb2.Empty()

    await build_chain([tagging("a"), tagging("b")], handler)(empty_pb2.Empty(), _ctx())
    assert seen == ["a in", "b in", "handler", "b out", "a out"]


async def test_an_empty_chain_is_the_handler() -> None:
    assert await build_chain([], _ok)(empty_pb2.Empty(), _ctx()) == empty_pb2.Empty()


async def test_metadata_marks_connect_successes_uncacheable_only() -> None:
    connect, rest = _ctx("connect"), _ctx("rest")
    await MetadataInterceptor()(empty_pb2.Empty(), connect, _ok)
    await MetadataInterceptor()(empty_pb2.Empty(), rest, _ok)
    assert connect.response_headers == list(NO_CACHE_HEADERS)
    assert rest.response_headers == []
    failed = _ctx("connect")
    with pytest.raises(RpcError):
        await MetadataInterceptor()(empty_pb2.Empty(), failed, _failing(RpcError(Code.NOT_FOUND, "x")))
    assert failed.response_headers == []


@pytest.mark.parametrize(
    ("error", "level", "summary", "code"),
    [
        (None, logging.INFO, "OK", "ok"),
        (RpcError(Code.NOT_FOUND, "memo not found"), logging.INFO, "client error", "not_found"),
        (AccessRefused(), logging.INFO, "client error", "unauthenticated"),
        (RpcError(Code.INTERNAL, "boom"), logging.ERROR, "server error", "internal"),
        (RpcError(Code.UNIMPLEMENTED, "no"), logging.WARNING, "not implemented", "unimplemented"),
        (KeyError("x"), logging.ERROR, "unknown error", "unknown"),
    ],
)
async def test_logging_writes_one_line_per_call(
    caplog: pytest.LogCaptureFixture, error: Exception | None, level: int, summary: str, code: str
) -> None:
    handler = _ok if error is None else _failing(error)
    with caplog.at_level(logging.INFO, logger="memos.rpc"), pytest.raises(Exception) if error else _no_raise():
        await LoggingInterceptor()(empty_pb2.Empty(), _ctx(), handler)
    records = [record for record in caplog.records if record.name == "memos.rpc"]
    assert len(records) == 1
    record = records[0]
    assert record.levelno == level
    assert record.getMessage() == summary
    assert record.method == PROCEDURE and record.code == code and record.duration_ms >= 0


class _no_raise:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


async def test_recovery_hides_the_exception_and_logs_the_traceback(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="memos.rpc"), pytest.raises(RpcError) as raised:
        await RecoveryInterceptor()(empty_pb2.Empty(), _ctx(), _failing(RuntimeError("secret detail")))
    assert (raised.value.code, raised.value.message) == (Code.INTERNAL, "internal server error")
    assert "secret detail" not in str(raised.value)
    assert any(record.exc_info and "secret detail" in str(record.exc_info[1]) for record in caplog.records)


async def test_recovery_passes_status_errors_through() -> None:
    error = RpcError(Code.NOT_FOUND, "memo not found")
    with pytest.raises(RpcError) as raised:
        await RecoveryInterceptor()(empty_pb2.Empty(), _ctx(), _failing(error))
    assert raised.value is error


async def test_standard_chain_logs_a_recovered_failure_as_server_error(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="memos.rpc"), pytest.raises(RpcError):
        await build_chain(standard_interceptors(), _failing(ValueError("x")))(empty_pb2.Empty(), _ctx())
    summaries = [record.getMessage().split(" ")[0] for record in caplog.records if record.name == "memos.rpc"]
    assert summaries == ["panic", "server"]
