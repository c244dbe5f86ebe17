"""Client info recorded with a refresh token: the spec's User-Agent examples and the address rule."""
from __future__ import annotations

import pytest

from memos.auth.client_info import client_info

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36"
)
SAFARI_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"  # noqa: E501 (real user agents, kept whole)
CHROME_ANDROID = "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36"  # noqa: E501 (real user agents, kept whole)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"  # noqa: E501 (real user agents, kept whole)
IPAD = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"  # noqa: E501 (real user agents, kept whole)
EDGE = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.0.0"  # noqa: E501 (real user agents, kept whole)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:119.0) Gecko/20100101 Firefox/119.0"


@pytest.mark.parametrize(
    ("agent", "device", "os", "browser"),
    [
        (CHROME_WINDOWS, "desktop", "Windows 10/11", "Chrome 119.0.0.0"),
        (SAFARI_MAC, "desktop", "macOS 10.15.7", "Safari 17.0"),
        (CHROME_ANDROID, "mobile", "Android 13", "Chrome 119.0.0.0"),
        (IPHONE, "mobile", "iOS 17.0", "Safari 17.0"),
        (IPAD, "tablet", "iOS 17.0", "Safari 17.0"),
        (EDGE, "desktop", "Windows 10/11", "Edge 119.0.0.0"),
        (FIREFOX, "desktop", "Linux", "Firefox 119.0"),
        ("Mozilla/5.0 (Windows NT 6.1) Opera/9.80", "desktop", "Windows 7", "Opera"),
        ("Mozilla/5.0 (Windows NT 6.3; WOW64) OPR/100", "desktop", "Windows 8.1", "Opera"),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0)", "desktop", "Chrome OS", ""),
        ("curl/8.5.0", "desktop", "", ""),
    ],
)
def test_user_agent_examples(agent: str, device: str, os: str, browser: str) -> None:
    info = client_info({"user-agent": agent})
    assert (info.user_agent, info.device_type, info.os, info.browser) == (agent, device, os, browser)


def test_versions_are_lower_case_because_parsing_is() -> None:
    assert client_info({"user-agent": "Foo Chrome/119.0.ABC"}).browser == "Chrome 119.0.abc"


def test_no_user_agent_means_nothing_parsed() -> None:
    info = client_info({})
    assert (info.user_agent, info.device_type, info.os, info.browser, info.ip_address) == ("", "", "", "", "")


def test_the_address_is_the_resolved_client_not_a_header_claim() -> None:
    # Safer than Memos (first X-Forwarded-For entry, else X-Real-Ip): what a client writes there is not recorded.
    forged = {"x-forwarded-for": " 203.0.113.9 , 10.0.0.1", "x-real-ip": "198.51.100.1"}
    assert client_info(forged, "192.0.2.44").ip_address == "192.0.2.44"
    assert client_info(forged).ip_address == ""
