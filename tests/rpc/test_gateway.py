"""The REST gateway: routing, request mapping, default-emitting JSON, errors and headers."""
from __future__ import annotations

import pytest
from starlette.testclient import TestClient

import memos.gen.api.v1.common_pb2 as common_pb
import memos.gen.api.v1.memo_service_pb2 as memo_pb
import memos.gen.api.v1.user_service_pb2 as user_pb
from memos.call import Code, RpcError
from memos.rpc.gateway import apply_query, mask_from_json

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _last_request(recorder):
    return recorder.last[0]


def test_success_is_json_with_defaults_and_no_cache_headers(rpc_client: TestClient) -> None:
    response = rpc_client.get("/api/v1/instance/profile")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "cache-control" not in response.headers
    assert "content-encoding" not in response.headers
    assert response.json() == {
        "version": "0.30.0",
        "demo": False,
        "instanceUrl": "https://memos.example",
        "admin": None,
        "commit": "",
        "needsSetup": False,
    }


def test_path_variables_set_their_fields(rpc_client: TestClient, recorder) -> None:
    assert rpc_client.get("/api/v1/users/1").json()["name"] == "users/1"
    assert rpc_client.get("/api/v1/users/1:getStats").json()["name"] == "users/1"
    rpc_client.get("/api/v1/shares/token:with-colon/memo")
    assert _last_request(recorder).share_token == "token:with-colon"


def test_query_parameters_by_either_name_with_enums_and_booleans(rpc_client: TestClient, recorder) -> None:
    response = rpc_client.get("/api/v1/memos?pageSize=5&page_token=p2&state=ARCHIVED&showDeleted=t&filter=x&junk=1")
    assert response.status_code == 200
    request = _last_request(recorder)
    assert (request.page_size, request.page_token, request.state, request.show_deleted, request.filter) == (
        5, "p2", common_pb.State.ARCHIVED, True, "x"
    )
    rpc_client.get("/api/v1/memos?state=1&show_deleted=0")
    assert (_last_request(recorder).state, _last_request(recorder).show_deleted) == (1, False)


@pytest.mark.parametrize(
    "query", ["pageSize=many", "pageSize=99999999999", "state=NOPE", "showDeleted=maybe", "pageSize=1&pageSize=2"]
)
def test_bad_query_values_are_invalid_argument(rpc_client: TestClient, query: str) -> None:
    response = rpc_client.get(f"/api/v1/memos?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 3 and body["message"] and body["details"] == []


def test_query_reaches_nested_repeated_map_timestamp_and_mask_fields() -> None:
    memo = memo_pb.Memo()
    apply_query(
        memo,
        [
            ("property.hasLink", "true"),
            ("tags", "a"),
            ("tags", "b"),
            ("create_time", "2025-01-01T00:00:00Z"),
            ("location.placeholder", "home"),
        ],
        [],
    )
    assert memo.property.has_link is True
    assert list(memo.tags) == ["a", "b"]
    assert memo.create_time.seconds == 1735689600
    assert memo.location.placeholder == "home"

    request = user_pb.UpdateUserRequest()
    apply_query(request, [("updateMask", "display_name,avatarUrl")], [])
    assert list(request.update_mask.paths) == ["display_name", "avatarUrl"]  # verbatim, no case change

    stats = user_pb.UserStats()
    apply_query(stats, [("tagCount[work]", "3"), ("tag_count[home]", "1")], [])
    assert dict(stats.tag_count) == {"work": 3, "home": 1}


def test_query_does_not_override_path_or_body_fields() -> None:
    request = memo_pb.UpdateMemoRequest(memo=memo_pb.Memo(name="memos/from-path", content="body"))
    apply_query(request, [("memo.name", "memos/other"), ("memo.content", "q"), ("memo", "x")], [("memo",)])
    assert (request.memo.name, request.memo.content) == ("memos/from-path", "body")


def test_query_rejects_a_second_member_of_a_oneof() -> None:
    request = user_pb.UserNotification()
    with pytest.raises(RpcError) as raised:
        apply_query(request, [("memoComment.memo", "memos/1"), ("memoMention.memo", "memos/2")], [])
    assert raised.value.code is Code.INVALID_ARGUMENT


def test_body_field_is_the_message_and_path_wins(rpc_client: TestClient, recorder) -> None:
    response = rpc_client.post("/api/v1/memos", json={"content": "hi", "visibility": "PUBLIC", "unknownKey": 1})
    assert response.status_code == 200
    assert response.json()["content"] == "hi" and response.json()["visibility"] == "PUBLIC"
    rpc_client.patch("/api/v1/memos/abc", json={"name": "memos/zzz", "content": "x"})
    assert _last_request(recorder).memo.name == "memos/abc"


def test_body_star_fills_the_whole_request_and_ignores_the_query(rpc_client: TestClient, recorder) -> None:
    response = rpc_client.post("/api/v1/users:batchGet?usernames=zed", json={"usernames": ["ada", "bob"]})
    assert [user["username"] for user in response.json()["users"]] == ["ada", "bob"]
    signed_in = rpc_client.post(
        "/api/v1/auth/signin", json={"passwordCredentials": {"username": "ada", "password": "x"}}
    )
    assert signed_in.json()["user"]["username"] == "ada"


def test_an_empty_body_is_allowed(rpc_client: TestClient, recorder) -> None:
    assert rpc_client.post("/api/v1/users:batchGet").status_code == 200
    assert rpc_client.post("/api/v1/memos").status_code == 200
    assert not _last_request(recorder).HasField("memo")


@pytest.mark.parametrize("body", [b"{not json", b'{"content": 5}', b"[1]", b'{"visibility": {}}'])
def test_bad_bodies_are_invalid_argument(rpc_client: TestClient, body: bytes) -> None:
    response = rpc_client.post("/api/v1/memos", content=body)
    assert response.status_code == 400
    assert response.json()["code"] == 3


def test_a_body_over_the_cap_is_413_in_the_gateway_shape(rpc_client: TestClient, recorder) -> None:
    response = rpc_client.post("/api/v1/memos", content=b" " * 5000)
    assert response.status_code == 413
    assert response.json() == {
        "code": 8,
        "message": "request body of 5000 bytes is too large: the limit is 4096 bytes (4 KiB)",
        "details": [],
    }
    chunked = rpc_client.post("/api/v1/memos", content=iter([b" " * 3000, b" " * 3000]))
    assert chunked.status_code == 413
    assert chunked.json()["message"] == "request body is too large: the limit is 4096 bytes (4 KiB)"
    assert recorder.calls == []


def test_patch_infers_the_update_mask_from_the_body(rpc_client: TestClient, recorder) -> None:
    rpc_client.patch("/api/v1/memos/abc", json={"content": "hi"})
    assert list(_last_request(recorder).update_mask.paths) == ["content"]
    rpc_client.patch(
        "/api/v1/memos/abc",
        json={
            "visibility": "PUBLIC",
            "location": {"placeholder": "x", "latitude": 1},
            "attachments": [],
            "pinned": True,
        },
    )
    assert list(_last_request(recorder).update_mask.paths) == [
        "attachments",
        "location.latitude",
        "location.placeholder",
        "pinned",
        "visibility",
    ]


def test_an_update_mask_in_the_query_replaces_the_inferred_one(rpc_client: TestClient, recorder) -> None:
    rpc_client.patch("/api/v1/memos/abc?updateMask=row_status,content", json={"content": "hi", "pinned": True})
    assert list(_last_request(recorder).update_mask.paths) == ["row_status", "content"]


def test_an_unknown_body_key_fails_mask_inference_even_with_a_query_mask(rpc_client: TestClient) -> None:
    response = rpc_client.patch("/api/v1/memos/abc?updateMask=content", json={"content": "hi", "bogus": 1})
    assert response.status_code == 400
    assert response.json()["message"] == 'could not find field "bogus" in "memos.api.v1.Memo"'


def test_mask_inference_keeps_lists_and_maps_whole() -> None:
    from memos.gen.api.v1 import user_service_pb2

    descriptor = user_service_pb2.UserSetting.DESCRIPTOR
    assert mask_from_json({"tagsSetting": {"tags": {"a": {"blurContent": True}}}}, descriptor) == ["tags_setting.tags"]
    assert mask_from_json(None, descriptor) == []


def test_a_body_of_exactly_an_empty_object_gives_one_empty_path() -> None:
    from memos.gen.api.v1 import memo_service_pb2

    descriptor = memo_service_pb2.Memo.DESCRIPTOR
    assert mask_from_json({}, descriptor) == [""]
    assert mask_from_json({"location": {}}, descriptor) == ["location"]


def test_form_post_falls_back_to_the_get_binding(rpc_client: TestClient, recorder) -> None:
    response = rpc_client.post("/api/v1/memos/-/linkMetadata", content=b"url=https%3A%2F%2Fa.example", headers=FORM)
    assert response.status_code == 200
    assert response.json()["url"] == "https://a.example"
    assert recorder.last[1].procedure == "/memos.api.v1.MemoService/GetLinkMetadata"


def test_form_post_to_a_path_with_a_post_binding_runs_that_binding(rpc_client: TestClient, recorder) -> None:
    assert rpc_client.post("/api/v1/memos", content=b"", headers=FORM).status_code == 200
    assert recorder.last[1].procedure == "/memos.api.v1.MemoService/CreateMemo"


def test_a_form_post_may_name_its_method_in_x_http_method_override(rpc_client: TestClient) -> None:
    overridden = rpc_client.post("/api/v1/memos/abc", content=b"", headers={**FORM, "X-HTTP-Method-Override": "delete"})
    assert overridden.json()["message"] == "method DeleteMemo not implemented"
    # Only a form POST is overridden; a JSON POST stays a POST, which this path has no binding for.
    json_post = rpc_client.post("/api/v1/memos/abc", json={}, headers={"X-HTTP-Method-Override": "DELETE"})
    assert json_post.json()["message"] == "Method Not Allowed"


def test_unknown_path_is_the_gateway_404(rpc_client: TestClient) -> None:
    response = rpc_client.get("/api/v1/definitely/not/here")
    assert response.status_code == 404
    assert response.json() == {"code": 5, "message": "Not Found", "details": []}


def test_path_bound_only_for_other_methods_is_501(rpc_client: TestClient) -> None:
    response = rpc_client.delete("/api/v1/instance/profile")
    assert response.status_code == 501
    assert response.json() == {"code": 12, "message": "Method Not Allowed", "details": []}


def test_a_json_post_does_not_fall_back_to_get(rpc_client: TestClient) -> None:
    response = rpc_client.post("/api/v1/instance/profile", json={})
    assert response.status_code == 501


def test_unimplemented_rpc_is_501_with_its_message(rpc_client: TestClient) -> None:
    response = rpc_client.get("/api/v1/users/1/shortcuts")
    assert response.status_code == 501
    assert response.json() == {"code": 12, "message": "method ListShortcuts not implemented", "details": []}


def test_service_error_has_numeric_code_and_empty_details(rpc_client: TestClient) -> None:
    response = rpc_client.get("/api/v1/instance/settings/GENERAL")
    assert response.status_code == 400
    assert response.json() == {"code": 3, "message": 'invalid username "Bad Name"', "details": []}


def test_unauthenticated_from_a_service_sets_www_authenticate(rpc_client: TestClient) -> None:
    response = rpc_client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "user not found"
    assert response.json() == {"code": 16, "message": "user not found", "details": []}
    assert "grpc-metadata-set-cookie" not in response.headers


def test_access_refusal_has_the_exact_plain_text_body(rpc_client: TestClient) -> None:
    response = rpc_client.get("/api/v1/instance/stats")
    assert response.status_code == 401
    assert response.content == b'{"code": 16, "message": "authentication required"}\n'
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_exception_is_500_without_its_text(rpc_client: TestClient) -> None:
    response = rpc_client.get("/api/v1/instance/stats", headers={"Authorization": "Bearer t"})
    assert response.status_code == 500
    assert response.json() == {"code": 13, "message": "internal server error", "details": []}


def test_services_see_the_gateway_metadata(rpc_client: TestClient, recorder) -> None:
    rpc_client.get(
        "/api/v1/instance/profile",
        headers={
            "Authorization": "Bearer t0k",
            "User-Agent": "tests/1.0",
            "Origin": "https://notes.example",
            "Grpc-Metadata-Cookie": "memos_refresh=r1",
            "X-Forwarded-For": "192.0.2.1",
            "X-Unrelated": "no",
        },
    )
    _, ctx = recorder.last
    assert ctx.transport == "rest"
    assert ctx.headers["authorization"] == "Bearer t0k"
    assert ctx.headers["grpcgateway-authorization"] == "Bearer t0k"
    assert ctx.headers["grpcgateway-user-agent"] == "tests/1.0"
    assert ctx.headers["grpcgateway-origin"] == "https://notes.example"
    assert ctx.headers["cookie"] == "memos_refresh=r1"
    assert ctx.headers["x-forwarded-host"] == "testserver"
    assert ctx.headers["x-forwarded-for"] == "192.0.2.1, testclient"
    assert "origin" not in ctx.headers and "user-agent" not in ctx.headers and "x-unrelated" not in ctx.headers


def test_service_headers_come_out_with_the_metadata_prefix(rpc_client: TestClient) -> None:
    response = rpc_client.post("/api/v1/auth/signin", json={})
    assert response.status_code == 200
    assert response.headers["grpc-metadata-set-cookie"] == "memos_refresh=abc; Path=/; HttpOnly"
    assert "set-cookie" not in response.headers
