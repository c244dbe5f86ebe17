"""/mcp through the app with a JSON-RPC client: guard, transport rules, initialize, tools/list, tools/call."""
from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from support import bearer, create_user_row, make_profile, serve_on_loopback, sign_in

from memos.app import create_app

HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
FORBIDDEN_TOOLS = ("auth_sign_in", "user_create_user", "instance_", "identity_provider", "webhook", "share")


@pytest.fixture
def public(tmp_path: pathlib.Path) -> Iterator[TestClient]:
    profile = make_profile(tmp_path / "data", instance_url="https://notes.example.com")
    with TestClient(create_app(profile), raise_server_exceptions=False) as client:
        yield client


def rpc(client: Any, method: str, params: dict | None = None, *, headers: dict | None = None,
        message_id: Any = 1) -> httpx.Response:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": message_id, "method": method}
    if params is not None:
        message["params"] = params
    return client.post("/mcp", content=json.dumps(message), headers={**HEADERS, **(headers or {})})


def call_tool(client: Any, name: str, arguments: dict, headers: dict | None = None) -> dict:
    response = rpc(client, "tools/call", {"name": name, "arguments": arguments}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-cache, no-transform"
    return response.json()["result"]


def tools_by_name(client: Any) -> dict[str, dict]:
    response = rpc(client, "tools/list")
    assert response.status_code == 200, response.text
    return {tool["name"]: tool for tool in response.json()["result"]["tools"]}


def test_initialize_negotiates_the_protocol_version(client: TestClient) -> None:
    result = rpc(client, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                        "clientInfo": {"name": "t", "version": "1"}}).json()["result"]
    assert result["protocolVersion"] == "2025-06-18"
    assert result["serverInfo"]["name"] == "memos" and result["serverInfo"]["version"]
    assert result["capabilities"] == {"logging": {}, "tools": {"listChanged": True}}
    unknown = rpc(client, "initialize", {"protocolVersion": "1999-01-01"}).json()["result"]
    assert unknown["protocolVersion"] == "2025-11-25"


def test_initialize_with_any_host_header(client: TestClient) -> None:
    response = rpc(client, "initialize", {"protocolVersion": "2025-03-26"}, headers={"host": "demo.usememos.com"})
    assert response.status_code == 200


def test_tools_list_without_initialize_has_the_20_curated_tools(client: TestClient) -> None:
    tools = tools_by_name(client)
    assert len(tools) == 20
    assert not [name for name in tools if name.startswith(FORBIDDEN_TOOLS) or "batch" in name]
    assert [name for name in tools if name.startswith("auth_")] == ["auth_get_current_user"]
    for tool in tools.values():
        assert tool["inputSchema"]["type"] == "object" and tool["inputSchema"]["additionalProperties"] is False
        assert tool["outputSchema"]["type"] == "object"
    listing = tools["memo_list_memos"]
    assert listing["title"] == "Memo List Memos"
    assert listing["_meta"] == {"operationId": "MemoService_ListMemos", "method": "GET", "path": "/api/v1/memos"}
    assert listing["annotations"] == {"readOnlyHint": True, "idempotentHint": True, "destructiveHint": False,
                                      "openWorldHint": False}
    assert "pageSize" in json.dumps(listing["inputSchema"]) and "memos" in json.dumps(listing["outputSchema"])
    for name, id_field in (("memo_create_memo", "memoId"), ("attachment_create_attachment", "attachmentId")):
        tool = tools[name]
        assert tool["_meta"]["method"] == "POST" and "body" in tool["inputSchema"]["required"]
        assert id_field in tool["inputSchema"]["properties"]
        assert not any(tool["annotations"][hint] for hint in ("readOnlyHint", "destructiveHint", "idempotentHint"))
    for name in ("memo_set_memo_attachments", "memo_set_memo_relations"):
        tool = tools[name]
        assert tool["_meta"]["method"] == "PATCH"
        assert tool["annotations"]["destructiveHint"] and tool["annotations"]["idempotentHint"]
        assert "name" not in tool["inputSchema"]["properties"]["body"]["properties"]
    update = tools["memo_update_memo"]
    assert update["annotations"]["destructiveHint"] and not update["annotations"]["idempotentHint"]
    assert update["inputSchema"]["properties"]["body"]["minProperties"] == 1
    assert tools["memo_create_memo"]["inputSchema"]["properties"]["body"]["required"] == ["content"]
    assert tools["memo_delete_memo"]["outputSchema"] == {"type": "object", "properties": {"ok": {"type": "boolean"}}}


def test_a_tool_call_runs_the_api_with_the_callers_credential(client: TestClient) -> None:
    create_user_row(client, "alice")
    token = bearer(sign_in(client, "alice"))
    result = call_tool(client, "auth_get_current_user", {}, headers=token)
    assert "isError" not in result
    assert result["structuredContent"]["user"]["username"] == "alice"
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]
    anonymous = call_tool(client, "auth_get_current_user", {})
    assert anonymous == {"isError": True, "content": [{"type": "text", "text": "401 Unauthorized: "
                                                                               "authentication required"}]}


def test_shortcuts_tool_and_an_api_404_as_a_tool_error(client: TestClient) -> None:
    create_user_row(client, "alice")
    token = bearer(sign_in(client, "alice"))
    listed = call_tool(client, "shortcut_list_shortcuts", {"user": "users/alice"}, headers=token)
    assert "isError" not in listed and listed["structuredContent"] in ({}, {"shortcuts": []})
    missing = call_tool(client, "shortcut_list_shortcuts", {"user": "nobody"}, headers=token)
    assert missing["isError"] is True and "structuredContent" not in missing
    assert missing["content"][0]["text"].startswith("404 Not Found: ")


@pytest.mark.parametrize(("name", "arguments", "text"), [
    ("memo_list_memos", {"unexpected": 1}, 'unknown argument "unexpected"'),
    ("memo_get_memo", {}, 'missing required argument "memo"'),
    ("memo_list_memos", {"pageSize": "7"}, 'argument "pageSize" must be integer'),
    ("memo_list_memos", {"pageSize": True}, 'argument "pageSize" must be integer'),
    ("memo_create_memo", {}, 'missing required argument "body"'),
    ("memo_update_memo", {"memo": "memos/a", "body": {}},
     "MCP tool arguments do not match input schema: body needs at least 1 property"),
    ("memo_get_memo", {"memo": ""}, 'missing required path parameter "memo"'),
])
def test_bad_arguments_are_tool_errors_without_an_api_call(client: TestClient, name: str, arguments: dict,
                                                           text: str) -> None:
    result = call_tool(client, name, arguments)
    assert result == {"isError": True, "content": [{"type": "text", "text": text}]}


def test_json_rpc_errors(client: TestClient) -> None:
    bad_json = client.post("/mcp", content=b"{nope", headers=HEADERS)
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == -32700
    not_rpc = client.post("/mcp", content=b'{"id": 1, "method": "tools/list"}', headers=HEADERS)
    assert not_rpc.json()["error"]["code"] == -32600
    assert rpc(client, "no/such").json()["error"]["code"] == -32601
    assert rpc(client, "tools/call", {"name": "nope"}).json()["error"]["code"] == -32602
    assert rpc(client, "tools/list", message_id=None).json()["error"]["code"] == -32600
    assert client.post("/mcp", content=b"[]", headers=HEADERS).json()["error"]["code"] == -32600
    assert client.post("/mcp", content=b"\xff\xfe", headers=HEADERS).status_code == 400
    bad_params = client.post("/mcp", content=b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":[1]}',
                             headers=HEADERS)
    assert bad_params.json() == {"jsonrpc": "2.0", "id": 3, "error": {"code": -32602,
                                                                     "message": "params must be an object"}}


def test_notifications_only_get_202_and_batches_get_arrays(client: TestClient) -> None:
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert client.post("/mcp", content=json.dumps(note), headers=HEADERS).status_code == 202
    batch = [note, {"jsonrpc": "2.0", "id": "a", "method": "ping"}]
    response = client.post("/mcp", content=json.dumps(batch), headers=HEADERS)
    assert response.json() == [{"jsonrpc": "2.0", "id": "a", "result": {}}]


def test_transport_rules(client: TestClient) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert client.post("/mcp", content=body, headers={**HEADERS, "content-type": "text/plain"}).status_code == 415
    assert client.post("/mcp", content=body, headers={**HEADERS, "accept": "application/json"}).status_code == 400
    assert client.get("/mcp", headers={"accept": "application/json"}).status_code == 400
    get = client.get("/mcp", headers={"accept": "application/json, text/event-stream"})
    assert get.status_code == 405 and get.headers["allow"] == "POST"
    put = client.put("/mcp", content=body, headers=HEADERS)
    assert put.status_code == 405 and put.headers["allow"] == "POST"
    assert client.delete("/mcp").status_code == 400
    assert client.delete("/mcp", headers={"mcp-session-id": "x"}).status_code == 204
    bad_version = client.post("/mcp", content=body, headers={**HEADERS, "mcp-protocol-version": "2020-01-01"})
    assert bad_version.status_code == 400
    good_version = client.post("/mcp", content=body, headers={**HEADERS, "mcp-protocol-version": "2025-06-18"})
    assert good_version.status_code == 200


@pytest.mark.parametrize(("origin", "host", "status"), [
    (None, "localhost", 200),
    ("http://localhost:8081", "localhost:8081", 200),
    ("https://localhost:8081", "localhost:8081", 200),
    ("https://notes.example.com", "127.0.0.1:5230", 200),
    ("http://notes.example.com", "127.0.0.1:5230", 403),
    ("https://evil.example.com", "localhost", 403),
    ("not a url", "localhost", 403),
    ("null", "localhost", 403),
])
def test_origin_guard(public: TestClient, origin: str | None, host: str, status: int) -> None:
    headers = {"host": host, **({"origin": origin} if origin is not None else {})}
    response = rpc(public, "ping", headers=headers)
    assert response.status_code == status
    if status == 403:
        assert response.content == b""


def test_oversized_requests_are_refused_before_reading(client: TestClient) -> None:
    big = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b"x" * 70_000 + b'"}}'
    response = client.post("/mcp", content=big, headers=HEADERS)
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}
    create_user_row(client, "alice")
    signed_in = client.post("/mcp", content=big, headers={**HEADERS, **bearer(sign_in(client, "alice"))})
    assert signed_in.status_code == 200


def test_over_a_real_connection(tmp_path: pathlib.Path) -> None:
    profile = make_profile(tmp_path / "data")
    with serve_on_loopback(create_app(profile)) as url, httpx.Client(base_url=url, timeout=10) as http:
        create_user_row(pathlib.Path(profile.dsn), "alice")
        assert rpc(http, "initialize", {"protocolVersion": "2025-11-25"}).status_code == 200
        assert len(tools_by_name(http)) == 20
        token = bearer(sign_in(http, "alice"))
        result = call_tool(http, "auth_get_current_user", {}, headers=token)
        assert result["structuredContent"]["user"]["username"] == "alice"


@pytest.fixture(scope="module")
def tools() -> dict:
    from memos.app import API_PACKAGE, load_api_descriptors
    from memos.rpc.methods import MethodTable
    from memos.web.mcp_tools import build_tools

    load_api_descriptors()
    return build_tools(MethodTable.from_package(API_PACKAGE))


@pytest.mark.parametrize(("name", "arguments", "method", "path", "body"), [
    ("memo_list_memos", {"pageSize": 7}, "GET", "/api/v1/memos?pageSize=7", None),
    ("memo_list_memos", {"pageSize": 10, "showDeleted": True}, "GET", "/api/v1/memos?pageSize=10&showDeleted=true",
     None),
    ("memo_update_memo", {"memo": "memos/abc123", "body": {"content": "updated"}}, "PATCH", "/api/v1/memos/abc123",
     {"content": "updated"}),
    ("memo_get_memo", {"memo": "abc123"}, "GET", "/api/v1/memos/abc123", None),
    ("memo_get_memo", {"memo": "attachments/att42"}, "GET", "/api/v1/memos/attachments%2Fatt42", None),
    ("memo_get_memo", {"memo": "abc 123"}, "GET", "/api/v1/memos/abc%20123", None),
    ("memo_delete_memo_reaction", {"memo": "abc123", "reaction": "memos/abc123/reactions/reaction456"}, "DELETE",
     "/api/v1/memos/abc123/reactions/reaction456", None),
    ("memo_set_memo_relations", {"memo": "memos/m1", "body": {"relations": []}}, "PATCH",
     "/api/v1/memos/m1/relations", {"relations": []}),
    ("memo_upsert_memo_reaction", {"memo": "m1", "body": {"reaction": {"reactionType": "+1"}}}, "POST",
     "/api/v1/memos/m1/reactions", {"reaction": {"reactionType": "+1"}}),
    ("shortcut_list_shortcuts", {"user": "users/1"}, "GET", "/api/v1/users/1/shortcuts", None),
    ("memo_create_memo", {"body": {"content": "x"}}, "POST", "/api/v1/memos", {"content": "x"}),
])
def test_tool_requests(tools: dict, name: str, arguments: dict, method: str, path: str, body: Any) -> None:
    request = tools[name].request(arguments)
    assert (request.method, request.path) == (method, path)
    assert (json.loads(request.body) if request.body is not None else None) == body


def test_memo_tools_write_and_read_through_memo_service(public: TestClient) -> None:
    create_user_row(public, "alice")
    create_user_row(public, "bob")
    alice, bob = bearer(sign_in(public, "alice")), bearer(sign_in(public, "bob"))
    created = call_tool(public, "memo_create_memo", {"memoId": "mcp1", "body": {"content": "#work hello",
                                                                                 "visibility": "PRIVATE"}},
                        headers=alice)
    assert "isError" not in created, created
    memo = created["structuredContent"]
    assert memo["name"] == "memos/mcp1" and memo["tags"] == ["work"]
    got = call_tool(public, "memo_get_memo", {"memo": "memos/mcp1"}, headers=alice)
    assert got["structuredContent"]["content"] == "#work hello"
    listed = call_tool(public, "memo_list_memos", {"pageSize": 7, "filter": '"work" in tags'}, headers=alice)
    assert [item["name"] for item in listed["structuredContent"]["memos"]] == ["memos/mcp1"]
    updated = call_tool(public, "memo_update_memo", {"memo": "mcp1", "body": {"content": "changed"}}, headers=alice)
    assert updated["structuredContent"]["content"] == "changed", updated
    # The same access rules as the API: another user may not read or change a PRIVATE memo...
    refused = call_tool(public, "memo_get_memo", {"memo": "mcp1"}, headers=bob)
    assert refused["isError"] is True and refused["content"][0]["text"].startswith("403 Forbidden: ")
    assert call_tool(public, "memo_update_memo", {"memo": "mcp1", "body": {"content": "x"}}, headers=bob)["isError"]
    # ...anonymous callers cannot write, and get what anonymous API clients get.
    anonymous = call_tool(public, "memo_create_memo", {"body": {"content": "x"}})
    assert anonymous["content"][0]["text"] == "401 Unauthorized: authentication required"
    assert call_tool(public, "memo_list_memos", {})["structuredContent"]["memos"] == []
    missing = call_tool(public, "memo_get_memo", {"memo": "nope"}, headers=alice)
    assert missing["isError"] is True and "404" in missing["content"][0]["text"]
    deleted = call_tool(public, "memo_delete_memo", {"memo": "mcp1"}, headers=alice)
    assert deleted["structuredContent"] in ({}, {"ok": True}), deleted
    assert call_tool(public, "memo_get_memo", {"memo": "mcp1"}, headers=alice)["isError"] is True
