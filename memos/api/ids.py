"""Ids the server makes up for new resources, shaped like the ones Memos makes."""
from __future__ import annotations

import uuid

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


def shortcut_id() -> str:
    """A shortcut's id: a canonical lower-case UUIDv4 (36 characters with hyphens)."""
    return str(uuid.uuid4())
