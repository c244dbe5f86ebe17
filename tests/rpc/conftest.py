"""Fixtures for the RPC layer: small implementations of real services behind both transports."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from google.protobuf import empty_pb2
from google.protobuf.message import Message
from starlette.applications import Starlette
from starlette.testclient import TestClient
from support import serve_on_loopback

import memos.gen.api.v1.ai_service_pb2
import memos.gen.api.v1.attachment_service_pb2
import memos.gen.api.v1.auth_service_pb2 as auth_pb
import memos.gen.api.v1.idp_service_pb2
import memos.gen.api.v1.instance_service_pb2 as instance_pb
import memos.gen.api.v1.memo_service_pb2 as memo_pb
import memos.gen.api.v1.shortcut_service_pb2  # noqa: F401
import memos.gen.api.v1.user_service_pb2 as user_pb
from memos.call import AccessRefused, CallContext, Code, Handler, RpcError
from memos.rpc.interceptors import standard_interceptors
from memos.rpc.methods import MethodTable
from memos.rpc.router import rpc_routes
from memos.rpc.transport import fixed_body_limit

PROTECTED = {"/memos.api.v1.InstanceService/GetInstanceStats", "/memos.api.v1.AuthService/SignOut"}
SMALL_BODY_CAP = 4096


class Recorder:
    """What the services saw, newest last."""

    def __init__(self) -> None:
        self.calls: list[tuple[Message, CallContext]] = []

    @property
    def last(self) -> tuple[Message, CallContext]:
        return self.calls[-1]


class InstanceService:
    SERVICE_NAME = "memos.api.v1.InstanceService"

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def GetInstanceProfile(self, request: Message, ctx: CallContext) -> Message:
        self.recorder.calls.append((request, ctx))
        return instance_pb.InstanceProfile(version="0.30.0", instance_url="https://memos.example")

    async def GetInstanceSetting(self, request: Message, ctx: CallContext) -> Message:
        self.recorder.calls.append((request, ctx))
        raise RpcError(Code.INVALID_ARGUMENT, 'invalid username "Bad Name"')

    async def GetInstanceStats(self, request: Message, ctx: CallContext) -> Message:
        self.recorder.calls.append((request, ctx))
        raise RuntimeError("database password is hunter2")

    async def UpdateInstanceSetting(self, request: Message, ctx: CallContext) -> Message:
        self.recorder.calls.append((request, ctx))
        await anyio.sleep(5)  # slow enough for any deadline test
        return request.setting


class AuthService:
    SERVICE_NAME = "memos.api.v1.AuthService"

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def SignIn(self, request: Message, ctx: CallContext) -> Message:
        self.recorder.calls.append((request, ctx))
        ctx.response_headers.append(("Set-Cookie", "memos_refresh=abc; Path=/; HttpOnly"))
        username = request.password_credentials.username
        return auth_pb.SignInResponse(user=user_pb.User(name="users/1", username=username), access_token="tok")

    async def GetCurrentUser(self, request: Message, ctx: CallContext) -> Message:
        self.recorder.calls.append((request, ctx))
        # Memos clears the cookie, then fails: the header must not reach the client.
        ctx.response_headers.append(("Set-Cookie", "memos_refresh=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"))
        raise RpcError(Code.UNAUTHENTICATED, "user not found")

    async def SignOut(self, request: Message, ctx: CallContext) -> Message:
        self.recorder.calls.append((request, ctx))
        return empty_pb2.Empty()


class MemoService:
    """Echoes what arrived so the tests can see how the request was mapped."""

    SERVICE_NAME = "memos.api.v1.MemoService"

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def _echo(self, request: Message, ctx: CallContext) -> Any:
        self.recorder.calls.append((request, ctx))

    async def GetMemo(self, request: Message, ctx: CallContext) -> Message:
        await self._echo(request, ctx)
        return memo_pb.Memo(name=request.name)

    async def ListMemos(self, request: Message, ctx: CallContext) -> Message:
        await self._echo(request, ctx)
        return memo_pb.ListMemosResponse(memos=[memo_pb.Memo(name="memos/1", content="hello")])

    async def CreateMemo(self, request: Message, ctx: CallContext) -> Message:
        await self._echo(request, ctx)
        return request.memo

    async def UpdateMemo(self, request: Message, ctx: CallContext) -> Message:
        await self._echo(request, ctx)
        return request.memo

    async def GetSharedMemo(self, request: Message, ctx: CallContext) -> Message:
        await self._echo(request, ctx)
        return memo_pb.Memo(name="memos/shared")

    async def GetLinkMetadata(self, request: Message, ctx: CallContext) -> Message:
        await self._echo(request, ctx)
        return memo_pb.LinkMetadata(url=request.url)


class UserService:
    SERVICE_NAME = "memos.api.v1.UserService"

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def GetUser(self, request: Message, ctx: CallContext) -> Message:
        self.recorder.calls.append((request, ctx))
        return user_pb.User(name=request.name)

    async def GetUserStats(self, request: Message, ctx: CallContext) -> Message:
        self.recorder.calls.append((request, ctx))
        return user_pb.UserStats(name=request.name)

    async def BatchGetUsers(self, request: Message, ctx: CallContext) -> Message:
        self.recorder.calls.append((request, ctx))
        return user_pb.BatchGetUsersResponse(users=[user_pb.User(username=name) for name in request.usernames])


async def refuse_anonymous(request: Message, ctx: CallContext, call_next: Handler) -> Message:
    """A stand-in for the application's auth interceptor."""
    if ctx.procedure in PROTECTED and "authorization" not in ctx.headers:
        raise AccessRefused()
    ctx.principal = ctx.headers.get("authorization")
    return await call_next(request, ctx)


def full_table() -> MethodTable:
    return MethodTable.from_package("memos.api.v1")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def rpc_app(recorder: Recorder) -> Starlette:
    table = full_table()
    table.bind([InstanceService(recorder), AuthService(recorder), MemoService(recorder), UserService(recorder)])
    routes = rpc_routes(
        table, [*standard_interceptors(), refuse_anonymous], body_limit_of=fixed_body_limit(SMALL_BODY_CAP)
    )
    return Starlette(routes=routes)


@pytest.fixture
def rpc_client(rpc_app: Starlette) -> Iterator[TestClient]:
    with TestClient(rpc_app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def live_url(rpc_app: Starlette) -> Iterator[str]:
    """The same app served over real HTTP/1.1 (for independent Connect clients)."""
    with serve_on_loopback(rpc_app) as url:
        yield url


@pytest.fixture
def table() -> MethodTable:
    """Every memos.api.v1 RPC, nothing bound."""
    return full_table()
