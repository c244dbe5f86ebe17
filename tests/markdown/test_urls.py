"""The address allow-list of the rendered HTML."""
from __future__ import annotations

import pytest

from memos.markdown.urls import IMAGE_SCHEMES, LINK_SCHEMES, is_fragment, safe_url


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a?b#c",
        "HTTP://EXAMPLE.COM",
        "mailto:me@example.com",
        "/memos/abc",
        "relative/path.png",
        "./here",
        "../up",
        "//cdn.example.com/x",
        "#section",
        "?q=1",
        "",
        "https://example.com/a:b",
        "/path/with:colon",
    ],
)
def test_allowed_link_addresses_pass_unchanged(url: str) -> None:
    assert safe_url(url, LINK_SCHEMES) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "java%09script:alert(1)",
        "%6Aavascript:alert(1)",
        "%256Aavascript:alert(1)",
        "\x01javascript:alert(1)",
        "java\u200bscript:alert(1)",
        "\ufeffjavascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:image/png;base64,AAAA",
        "file:///etc/passwd",
        "ftp://example.com",
        "unknown:thing",
        "x:y/z",
    ],
)
def test_other_schemes_are_refused_however_disguised(url: str) -> None:
    assert safe_url(url, LINK_SCHEMES) is None


def test_images_take_no_mailto() -> None:
    assert safe_url("mailto:me@example.com", IMAGE_SCHEMES) is None
    assert safe_url("https://example.com/i.png", IMAGE_SCHEMES) == "https://example.com/i.png"


def test_fragments() -> None:
    assert is_fragment("#x") and not is_fragment("/#x")
