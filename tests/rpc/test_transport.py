"""Body limits, the body budget, gzip and the deadline around a call."""
from __future__ import annotations

import gzip
from collections.abc import Mapping

import anyio
import pytest
from google.protobuf import empty_pb2
from google.protobuf.message import Message
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.testclient import TestClient
from starlette.types import Message as Message_

import memos.gen.api.v1.instance_service_pb2 as instance_pb
from memos.call import CallContext, Code, RpcError
from memos.rpc.interceptors import standard_interceptors
from memos.rpc.methods import MethodTable
from memos.rpc.router import rpc_routes
from memos.rpc.transport import (
    BodyBudget,
    BodyHold,
    BodyTooLarge,
    ServerBusy,
    describe_size,
    gunzip,
    read_body,
    run_call,
)

PROCEDURE = "/memos.api.v1.InstanceService/GetInstanceProfile"


def test_gunzip_round_trip_and_cap() -> None:
    assert gunzip(gzip.compress(b"x" * 100), limit=100) == b"x" * 100
    with pytest.raises(BodyTooLarge):
        gunzip(gzip.compress(b"x" * 101), limit=100)


def test_sizes_are_stated_exactly_and_readably() -> None:
    assert describe_size(65536) == "65536 bytes (64 KiB)"
    assert describe_size(42_991_616) == "42991616 bytes (41 MiB)"
    assert describe_size(1_500_000) == "1500000 bytes (1.4 MiB)"
    assert describe_size(100) == "100 bytes"


# --- a stalled body ----------------------------------------------------------------------


def _request_sending(parts: list[bytes], then_stall: bool) -> Request:
    """A request whose client sends ``parts`` and then, if told to, nothing more."""
    pending = list(parts)

    async def receive() -> Message_:
        if pending:
            return {"type": "http.request", "body": pending.pop(0), "more_body": True}
        if then_stall:
            await anyio.sleep(3600)
        return {"type": "http.request", "body": b"", "more_body": False}

    return Request({"type": "http", "method": "POST", "headers": []}, receive)


@pytest.mark.anyio
async def test_a_body_that_stops_arriving_ends_with_deadline_exceeded() -> None:
    held = BodyHold(BodyBudget(1024))
    with pytest.raises(RpcError) as caught:
        await read_body(_request_sending([b"abc"], then_stall=True), 1024, held, idle_seconds=0.05)
    assert caught.value.code is Code.DEADLINE_EXCEEDED
    assert "nothing arrived for 0.05 seconds" in caught.value.message
    held.release()


@pytest.mark.anyio
async def test_a_body_that_keeps_arriving_is_read_whole() -> None:
    held = BodyHold(BodyBudget(1024))
    body = await read_body(_request_sending([b"ab", b"cd"], then_stall=False), 1024, held, idle_seconds=0.05)
    assert body == b"abcd"
    held.release()


@pytest.mark.anyio
@pytest.mark.parametrize("parts", [[b"ab", b"cd"], [b"abcd"], [b"a", b"", b"bcd"]])
async def test_a_body_of_declared_length_is_read_whole_into_one_buffer(parts: list[bytes]) -> None:
    held = BodyHold(BodyBudget(1024))
    body = await read_body(_request_sending(parts, then_stall=False), 1024, held, declared=4, idle_seconds=1)
    assert body == bytearray(b"abcd") and held.size == 4
    body.clear()  # the buffer is the caller's to empty once decoded
    held.release()


@pytest.mark.anyio
@pytest.mark.parametrize(("parts", "expected"), [([b"abcdef"], b"abcdef"), ([b"ab"], b"ab")])
async def test_a_body_longer_or_shorter_than_declared_is_read_as_it_came(parts: list[bytes], expected: bytes) -> None:
    held = BodyHold(BodyBudget(1024))
    body = await read_body(_request_sending(parts, then_stall=False), 1024, held, declared=4, idle_seconds=1)
    assert body == expected
    assert held.size >= len(expected)  # what came beyond the declaration is accounted for too
    held.release()


@pytest.mark.anyio
async def test_a_body_passing_its_limit_beyond_the_declared_length_is_refused() -> None:
    held = BodyHold(BodyBudget(1024))
    with pytest.raises(BodyTooLarge):
        await read_body(_request_sending([b"abc", b"def"], then_stall=False), 5, held, declared=4, idle_seconds=1)
    held.release()


# --- the body budget ------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_budget_bounds_what_is_held_and_gives_it_back() -> None:
    budget = BodyBudget(total=100, wait_seconds=0.05)
    async with budget.hold() as first:
        await first.reserve(60)
        async with budget.hold() as second:
            with pytest.raises(ServerBusy):
                await second.reserve(50)  # waited, no room came
            await second.reserve(40)
            assert budget.in_use == 100
            with pytest.raises(ServerBusy):
                second.grow(1)  # chunked growth never waits
        assert budget.in_use == 60
    assert budget.in_use == 0


@pytest.mark.anyio
async def test_a_waiting_request_gets_in_as_soon_as_room_is_freed() -> None:
    budget = BodyBudget(total=100, wait_seconds=5)
    admitted = anyio.Event()

    async def second_upload() -> None:
        async with budget.hold() as held:
            await held.reserve(80)
            admitted.set()

    async with anyio.create_task_group() as tasks:
        async with budget.hold() as first:
            await first.reserve(80)
            tasks.start_soon(second_upload)
            await anyio.sleep(0.05)
            assert not admitted.is_set()
        with anyio.fail_after(1):
            await admitted.wait()
    assert budget.in_use == 0


@pytest.mark.anyio
async def test_one_body_larger_than_the_whole_budget_passes_when_alone() -> None:
    budget = BodyBudget(total=100, wait_seconds=0.05)
    async with budget.hold() as alone:
        await alone.reserve(500)
        alone.grow(500)
        async with budget.hold() as other:
            with pytest.raises(ServerBusy):
                await other.reserve(1)
    assert budget.in_use == 0


# --- the per-request cap, chosen from the headers ----------------------------------------------


class _Recorded:
    SERVICE_NAME = "memos.api.v1.InstanceService"

    async def GetInstanceProfile(self, request: Message, ctx: CallContext) -> Message:
        return instance_pb.InstanceProfile(version="x")


def _app(seen: list[Mapping[str, str]], budget: BodyBudget | None = None) -> Starlette:
    async def limit_of(headers: Mapping[str, str]) -> int:
        seen.append(headers)
        return 10_000 if headers.get("authorization") == "Bearer good" else 100

    table = MethodTable.from_package("memos.api.v1")
    table.bind([_Recorded()])
    return Starlette(routes=rpc_routes(table, standard_interceptors(), body_limit_of=limit_of, body_budget=budget))


def _connect(client: TestClient, body: bytes, **headers: str):
    return client.post(PROCEDURE, content=body, headers={"Content-Type": "application/json", **headers})


def test_the_cap_comes_from_the_request_headers() -> None:
    seen: list[Mapping[str, str]] = []
    with TestClient(_app(seen)) as client:
        body = b"{}" + b" " * 1000
        assert _connect(client, body).status_code == 413
        assert "100 bytes" in _connect(client, body).json()["message"]
        assert _connect(client, body, Authorization="Bearer good").status_code == 200
        # A GET binding takes no body: whatever is sent is not read, and the cap is not asked for.
        assert client.request("GET", "/api/v1/instance/profile", content=body).status_code == 200
    assert len(seen) == 3


def test_bodiless_requests_skip_the_policy() -> None:
    seen: list[Mapping[str, str]] = []
    with TestClient(_app(seen)) as client:
        assert client.get("/api/v1/instance/profile").status_code == 200
        # Content-Length 0: nothing to read (the method is not bound here, hence 501).
        assert client.post("/api/v1/users:batchGet").status_code == 501
    assert seen == []


def test_without_room_in_the_budget_both_transports_answer_unavailable() -> None:
    budget = BodyBudget(total=10, wait_seconds=0.05)
    with TestClient(_app([], budget)) as client:
        blocker = client.portal.call(_hold_budget, budget)
        try:
            connect = _connect(client, b"{}")
            rest = client.post("/api/v1/users:batchGet", content=b"{}")
        finally:
            blocker.release()
    assert connect.status_code == 503 and connect.headers["retry-after"] == "1"
    assert connect.json() == {
        "code": "unavailable",
        "message": "the server is busy receiving other requests; retry in a moment",
    }
    assert rest.status_code == 503 and rest.json()["code"] == 14 and rest.json()["details"] == []
    assert budget.in_use == 0


async def _hold_budget(budget: BodyBudget):
    from memos.rpc.transport import BodyHold

    held = BodyHold(budget)
    held.grow(10)
    return held


@pytest.mark.parametrize("data", [b"not gzip at all", gzip.compress(b"hello")[:-6]])
def test_bad_gzip_is_invalid_argument(data: bytes) -> None:
    with pytest.raises(RpcError) as raised:
        gunzip(data)
    assert raised.value.code is Code.INVALID_ARGUMENT


class _Slow:
    SERVICE_NAME = "memos.api.v1.InstanceService"

    async def GetInstanceProfile(self, request: Message, ctx: CallContext) -> Message:
        await anyio.sleep(5)
        return instance_pb.InstanceProfile()

    async def GetInstanceStats(self, request: Message, ctx: CallContext) -> Message:
        raise OSError("disk path /secret")


@pytest.mark.anyio
async def test_a_deadline_ends_the_call_with_deadline_exceeded(table: MethodTable) -> None:
    table.bind([_Slow()])
    method = table.get(PROCEDURE)
    assert method is not None
    with anyio.fail_after(2):
        with pytest.raises(RpcError) as raised:
            await run_call(method, method.input(), CallContext(PROCEDURE, "connect", {}), [], timeout_seconds=0.05)
    assert raised.value.code is Code.DEADLINE_EXCEEDED


@pytest.mark.anyio
async def test_without_a_recovery_layer_failures_still_come_out_as_internal(table: MethodTable) -> None:
    table.bind([_Slow()])
    method = table.get("/memos.api.v1.InstanceService/GetInstanceStats")
    assert method is not None
    with pytest.raises(RpcError) as raised:
        await run_call(method, empty_pb2.Empty(), CallContext(method.procedure, "rest", {}), [])
    assert (raised.value.code, raised.value.message) == (Code.INTERNAL, "internal server error")
