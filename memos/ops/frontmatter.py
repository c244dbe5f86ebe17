"""The Markdown file of one exported memo: front matter, then the content exactly as stored.

::

    ---
    uid: "abc123"
    creator: "alice"
    created: "2024-05-01T09:30:00Z"
    tags: ["work", "ideas"]
    ---
    The memo's content...

Each front matter line is ``key: <JSON value>``. JSON values are valid YAML, so other
Markdown tools read the header too, and it parses back without a YAML library.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

FENCE = "---"


class FrontMatterError(ValueError):
    """The header is not in this format; the message says where."""


def render(fields: Mapping[str, Any], content: str) -> str:
    lines = [FENCE, *(f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in fields.items()), FENCE]
    return "\n".join(lines) + "\n" + content


def parse(text: str) -> tuple[dict[str, Any], str]:
    """(fields, content) of a file written by ``render``; FrontMatterError otherwise."""
    if not text.startswith(FENCE + "\n"):
        raise FrontMatterError("it does not start with a '---' front matter line")
    end = text.find("\n" + FENCE + "\n", len(FENCE))
    if end < 0:
        if text.endswith("\n" + FENCE):
            end = len(text) - len(FENCE) - 1
        else:
            raise FrontMatterError("its front matter has no closing '---' line")
    header = text[len(FENCE) + 1:end]
    content = text[end + len(FENCE) + 2:]
    fields: dict[str, Any] = {}
    for number, line in enumerate(header.split("\n"), start=2):
        if not line.strip():
            continue
        key, separator, value = line.partition(": ")
        if not separator or not key.isidentifier():
            raise FrontMatterError(f"front matter line {number} is not 'key: value'")
        try:
            fields[key] = json.loads(value)
        except ValueError:
            raise FrontMatterError(f"front matter line {number} ({key}) does not hold a JSON value") from None
    return fields, content
