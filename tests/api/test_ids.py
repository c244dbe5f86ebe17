"""Generated ids have Memos' shortuuid shape."""
from __future__ import annotations

from memos.api.ids import SHORT_UUID_ALPHABET, short_uuid


def test_short_uuids_are_22_letters_of_the_alphabet_and_distinct() -> None:
    made = {short_uuid() for _ in range(500)}
    assert len(made) == 500
    assert all(len(uid) == 22 and set(uid) <= set(SHORT_UUID_ALPHABET) for uid in made)
    assert not set(SHORT_UUID_ALPHABET) & set("01IOl")  # no look-alike letters
