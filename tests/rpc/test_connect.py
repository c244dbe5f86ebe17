"""The Connect unary protocol, in-process and against an independent Connect client."""
from __future__ import annotations

import gzip
import logging

import pytest
from starlette.testclient import TestClient
from support import connect_method, connect_peer

import memos.gen.api.v1.auth_service_pb2 as auth_pb
import memos.gen.api.v1.instance_service_pb2 as instance_pb
import memos.gen.api.v1.memo_service_pb2 as memo_pb
from memos.rpc.connect import canonical_content_type

PROFILE = "/memos.api.v1.InstanceService/GetInstanceProfile"
SETTING = "/memos.api.v1.InstanceService/GetInstanceSetting"
STATS = "/memos.api.v1.InstanceService/GetInstanceStats"
NO_GZIP = {"Accept-Encoding": "identity"}
NO_CACHE = {"cache-control": "no-cache, no-store, must-revalidate", "pragma": "no-cache", "expires": "0"}


def _post(client: TestClient, path: str, body: bytes = b"", content_type: str = "application/proto", **headers: str):
    return client.post(path, content=body, headers={"Content-Type": content_type, **NO_GZIP, **headers})


def test_binary_call_succeeds_with_connect_headers(rpc_client: TestClient) -> None:
    response = _post(rpc_client, PROFILE, instance_pb.GetInstanceProfileRequest().SerializeToString())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/proto"
    assert response.headers["accept-encoding"] == "gzip"
    assert "content-encoding" not in response.headers
    assert {name: response.headers[name] for name in NO_CACHE} == NO_CACHE
    assert instance_pb.InstanceProfile.FromString(response.content).version == "0.30.0"


def test_json_call_omits_defaults(rpc_client: TestClient) -> None:
    response = _post(rpc_client, PROFILE, b"{}", "application/json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"version": "0.30.0", "instanceUrl": "https://memos.example"}


def test_json_charset_content_type_is_echoed_normalised(rpc_client: TestClient) -> None:
    response = _post(rpc_client, PROFILE, b"{}", "Application/JSON;Charset=UTF-8")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_canonical_content_type() -> None:
    assert canonical_content_type("application/json;charset=UTF-8") == "application/json; charset=utf-8"
    assert canonical_content_type("application/proto") == "application/proto"


def test_gzip_request_gets_a_gzip_response(rpc_client: TestClient) -> None:
    body = gzip.compress(b'{"name": "memos/9"}')
    response = rpc_client.post(
        "/memos.api.v1.MemoService/GetMemo",
        content=body,
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip", "Accept-Encoding": "identity"},
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.json() == {"name": "memos/9"}  # httpx undid the gzip


@pytest.mark.parametrize(
    ("accept", "compressed"), [("gzip", True), ("br, gzip", True), ("gzip;q=1.0", False), ("br", False)]
)
def test_accept_encoding_token_gzip_turns_compression_on(rpc_client: TestClient, accept: str, compressed: bool) -> None:
    response = rpc_client.post(
        PROFILE, content=b"{}", headers={"Content-Type": "application/json", "Accept-Encoding": accept}
    )
    assert response.status_code == 200
    assert (response.headers.get("content-encoding") == "gzip") is compressed


def test_service_error_reaches_the_client_verbatim_and_uncompressed(rpc_client: TestClient) -> None:
    response = _post(rpc_client, SETTING, b"{}", "application/json", **{"Accept-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert "content-encoding" not in response.headers
    assert "cache-control" not in response.headers
    assert response.json() == {"code": "invalid_argument", "message": 'invalid username "Bad Name"'}


def test_an_exception_becomes_internal_without_its_text(
    rpc_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="memos.rpc"):
        response = _post(rpc_client, STATS, b"{}", "application/json", Authorization="Bearer x")
    assert response.status_code == 500
    assert response.json() == {"code": "internal", "message": "internal server error"}
    assert "hunter2" not in response.text
    assert any("hunter2" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)


def test_access_refused_is_unauthenticated(rpc_client: TestClient) -> None:
    response = _post(rpc_client, STATS, b"", "application/proto")
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "authentication required"}


def test_unimplemented_rpc_of_a_known_service(rpc_client: TestClient) -> None:
    response = _post(rpc_client, "/memos.api.v1.ShortcutService/ListShortcuts", b"", "application/proto")
    assert response.status_code == 501
    assert response.json() == {"code": "unimplemented", "message": "method ListShortcuts not implemented"}


@pytest.mark.parametrize(
    "path", ["/memos.api.v1.InstanceService/NoSuchRpc", "/memos.api.v1.NoSuchService/GetThing", "/memos.api.v1.X"]
)
def test_unknown_procedure_is_a_plain_404(rpc_client: TestClient, path: str) -> None:
    response = _post(rpc_client, path, b"{}", "application/json")
    assert response.status_code == 404
    assert response.text == "404 page not found\n"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_non_post_is_405_with_allow(rpc_client: TestClient, method: str) -> None:
    response = rpc_client.request(method, PROFILE)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.content == b""


@pytest.mark.parametrize("content_type", ["text/plain", "application/grpc", "application/json; charset=latin-1", ""])
def test_other_content_types_are_415_with_accept_post(rpc_client: TestClient, content_type: str) -> None:
    response = _post(rpc_client, PROFILE, b"{}", content_type)
    assert response.status_code == 415
    assert response.content == b""
    assert set(response.headers["accept-post"].split(", ")) == {
        "application/json",
        "application/json; charset=utf-8",
        "application/proto",
    }


def test_unknown_content_encoding_is_unimplemented(rpc_client: TestClient) -> None:
    response = _post(rpc_client, PROFILE, b"{}", "application/json", **{"Content-Encoding": "br"})
    assert response.status_code == 501
    assert response.json()["code"] == "unimplemented"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/json"),
        (b"{oops", "application/json"),
        (b"\x0a\xff", "application/proto"),
        (b'{"pageSize":"x"}', "application/json"),
    ],
)
def test_undecodable_bodies_are_invalid_argument(rpc_client: TestClient, body: bytes, content_type: str) -> None:
    response = _post(rpc_client, "/memos.api.v1.MemoService/ListMemos", body, content_type)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_argument"


def test_bad_gzip_is_invalid_argument(rpc_client: TestClient) -> None:
    response = _post(rpc_client, PROFILE, b"not gzip", "application/json", **{"Content-Encoding": "gzip"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_argument"


def test_a_declared_body_over_the_cap_is_413_before_the_service_runs(rpc_client: TestClient, recorder) -> None:
    # The fixture app caps bodies at 4 KiB.
    response = _post(rpc_client, PROFILE, b" " * 5000, "application/json")
    assert response.status_code == 413
    assert response.json() == {
        "code": "resource_exhausted",
        "message": "request body of 5000 bytes is too large: the limit is 4096 bytes (4 KiB)",
    }
    assert recorder.calls == []


def test_a_body_of_unknown_length_stops_at_the_cap(rpc_client: TestClient) -> None:
    response = rpc_client.post(
        PROFILE, content=iter([b" " * 3000, b" " * 3000]), headers={"Content-Type": "application/json", **NO_GZIP}
    )
    assert response.status_code == 413
    assert response.json() == {
        "code": "resource_exhausted",
        "message": "request body is too large: the limit is 4096 bytes (4 KiB)",
    }


def test_a_body_at_the_cap_passes(rpc_client: TestClient) -> None:
    response = _post(rpc_client, PROFILE, b"{}" + b" " * 4094, "application/json")
    assert response.status_code == 200


def test_a_gzip_body_that_expands_past_the_cap_is_413(rpc_client: TestClient) -> None:
    bomb = gzip.compress(b" " * 100_000)
    response = _post(rpc_client, PROFILE, bomb, "application/json", **{"Content-Encoding": "gzip"})
    assert response.status_code == 413
    assert response.json()["code"] == "resource_exhausted"
    assert response.json()["message"] == "decompressed request body is too large: the limit is 4096 bytes (4 KiB)"


def test_connect_timeout_sets_a_deadline(rpc_client: TestClient) -> None:
    response = _post(
        rpc_client,
        "/memos.api.v1.InstanceService/UpdateInstanceSetting",
        b"{}",
        "application/json",
        **{"Connect-Timeout-Ms": "50"},
    )
    assert response.status_code == 504
    assert response.json()["code"] == "deadline_exceeded"


@pytest.mark.parametrize("headers", [{"Connect-Timeout-Ms": "soon"}, {"Connect-Protocol-Version": "2"}])
def test_bad_protocol_headers_are_invalid_argument(rpc_client: TestClient, headers: dict[str, str]) -> None:
    response = _post(rpc_client, PROFILE, b"{}", "application/json", **headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_argument"


def test_protocol_version_1_is_accepted(rpc_client: TestClient) -> None:
    assert _post(rpc_client, PROFILE, b"{}", "application/json", **{"Connect-Protocol-Version": "1"}).status_code == 200


def test_services_see_the_forwarded_headers_unchanged(rpc_client: TestClient, recorder) -> None:
    sent = {
        "Origin": "https://notes.example",
        "X-Forwarded-Proto": "https",
        "Forwarded": "for=192.0.2.60;proto=https",
        "X-Forwarded-For": "192.0.2.60",
        "X-Real-Ip": "192.0.2.60",
        "Cookie": "memos_refresh=r1",
        "User-Agent": "tests/1.0",
        "Authorization": "Bearer t0k",
        "X-Unrelated": "no",
    }
    assert _post(rpc_client, PROFILE, b"{}", "application/json", **sent).status_code == 200
    _, ctx = recorder.last
    assert ctx.transport == "connect"
    assert ctx.procedure == PROFILE
    assert ctx.headers == {name.lower(): value for name, value in sent.items() if name != "X-Unrelated"}
    assert ctx.principal == "Bearer t0k"
    assert ctx.peer == "testclient"


def test_service_headers_are_sent_on_success_only(rpc_client: TestClient) -> None:
    body = auth_pb.SignInRequest(password_credentials={"username": "ada", "password": "pw"}).SerializeToString()
    signed_in = _post(rpc_client, "/memos.api.v1.AuthService/SignIn", body)
    assert signed_in.status_code == 200
    assert signed_in.headers["set-cookie"] == "memos_refresh=abc; Path=/; HttpOnly"
    failed = _post(rpc_client, "/memos.api.v1.AuthService/GetCurrentUser", b"")
    assert failed.status_code == 401
    assert "set-cookie" not in failed.headers


# --- an independent Connect peer over real HTTP ---------------------------------------------


@pytest.mark.parametrize("codec_name", ["proto", "json"])
@pytest.mark.parametrize("gzip_requests", [False, True])
def test_a_connect_client_calls_the_server(live_url: str, codec_name: str, gzip_requests: bool) -> None:
    get_memo = connect_method("memos.api.v1.MemoService", "GetMemo", memo_pb.GetMemoRequest, memo_pb.Memo)
    with connect_peer(live_url, codec_name, gzip_requests) as client:
        memo = client.execute_unary(request=memo_pb.GetMemoRequest(name="memos/42"), method=get_memo)
    assert memo == memo_pb.Memo(name="memos/42")


@pytest.mark.parametrize("codec_name", ["proto", "json"])
def test_a_connect_client_sees_code_and_message(live_url: str, codec_name: str) -> None:
    from connectrpc.code import Code as ClientCode
    from connectrpc.errors import ConnectError

    get_setting = connect_method(
        "memos.api.v1.InstanceService",
        "GetInstanceSetting",
        instance_pb.GetInstanceSettingRequest,
        instance_pb.InstanceSetting,
    )
    with connect_peer(live_url, codec_name, True) as client, pytest.raises(ConnectError) as raised:
        client.execute_unary(request=instance_pb.GetInstanceSettingRequest(), method=get_setting)
    assert raised.value.code == ClientCode.INVALID_ARGUMENT
    assert raised.value.message == 'invalid username "Bad Name"'
