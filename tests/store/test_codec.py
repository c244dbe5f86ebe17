from __future__ import annotations

import json

import pytest

from memos.gen.store import instance_setting_pb2 as pb
from memos.gen.store import user_setting_pb2
from memos.store import codec
from memos.store.errors import InvalidValue, StoreError


def test_json_is_compact_camel_case_without_defaults_and_int64_as_string() -> None:
    storage = pb.InstanceStorageSetting(storage_type=pb.InstanceStorageSetting.LOCAL, upload_size_limit_mb=30)
    assert codec.to_json(storage) == '{"storageType":"LOCAL","uploadSizeLimitMb":"30"}'
    assert codec.to_json(pb.InstanceGeneralSetting()) == "{}"


def test_json_keeps_emoji_as_text() -> None:
    related = pb.InstanceMemoRelatedSetting(reactions=["👍"])
    assert codec.to_json(related) == '{"reactions":["👍"]}'


def test_reading_ignores_unknown_keys_and_enum_names_and_accepts_int64_numbers() -> None:
    text = '{"storageType":"SOMEDAY","uploadSizeLimitMb":12,"legacyField":true}'
    storage = codec.from_json(text, pb.InstanceStorageSetting(), where="test")
    assert storage.upload_size_limit_mb == 12
    assert storage.storage_type == pb.InstanceStorageSetting.STORAGE_TYPE_UNSPECIFIED


def test_unreadable_json_is_a_store_error_naming_the_row() -> None:
    with pytest.raises(StoreError, match="instance setting GENERAL"):
        codec.decode_instance_setting("GENERAL", "{not json")


def test_setting_keys_by_name_or_number_and_nothing_else() -> None:
    assert codec.instance_setting_name("STORAGE") == "STORAGE"
    assert codec.instance_setting_name(pb.MEMO_RELATED) == "MEMO_RELATED"
    for bad in ("general", "", "INSTANCE_SETTING_KEY_UNSPECIFIED", 0, 99):
        with pytest.raises(InvalidValue):
            codec.instance_setting_name(bad)
    assert codec.user_setting_name("TAGS") == "TAGS"
    with pytest.raises(InvalidValue):
        codec.user_setting_name("ACCESS_TOKENS")


def test_instance_setting_round_trip_stores_only_the_inner_message() -> None:
    setting = pb.InstanceSetting(key=pb.GENERAL, general_setting=pb.InstanceGeneralSetting(week_start_day_offset=1))
    name, value = codec.encode_instance_setting(setting)
    assert (name, json.loads(value)) == ("GENERAL", {"weekStartDayOffset": 1})
    assert codec.decode_instance_setting(name, value) == setting


def test_a_value_of_the_wrong_group_is_refused() -> None:
    setting = pb.InstanceSetting(key=pb.GENERAL, storage_setting=pb.InstanceStorageSetting())
    with pytest.raises(InvalidValue):
        codec.encode_instance_setting(setting)


def test_user_setting_round_trip() -> None:
    setting = user_setting_pb2.UserSetting(
        user_id=3,
        key=user_setting_pb2.UserSetting.GENERAL,
        general=user_setting_pb2.GeneralUserSetting(locale="de", theme="paper"),
    )
    user_id, key, value = codec.encode_user_setting(setting)
    assert (user_id, key, json.loads(value)) == (3, "GENERAL", {"locale": "de", "theme": "paper"})
    assert codec.decode_user_setting(user_id, key, value) == setting


def test_storage_read_defaults() -> None:
    effective = codec.with_read_defaults(codec.empty_instance_setting("STORAGE")).storage_setting
    assert effective.storage_type == pb.InstanceStorageSetting.LOCAL
    assert effective.upload_size_limit_mb == 30
    assert effective.filepath_template == "assets/{timestamp}_{uuid}_{filename}"
    kept = pb.InstanceSetting(
        key=pb.STORAGE,
        storage_setting=pb.InstanceStorageSetting(
            storage_type=pb.InstanceStorageSetting.DATABASE, upload_size_limit_mb=5
        ),
    )
    effective = codec.with_read_defaults(kept).storage_setting
    assert (effective.storage_type, effective.upload_size_limit_mb) == (pb.InstanceStorageSetting.DATABASE, 5)


def test_memo_related_defaults_raise_the_length_floor_and_fill_reactions() -> None:
    low = pb.InstanceSetting(
        key=pb.MEMO_RELATED, memo_related_setting=pb.InstanceMemoRelatedSetting(content_length_limit=100)
    )
    effective = codec.with_read_defaults(low).memo_related_setting
    assert effective.content_length_limit == 8192
    assert list(effective.reactions) == ["👍", "👎", "❤️", "🎉", "😄", "😕", "😢", "😡"]
    high = pb.InstanceSetting(
        key=pb.MEMO_RELATED,
        memo_related_setting=pb.InstanceMemoRelatedSetting(content_length_limit=20000, reactions=["+1"]),
    )
    effective = codec.with_read_defaults(high).memo_related_setting
    assert (effective.content_length_limit, list(effective.reactions)) == (20000, ["+1"])


def test_defaults_make_groups_present_and_leave_the_input_alone() -> None:
    stored = codec.empty_instance_setting("NOTIFICATION")
    stored.ClearField("notification_setting")
    effective = codec.with_read_defaults(stored)
    assert effective.notification_setting.HasField("email")
    assert not stored.HasField("notification_setting")
    for name in ("GENERAL", "TAGS", "AI", "BASIC"):
        effective = codec.with_read_defaults(codec.empty_instance_setting(name))
        assert effective.WhichOneof("value") == codec.INSTANCE_SETTING_FIELDS[name]
        assert codec.to_json(getattr(effective, codec.INSTANCE_SETTING_FIELDS[name])) == "{}"


def test_memo_payloads_decode_the_same_each_time_into_separate_messages() -> None:
    text = '{"tags":["work","测"],"property":{"hasCode":true},"location":{"latitude":1.5},"unknownKey":1}'
    first = codec.decode_memo_payload(text, where="memo a")
    first.tags.append("changed")
    again = codec.decode_memo_payload(text, where="memo b")
    assert list(again.tags) == ["work", "测"]
    assert again.HasField("property") and again.property.has_code and again.location.latitude == 1.5
    assert codec.decode_memo_payload("", where="memo c") == codec.decode_memo_payload("{}", where="memo d")


def test_unreadable_memo_payload_names_its_memo_every_time() -> None:
    for where in ("memo x", "memo y"):
        with pytest.raises(StoreError, match=where):
            codec.decode_memo_payload("{not json", where=where)
