"""Which link and image addresses the rendered HTML may carry.

An allow-list of schemes, judged on the address as a browser would read it: after
percent-decoding and with every control character and space removed, so that
``java&#09;script:``, ``JaVaScRiPt:`` and ``%6Aavascript:`` are all seen for what they are.
Addresses without a scheme (relative paths, ``//host``, ``#fragment``, ``?query``) are allowed.
"""
from __future__ import annotations

import re
import urllib.parse

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})

# C0 and C1 controls, space, DEL and the invisible characters browsers drop from addresses.
_INVISIBLE = re.compile("[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\u2060\ufeff]+")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


def safe_url(url: str, schemes: frozenset[str]) -> str | None:
    """``url`` unchanged when its scheme (if any) is in ``schemes``; None otherwise."""
    seen = url
    for _ in range(3):  # nested percent-encoding cannot hide a scheme either
        seen = urllib.parse.unquote(seen)
    seen = _INVISIBLE.sub("", seen).lower()
    scheme = _SCHEME.match(seen)
    if scheme is None:
        # A colon before any "/", "?" or "#" would make the start a scheme to some parser.
        return None if ":" in re.split(r"[/?#]", seen, maxsplit=1)[0] else url
    return url if scheme.group(1) in schemes else None


def is_fragment(url: str) -> bool:
    return url.startswith("#")
