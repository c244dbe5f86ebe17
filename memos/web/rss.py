"""RSS 2.0 feeds of public memos (spec server.md §14): ``/explore/rss.xml`` and ``/u/{username}/rss.xml``.

Only on a public instance. Items are the newest 100 PUBLIC, NORMAL, top-level memos (of one
user for the user feed), read through the store with the visibility an anonymous visitor
has; their HTML comes from the same stored rendering the web UI gets (``rendered_html``),
so a feed renders nothing that was already rendered at write time.

Everything taken from memos is escaped: text and attributes as XML, the HTML of
``content:encoded`` inside CDATA with every ``]]>`` split, and characters XML 1.0 cannot
carry (most control characters) dropped, so any content gives a well-formed document.
"""
from __future__ import annotations

import datetime
import email.utils
import hashlib
import re
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from memos.api.memo_html import rendered_html
from memos.api.visibility import visibilities_of_others
from memos.profile import Profile
from memos.store import Attachment, FindMemo, FindUser, Memo, Store, User
from memos.web.errors import echo_error

FEED_SIZE = 100
CACHE_SECONDS = 3600
CACHE_FEEDS = 50
TITLE_BYTES = 100
DEFAULT_TITLE = "Memos"
DEFAULT_DESCRIPTION = "An open source, lightweight note-taking service. Easily capture and share your great thoughts."
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
MEDIA_TYPE = "application/rss+xml; charset=utf-8"

# What XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEADING_MARKS = re.compile(r"^#{1,6}\s*")


def xml_text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def xml_attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub("", value))


def cdata(value: str) -> str:
    return "<![CDATA[" + _NOT_XML.sub("", value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def item_title(content: str) -> str:
    """The first line, without a leading heading mark, cut to about 100 bytes at a space."""
    line = _HEADING_MARKS.sub("", content.split("\n", 1)[0].strip()).strip()
    raw = line.encode("utf-8", "surrogatepass")
    if len(raw) > TITLE_BYTES:
        space = raw.rfind(b" ", 1, TITLE_BYTES)
        raw = raw[:space] if space > 0 else raw[:TITLE_BYTES]
        line = raw.decode("utf-8", "ignore") + "..."
    return line or "Memo"


def rfc1123(ts: int) -> str:
    """RFC 1123 with a numeric zone, in the server's local time zone."""
    return email.utils.format_datetime(datetime.datetime.fromtimestamp(ts).astimezone())


def http_date(ts: int) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def request_base_url(request: Request) -> str:
    """Scheme and Host of the request, as the feed's links use them (the instance URL is not)."""
    headers = request.headers
    scheme = "https" if request.url.scheme == "https" else ""
    scheme = scheme or headers.get("x-forwarded-proto") or headers.get("x-forwarded-protocol") or ""
    if not scheme and headers.get("x-forwarded-ssl") == "on":
        scheme = "https"
    scheme = scheme or headers.get("x-url-scheme") or "http"
    return f"{scheme}://{headers.get('host', '')}"


@dataclass(frozen=True)
class FeedItem:
    memo: Memo
    html: str
    author: str
    attachment: Attachment | None


def _enclosure(base: str, attachment: Attachment | None) -> str:
    if attachment is None or not attachment.type:
        return ""
    if attachment.storage_type in ("S3", "EXTERNAL"):
        url = attachment.reference
    else:
        url = f"{base}/file/attachments/{attachment.uid}/{urllib.parse.quote(attachment.filename)}"
    return (
        f"      <enclosure url={xml_attr(url)} length={xml_attr(str(attachment.size))}"
        f" type={xml_attr(attachment.type)}></enclosure>\n"
    )


def render_feed(base: str, title: str, description: str, items: Sequence[FeedItem], now: int) -> str:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<rss version="2.0" xmlns:content="{CONTENT_NS}">\n',
        "  <channel>\n",
        f"    <title>{xml_text(title)}</title>\n",
        f"    <link>{xml_text(base)}</link>\n",
        f"    <description>{xml_text(description)}</description>\n",
        f"    <pubDate>{rfc1123(now)}</pubDate>\n",
    ]
    for item in items:
        link = f"{base}/memos/{item.memo.uid}"
        parts += [
            "    <item>\n",
            f"      <title>{xml_text(item_title(item.memo.content))}</title>\n",
            f"      <link>{xml_text(link)}</link>\n",
            f"      <description>{xml_text(item.html)}</description>\n",
            f"      <content:encoded>{cdata(item.html)}</content:encoded>\n",
            f"      <author>{xml_text(item.author)}</author>\n",
            f"      <guid>{xml_text(link)}</guid>\n",
            f"      <pubDate>{rfc1123(item.memo.created_ts)}</pubDate>\n",
            _enclosure(base, item.attachment),
            "    </item>\n",
        ]
    parts += ["  </channel>\n", "</rss>"]
    return "".join(parts)


@dataclass(frozen=True)
class CachedFeed:
    body: bytes
    etag: str
    last_modified: str | None
    expires: float


class FeedCache:
    """At most ``CACHE_FEEDS`` feeds for an hour each; the oldest goes first."""

    def __init__(self) -> None:
        self._feeds: OrderedDict[str, CachedFeed] = OrderedDict()

    def get(self, key: str) -> CachedFeed | None:
        feed = self._feeds.get(key)
        if feed is not None and feed.expires <= time.monotonic():
            del self._feeds[key]
            return None
        return feed

    def put(self, key: str, feed: CachedFeed) -> None:
        self._feeds.pop(key, None)
        self._feeds[key] = feed
        while len(self._feeds) > CACHE_FEEDS:
            self._feeds.popitem(last=False)


class Feeds:
    def __init__(self, store: Store, profile: Profile) -> None:
        self._store = store
        self._profile = profile
        self.cache = FeedCache()

    async def explore(self, request: Request) -> Response:
        return await self._answer(request, "explore", None)

    async def user(self, request: Request) -> Response:
        return await self._answer(request, "user:" + request.path_params["username"], request.path_params["username"])

    async def _answer(self, request: Request, key: str, username: str | None) -> Response:
        if not self._profile.is_public:
            return echo_error(404, "RSS is unavailable")
        cached = self.cache.get(key)
        if cached is not None and request.headers.get("if-none-match") == cached.etag:
            return Response(status_code=304, headers=self._headers(cached))
        if cached is None:
            creator_id = None
            if username is not None:
                user = await self._store.users.get(FindUser(username=username))
                if user is None:
                    return echo_error(404, "User not found")
                creator_id = user.id
            cached = await self._build(request_base_url(request), creator_id)
            self.cache.put(key, cached)
        return Response(cached.body, media_type=MEDIA_TYPE, headers=self._headers(cached))

    @staticmethod
    def _headers(feed: CachedFeed) -> dict[str, str]:
        headers = {"Cache-Control": f"public, max-age={CACHE_SECONDS}", "ETag": feed.etag}
        if feed.last_modified is not None:
            headers["Last-Modified"] = feed.last_modified
        return headers

    async def _build(self, base: str, creator_id: int | None) -> CachedFeed:
        find = FindMemo(creator_id=creator_id, visibilities=visibilities_of_others(None), limit=FEED_SIZE)
        memos = await self._store.memos.find(find)
        html = await rendered_html(self._store, memos)
        attachments = await self._store.attachments.find_by_memo_ids([memo.id for memo in memos], per_memo_limit=1)
        authors = await self._authors({memo.creator_id for memo in memos})
        items = [
            FeedItem(memo, html[memo.id], authors.get(memo.creator_id, ""), next(iter(attachments[memo.id]), None))
            for memo in memos
        ]
        title, description = await self._channel_text()
        body = render_feed(base, title, description, items, int(time.time())).encode("utf-8")
        return CachedFeed(
            body=body,
            etag='"' + hashlib.sha256(body).hexdigest()[:16] + '"',
            last_modified=http_date(memos[0].updated_ts) if memos else None,
            expires=time.monotonic() + CACHE_SECONDS,
        )

    async def _authors(self, creator_ids: set[int]) -> dict[int, str]:
        authors: dict[int, str] = {}
        for creator_id in creator_ids:
            user: User | None = await self._store.users.get(FindUser(id=creator_id))
            if user is not None:
                authors[creator_id] = user.nickname or user.username
        return authors

    async def _channel_text(self) -> tuple[str, str]:
        general = (await self._store.instance_settings.get("GENERAL")).general_setting
        if general.HasField("custom_profile"):
            return general.custom_profile.title, general.custom_profile.description
        return DEFAULT_TITLE, DEFAULT_DESCRIPTION


def rss_routes(store: Store, profile: Profile) -> list[BaseRoute]:
    feeds = Feeds(store, profile)
    return [
        Route("/explore/rss.xml", feeds.explore, methods=["GET"]),
        Route("/u/{username}/rss.xml", feeds.user, methods=["GET"]),
    ]
