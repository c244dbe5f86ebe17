"""JSON and binary encodings of the two transports."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf import empty_pb2

import memos.gen.api.v1.attachment_service_pb2 as attachment_pb
import memos.gen.api.v1.memo_service_pb2 as memo_pb
import memos.gen.api.v1.user_service_pb2 as user_pb
from memos.call import Code, RpcError
from memos.rpc import codec


def _attachment() -> attachment_pb.Attachment:
    attachment = attachment_pb.Attachment(name="attachments/a1", filename="x.txt", type="text/plain", size=5)
    attachment.create_time.FromSeconds(1735689600)
    return attachment


def test_gateway_json_prints_defaults_and_nulls_but_not_unset_optionals() -> None:
    assert json.loads(codec.gateway_json_encode(_attachment())) == {
        "name": "attachments/a1",
        "createTime": "2025-01-01T00:00:00Z",
        "filename": "x.txt",
        "content": "",
        "externalLink": "",
        "type": "text/plain",
        "size": "5",
        "motionMedia": None,
    }


def test_connect_json_leaves_defaults_out() -> None:
    assert json.loads(codec.connect_json_encode(_attachment())) == {
        "name": "attachments/a1",
        "createTime": "2025-01-01T00:00:00Z",
        "filename": "x.txt",
        "type": "text/plain",
        "size": "5",
    }


def test_a_set_optional_field_is_printed_even_when_empty() -> None:
    attachment = _attachment()
    attachment.memo = ""
    assert json.loads(codec.connect_json_encode(attachment))["memo"] == ""
    assert json.loads(codec.gateway_json_encode(attachment))["memo"] == ""


def test_gateway_json_fills_nested_messages_and_enum_zero_names() -> None:
    rendered = json.loads(codec.gateway_json_encode(memo_pb.ListMemosResponse(memos=[memo_pb.Memo(name="memos/1")])))
    memo = rendered["memos"][0]
    assert memo["state"] == "STATE_UNSPECIFIED"
    assert memo["tags"] == [] and memo["pinned"] is False
    assert memo["createTime"] is None and memo["property"] is None
    assert "parent" not in memo and "location" not in memo
    assert rendered["nextPageToken"] == ""


def test_gateway_json_omits_unset_oneof_members() -> None:
    rendered = json.loads(codec.gateway_json_encode(user_pb.UserNotification(name="users/1/notifications/2")))
    assert "memoComment" not in rendered and "memoMention" not in rendered
    assert rendered["senderUser"] is None


def test_gateway_json_renders_maps_of_messages_with_defaults() -> None:
    setting = user_pb.UserSetting.TagsSetting()
    setting.tags["work"].SetInParent()
    rendered = json.loads(codec.gateway_json_encode(setting))
    assert rendered == {"tags": {"work": {"backgroundColor": None, "blurContent": False}}}


def test_empty_renders_as_an_empty_object() -> None:
    assert codec.gateway_json_encode(empty_pb2.Empty()) == b"{}"
    assert codec.connect_json_encode(empty_pb2.Empty()) == b"{}"


def test_json_input_accepts_both_names_and_ignores_unknown_fields() -> None:
    request = codec.connect_json_decode(
        b'{"pageSize": 5, "show_deleted": true, "state": "ARCHIVED", "noSuchField": 1}', memo_pb.ListMemosRequest
    )
    assert (request.page_size, request.show_deleted, request.state) == (5, True, 2)


def test_gateway_json_accepts_enum_numbers_and_int64_strings() -> None:
    user = codec.gateway_json_decode(b'{"role": 2, "name": "users/1"}', user_pb.User)
    assert user.role == 2
    attachment = codec.gateway_json_decode(b'{"size": "12"}', attachment_pb.Attachment)
    assert attachment.size == 12


def test_an_empty_gateway_body_is_an_empty_message() -> None:
    assert codec.gateway_json_decode(b"", memo_pb.ListMemosRequest) == memo_pb.ListMemosRequest()


@pytest.mark.parametrize(
    "body",
    [b"", b"{not json", b'{"pageSize": "many"}', b"[1, 2]", b'{"state": {"x": 1}}', b"\xff\xfe", b"[" * 100000],
)
def test_bad_connect_json_is_invalid_argument(body: bytes) -> None:
    with pytest.raises(RpcError) as raised:
        codec.connect_json_decode(body, memo_pb.ListMemosRequest)
    assert raised.value.code is Code.INVALID_ARGUMENT
    assert raised.value.message


def test_bad_binary_is_invalid_argument() -> None:
    with pytest.raises(RpcError) as raised:
        codec.binary_decode(b"\x0a\xff\xff\xff", memo_pb.GetMemoRequest)
    assert raised.value.code is Code.INVALID_ARGUMENT


def test_binary_round_trip() -> None:
    request = memo_pb.GetMemoRequest(name="memos/1")
    assert codec.binary_decode(codec.binary_encode(request), memo_pb.GetMemoRequest) == request


@pytest.mark.parametrize("decode", [codec.connect_json_decode, codec.gateway_json_decode])
def test_a_repeated_small_body_decodes_alike_every_time(decode: Callable[..., Any]) -> None:
    body = b'{"memo": {}, "updateMask": "content", "unknown": 1}'
    for _ in range(3):
        buffer = bytearray(body)
        request = decode(buffer, memo_pb.UpdateMemoRequest)
        assert request.HasField("memo") and not request.memo.name
        assert list(request.update_mask.paths) == ["content"]
        assert buffer == b""  # the body is let go of, as a large one is
    # The same bytes mean another thing to another message.
    assert decode(b'{"name": "memos/1"}', memo_pb.GetMemoRequest).name == "memos/1"
    assert decode(b'{"name": "memos/1"}', memo_pb.Memo).name == "memos/1"


def test_a_bad_small_body_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(RpcError) as caught:
            codec.connect_json_decode(b'{"pageSize": "many"}', memo_pb.ListMemosRequest)
        assert caught.value.code is Code.INVALID_ARGUMENT
