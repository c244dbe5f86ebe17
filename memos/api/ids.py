"""Ids the server makes up for new resources, shaped like the ones Memos makes."""
from __future__ import annotations

import re
import uuid

from memos.call import Code, RpcError

# Memos' shortuuid ids: a UUIDv4 written in this 57-letter alphabet, 22 letters long.
SHORT_UUID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
SHORT_UUID_LENGTH = 22


def short_uuid() -> str:
    number = uuid.uuid4().int
    digits = []
    while number:
        number, digit = divmod(number, len(SHORT_UUID_ALPHABET))
        digits.append(SHORT_UUID_ALPHABET[digit])
    # Padded with the zero digit to the fixed length, most significant digit first.
    return "".join(reversed(digits)).rjust(SHORT_UUID_LENGTH, SHORT_UUID_ALPHABET[0])


# A client-chosen memo or attachment id: 1-36 letters, digits or hyphens, alphanumeric at both ends.
_CLIENT_UID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,34}[A-Za-z0-9])?")
INVALID_UID_MESSAGE = (
    "invalid UID: must be 1-36 characters, contain only letters, digits, or hyphens, "
    "and start and end with a letter or digit"
)


def chosen_or_new_uid(requested: str) -> str:
    """The uid a create request asks for (trimmed), or a new short UUID when it asks for none.

    INVALID_ARGUMENT ``invalid UID: ...`` when the requested one breaks the rule (spec §0.2).
    """
    uid = requested.strip()
    if not uid:
        return short_uuid()
    if not uid.isascii() or _CLIENT_UID.fullmatch(uid) is None:
        raise RpcError(Code.INVALID_ARGUMENT, INVALID_UID_MESSAGE)
    return uid


def shortcut_id() -> str:
    """A shortcut's id: a canonical lower-case UUIDv4 (36 characters with hyphens)."""
    return str(uuid.uuid4())
