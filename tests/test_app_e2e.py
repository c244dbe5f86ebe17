"""The real server process, as a user starts it: `python -m memos` on a data directory."""
from __future__ import annotations

import pathlib
import shutil
import sys

import httpx
from google.protobuf import json_format
from support import connect_call, running_server

from memos.gen.api.v1 import instance_service_pb2 as api
from memos.gen.api.v1 import memo_service_pb2

PROFILE = "/memos.api.v1.InstanceService/GetInstanceProfile"


def test_health_and_profile_on_an_empty_data_directory(server_url: str) -> None:
    with httpx.Client(base_url=server_url) as client:
        health = client.get("/healthz")
        assert (health.status_code, health.text) == (200, "Service ready.")
        rest = client.get("/api/v1/instance/profile").json()
        as_json = connect_call(client, PROFILE, api.GetInstanceProfileRequest(), api.InstanceProfile, "json")
        as_binary = connect_call(
            client, PROFILE, api.GetInstanceProfileRequest(), api.InstanceProfile, "proto", gzip_request=True,
            headers={"accept-encoding": "gzip"},
        )
    assert as_json == as_binary
    assert json_format.MessageToDict(as_json) == {k: v for k, v in rest.items() if v not in ("", False, None)}
    assert rest["needsSetup"] is True


def test_the_server_process_lists_memos_on_both_transports(tmp_path: pathlib.Path) -> None:
    command = [sys.executable, "-m", "memos"]
    with running_server(command, tmp_path / "data", "--instance-url", "http://memos.test") as url:
        with httpx.Client(base_url=url) as client:
            connect = client.post(
                "/memos.api.v1.MemoService/ListMemos",
                content=memo_service_pb2.ListMemosRequest().SerializeToString(),
                headers={"content-type": "application/proto"},
            )
            rest = client.get("/api/v1/memos")
    assert connect.status_code == 200 and connect.headers["content-type"] == "application/proto"
    assert memo_service_pb2.ListMemosResponse.FromString(connect.content) == memo_service_pb2.ListMemosResponse()
    assert rest.status_code == 200 and rest.json() == {"memos": [], "nextPageToken": ""}


def test_serves_a_copy_of_a_memos_demo_database(demo_data_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    import apsw

    data_dir = tmp_path / "copy"
    shutil.copytree(demo_data_dir, data_dir)
    with running_server([sys.executable, "-m", "memos"], data_dir) as url:
        profile = httpx.get(f"{url}/api/v1/instance/profile").json()
    assert profile["admin"]["username"] == "steven" and profile["needsSetup"] is False
    connection = apsw.Connection(str(data_dir / "memos_prod.db"))
    try:
        memos = connection.execute("SELECT count(*) FROM memo").fetchone()[0]
        settings = [name for (name,) in connection.execute("SELECT name FROM system_setting ORDER BY name")]
    finally:
        connection.close()
    assert memos == 31 and settings == ["BASIC", "MEMO_RELATED"]


def test_a_second_start_keeps_the_secret_and_the_data(tmp_path: pathlib.Path) -> None:
    import apsw

    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "memos"]

    def basic_row() -> str:
        connection = apsw.Connection(str(data_dir / "memos_prod.db"))
        try:
            return connection.execute("SELECT value FROM system_setting WHERE name = 'BASIC'").fetchone()[0]
        finally:
            connection.close()

    with running_server(command, data_dir):
        pass
    first = basic_row()
    with running_server(command, data_dir):
        pass
    assert basic_row() == first and '"secretKey"' in first and '"schemaVersion":"0.30.1"' in first.replace(" ", "")


def test_connectrpc_client_reads_the_profile_from_the_real_server(server_url: str) -> None:
    from support import connect_method, connect_peer

    method = connect_method(
        "memos.api.v1.InstanceService", "GetInstanceProfile", api.GetInstanceProfileRequest, api.InstanceProfile
    )
    answers = []
    for codec_name in ("proto", "json"):
        with connect_peer(server_url, codec_name, gzip_requests=True) as client:
            answers.append(client.execute_unary(request=api.GetInstanceProfileRequest(), method=method))
    assert answers[0] == answers[1] and answers[0].version == "0.30.0" and answers[0].needs_setup
