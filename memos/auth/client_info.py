"""What is recorded about the client a refresh token was issued to (shown in session lists)."""
from __future__ import annotations

import re
from collections.abc import Mapping

from memos.gen.store import user_setting_pb2

ClientInfo = user_setting_pb2.RefreshTokensUserSetting.ClientInfo

_TABLET = ("ipad", "tablet")
_MOBILE = ("mobile", "android", "iphone", "ipod", "windows phone", "blackberry")


def _after(text: str, marker: str, stops: str) -> str:
    """The characters following ``marker`` up to the first of ``stops`` (or the end)."""
    start = text.find(marker)
    if start < 0:
        return ""
    rest = text[start + len(marker) :]
    match = re.search(f"[{re.escape(stops)}]", rest)
    return rest[: match.start()] if match else rest


def device_type(ua: str) -> str:
    if any(word in ua for word in _TABLET):
        return "tablet"
    if any(word in ua for word in _MOBILE):
        return "mobile"
    return "desktop"


def _ios(ua: str) -> str:
    for marker in ("cpu os ", "iphone os "):
        version = _after(ua, marker, " ")
        if version:
            return "iOS " + version.replace("_", ".")
    return "iOS"


def operating_system(ua: str) -> str:
    if "iphone os" in ua or "cpu os" in ua:
        return _ios(ua)
    if "android" in ua:
        version = _after(ua, "android ", ";)")
        return f"Android {version}" if version else "Android"
    if "windows nt 10.0" in ua:
        return "Windows 10/11"
    if "windows nt 6.3" in ua:
        return "Windows 8.1"
    if "windows nt 6.1" in ua:
        return "Windows 7"
    if "windows" in ua:
        return "Windows"
    if "mac os x" in ua:
        version = _after(ua, "mac os x ", ";)").replace("_", ".")
        return f"macOS {version}" if version else "macOS"
    if "linux" in ua:
        return "Linux"
    if "cros" in ua:
        return "Chrome OS"
    return ""


def _named(name: str, ua: str, marker: str) -> str:
    version = _after(ua, marker, " ")
    return f"{name} {version}" if version else name


def browser(ua: str) -> str:
    if "edg/" in ua:
        return _named("Edge", ua, "edg/")
    if "chrome/" in ua and "edg" not in ua:
        return _named("Chrome", ua, "chrome/")
    if "firefox/" in ua:
        return _named("Firefox", ua, "firefox/")
    if "safari/" in ua and "chrome" not in ua and "edg" not in ua:
        return _named("Safari", ua, "version/")
    if "opera/" in ua or "opr/" in ua:
        return "Opera"
    return ""


def client_info(headers: Mapping[str, str], address: str | None = None) -> ClientInfo:
    """Client info from call metadata (lower-case header names) and the client's address.

    The address is the one the transport resolved (forwarding headers believed only
    from trusted proxies), not Memos's first X-Forwarded-For entry, which any client
    can write: a session list must not show an address its holder made up.
    """
    user_agent = headers.get("user-agent", "")
    info = ClientInfo(user_agent=user_agent, ip_address=address or "")
    if user_agent:
        lowered = user_agent.lower()
        info.device_type = device_type(lowered)
        info.os = operating_system(lowered)
        info.browser = browser(lowered)
    return info
