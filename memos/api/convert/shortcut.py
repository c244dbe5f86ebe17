"""memos.store shortcuts (entries of the SHORTCUTS user setting) <-> memos.api.v1.Shortcut."""
from __future__ import annotations

from memos.gen.api.v1 import shortcut_service_pb2 as api
from memos.gen.store import user_setting_pb2 as store_pb

StoreShortcut = store_pb.ShortcutsUserSetting.Shortcut


def shortcut_name(username: str, shortcut_id: str) -> str:
    return f"users/{username}/shortcuts/{shortcut_id}"


def shortcut_to_message(username: str, shortcut: StoreShortcut) -> api.Shortcut:
    return api.Shortcut(name=shortcut_name(username, shortcut.id), title=shortcut.title, filter=shortcut.filter)
