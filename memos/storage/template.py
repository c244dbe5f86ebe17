"""The STORAGE setting's filepath template: where a new attachment's file (or S3 object) goes.

Placeholders are lower-case words in braces. ``{filename}`` is the attachment's
filename, ``{timestamp}`` Unix seconds, ``{year}``..``{second}`` the server's local
time (two digits but the year), ``{uuid}`` a fresh random UUID at each occurrence.
Any other ``{word}`` stays as written. A template without ``{filename}`` gets it as
a last path element, so two uploads never share a name by accident.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

FILENAME = "{filename}"
_PLACEHOLDER = re.compile(r"\{([a-z]+)\}")


def expand_template(
    template: str, filename: str, now: dt.datetime, *, new_uuid: Callable[[], str] = lambda: str(uuid.uuid4())
) -> str:
    """The path (or object key) ``template`` names for ``filename`` at ``now`` (an aware local time)."""
    if FILENAME not in template:
        template = f"{template}/{FILENAME}"
    fixed = {
        "filename": filename,
        "timestamp": str(int(now.timestamp())),
        "year": f"{now.year:04d}",
        "month": f"{now.month:02d}",
        "day": f"{now.day:02d}",
        "hour": f"{now.hour:02d}",
        "minute": f"{now.minute:02d}",
        "second": f"{now.second:02d}",
    }

    def substitute(match: re.Match[str]) -> str:
        word = match.group(1)
        if word == "uuid":
            return new_uuid()
        return fixed.get(word, match.group(0))

    return _PLACEHOLDER.sub(substitute, template)
