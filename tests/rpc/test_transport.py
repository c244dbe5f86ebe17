"""Body limits, gzip and the deadline around a call."""
from __future__ import annotations

import gzip

import anyio
import pytest
from google.protobuf import empty_pb2
from google.protobuf.message import Message

import memos.gen.api.v1.instance_service_pb2 as instance_pb
from memos.call import CallContext, Code, RpcError
from memos.rpc.methods import MethodTable
from memos.rpc.transport import BodyTooLarge, gunzip, run_call

PROCEDURE = "/memos.api.v1.InstanceService/GetInstanceProfile"


def test_gunzip_round_trip_and_cap() -> None:
    assert gunzip(gzip.compress(b"x" * 100), limit=100) == b"x" * 100
    with pytest.raises(BodyTooLarge):
        gunzip(gzip.compress(b"x" * 101), limit=100)


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
