"""rpc_routes: both transports mounted, one interceptor chain for both."""
from __future__ import annotations

from google.protobuf.message import Message
from starlette.applications import Starlette
from starlette.testclient import TestClient

import memos.gen.api.v1.instance_service_pb2 as instance_pb
from memos.call import CallContext, Handler
from memos.rpc.methods import MethodTable
from memos.rpc.router import rpc_routes


class _Instance:
    SERVICE_NAME = "memos.api.v1.InstanceService"

    async def GetInstanceProfile(self, request: Message, ctx: CallContext) -> Message:
        return instance_pb.InstanceProfile(version=f"{ctx.transport}:{ctx.peer}:{ctx.principal}")


def _app(table: MethodTable, seen: list[tuple[str, str]], **options: object) -> Starlette:
    async def watcher(request: Message, ctx: CallContext, call_next: Handler) -> Message:
        seen.append((ctx.transport, ctx.procedure))
        ctx.principal = "watched"
        return await call_next(request, ctx)

    table.bind([_Instance()])
    return Starlette(routes=rpc_routes(table, [watcher], **options))  # type: ignore[arg-type]


def test_both_transports_run_the_same_chain(table: MethodTable) -> None:
    seen: list[tuple[str, str]] = []
    with TestClient(_app(table, seen)) as client:
        connect = client.post(
            "/memos.api.v1.InstanceService/GetInstanceProfile",
            content=b"{}",
            headers={"Content-Type": "application/json"},
        )
        rest = client.get("/api/v1/instance/profile")
    assert connect.json()["version"] == "connect:testclient:watched"
    assert rest.json()["version"] == "rest:testclient:watched"
    procedure = "/memos.api.v1.InstanceService/GetInstanceProfile"
    assert seen == [("connect", procedure), ("rest", procedure)]


def test_peer_ip_source_and_extra_gateway_prefixes_are_configurable(table: MethodTable) -> None:
    seen: list[tuple[str, str]] = []
    app = _app(table, seen, peer_ip_of=lambda request: "198.51.100.7", rest_prefixes=("/api/v1", "/file"))
    with TestClient(app) as client:
        assert client.get("/api/v1/instance/profile").status_code == 200
        stray = client.get("/file/elsewhere")
        assert (stray.status_code, stray.json()) == (404, {"code": 5, "message": "Not Found", "details": []})
        connect = client.post(
            "/memos.api.v1.InstanceService/GetInstanceProfile",
            content=b"{}",
            headers={"Content-Type": "application/json"},
        )
    assert connect.json()["version"] == "connect:198.51.100.7:watched"


def test_the_transports_answer_every_http_method_themselves(table: MethodTable) -> None:
    with TestClient(_app(table, [])) as client:
        assert client.put("/memos.api.v1.InstanceService/GetInstanceProfile").status_code == 405
        assert client.options("/api/v1/instance/profile").status_code == 501
        assert client.get("/elsewhere").status_code == 404
