"""The character grammar of tags and mentions (spec §10.1 and §10.3).

Standard library only: the parser's inline rules use it, and so may anything else
that needs to recognise a tag or a mention without loading the Markdown engine.
"""
from __future__ import annotations

import unicodedata

TAG_MAX_LENGTH = 100
MENTION_MAX_LENGTH = 63

# Besides letters, numbers, symbols and marks: the joiner that glues emoji sequences
# together, and the four punctuation characters the tag grammar admits.
_TAG_EXTRA_CHARACTERS = frozenset("_-/&\u200d")


def is_tag_character(char: str) -> bool:
    return char in _TAG_EXTRA_CHARACTERS or unicodedata.category(char)[0] in "LNSM"


def tag_body(text: str, start: int, end: int | None = None) -> str:
    """The tag body beginning at text[start] (just after its ``#``); empty when there is none.

    The body is capped at TAG_MAX_LENGTH code points: what follows stays plain text.
    """
    stop = min(len(text) if end is None else end, start + TAG_MAX_LENGTH)
    position = start
    while position < stop and is_tag_character(text[position]):
        position += 1
    return text[start:position]


def _is_mention_character(char: str) -> bool:
    return char == "-" or unicodedata.category(char)[0] in "LN"


def may_start_mention(text: str, at: int) -> bool:
    """Whether an ``@`` at text[at] may open a mention: the character before must not be part of a word."""
    if at == 0:
        return True
    before = text[at - 1]
    return before.isspace() or unicodedata.category(before)[0] in "PSZ"


def mention_body(text: str, start: int, end: int | None = None) -> str:
    """The mention body beginning at text[start] (just after its ``@``); empty when there is none.

    A run longer than MENTION_MAX_LENGTH is no mention at all (not a shortened one), and a run
    of hyphens alone is none either.
    """
    stop = len(text) if end is None else end
    position = start
    while position < stop and _is_mention_character(text[position]):
        position += 1
        if position - start > MENTION_MAX_LENGTH:
            return ""
    body = text[start:position]
    return body if body.strip("-") else ""
