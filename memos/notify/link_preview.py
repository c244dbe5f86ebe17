"""Link previews: the title, description and image a web page announces in its head.

The URL comes from a user, so the fetch is fenced: http and https only; every
hop (the first request and each redirect, at most ``MAX_REDIRECTS``) goes
through the address guard of webhooks, which resolves the host, refuses
private and reserved addresses and connects to exactly the address it checked;
one deadline covers the whole fetch; only ``text/html`` answers are read, and
only up to ``MAX_HTML_BYTES`` (after decompression, which is bounded too),
stopping at ``<body>``. The HTML is parsed with the standard library's
tokenizer: nothing in the page is run or followed.
"""
from __future__ import annotations

import asyncio
import codecs
import dataclasses
import html.parser
import logging
import urllib.parse
import zlib
from collections.abc import AsyncIterator
from typing import Any

from memos.notify.netguard import AddressGuard, BlockedAddressError, GuardedClient

log = logging.getLogger(__name__)

MAX_REDIRECTS = 10
TIMEOUT_SECONDS = 5.0
MAX_HTML_BYTES = 512 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Sent so a page can tell what asks; some sites answer bare clients with a challenge page instead.
_USER_AGENT = "Mozilla/5.0 (compatible; memos.pyz link preview)"


class LinkFetchError(Exception):
    """The page could not be fetched or is not an HTML page; ``str()`` is the reason, for the client."""


@dataclasses.dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str = ""
    description: str = ""
    image: str = ""


class LinkPreviewer:
    """Fetches pages for link previews through one HTTP client, opened on first use, closed with ``close``."""

    def __init__(
        self,
        guard: AddressGuard,
        *,
        timeout: float = TIMEOUT_SECONDS,
        max_bytes: int = MAX_HTML_BYTES,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self._guard = guard
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._http = GuardedClient()

    async def fetch(self, url: str) -> PageMetadata:
        """The metadata of the page at ``url``; LinkFetchError with the reason when it cannot be had."""
        try:
            async with asyncio.timeout(self._timeout):
                meta = await self._fetch(url)
        except TimeoutError:
            raise LinkFetchError(f"no complete answer within {self._timeout:g} seconds") from None
        return _with_video_thumbnail(url, meta)

    async def close(self) -> None:
        await self._http.close()

    async def _fetch(self, url: str) -> PageMetadata:
        import httpx

        response = await self._open(url)
        try:
            media_type, charset = _content_type(response.headers.get("content-type", ""))
            if media_type != "text/html":
                raise LinkFetchError(f"not an HTML page (content type {media_type or 'missing'!r})")
            head = _HeadParser()
            async for text in _decoded_text(response, charset, self._max_bytes):
                # The tokenizer is pure Python: hostile markup costs up to a second per 512 KiB, which
                # must not stall every other request, so it runs beside the event loop.
                await asyncio.to_thread(head.feed_safely, text)
                if head.done:
                    break
            return head.metadata()
        except httpx.HTTPError as exc:
            raise LinkFetchError(f"reading the page failed: {_describe(exc)}") from None
        finally:
            await response.aclose()

    async def _open(self, url: str) -> Any:
        """The streamed answer at the end of the redirect chain, each hop checked by the guard."""
        import httpx

        client = self._http.get()
        target = _checked_url(url)
        for _hop in range(self._max_redirects + 1):
            try:
                request = await self._guard.build_request(
                    client, "GET", str(target), headers=_REQUEST_HEADERS, timeout=self._timeout
                )
                response = await client.send(request, stream=True)
            except BlockedAddressError:
                raise LinkFetchError(f"{target.host} resolves to a reserved or private IP address") from None
            except (OSError, UnicodeError) as exc:
                raise LinkFetchError(f"{target.host} could not be resolved: {exc}") from None
            except httpx.HTTPError as exc:
                raise LinkFetchError(f"request failed: {_describe(exc)}") from None
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or location is None:
                return response
            await response.aclose()
            # Relative to the URL as asked for: the request itself went to the pinned address.
            try:
                target = _checked_url(str(target.join(location)))
            except httpx.InvalidURL:
                raise LinkFetchError(f"redirected to an invalid URL: {location!r}") from None
        raise LinkFetchError(f"more than {self._max_redirects} redirects")

_REQUEST_HEADERS = {
    "User-Agent": _USER_AGENT,
    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    # gzip and deflate are inflated here with a bound; other codings could not be.
    "Accept-Encoding": "gzip, deflate",
}


def _checked_url(url: str) -> Any:
    """``url`` as an ``httpx.URL`` when it is an absolute http(s) URL with a host; LinkFetchError otherwise."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise LinkFetchError(f"invalid URL: {exc}") from None
    if parsed.scheme not in ("http", "https"):
        raise LinkFetchError(f'only http and https URLs can be fetched, not "{parsed.scheme}"')
    if not parsed.host:
        raise LinkFetchError("the URL has no host")
    return parsed


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _content_type(header: str) -> tuple[str, str]:
    """(media type in lower case, charset or "") of a Content-Type header."""
    media_type, _, params = header.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    return media_type.strip().lower(), charset


async def _decoded_text(response: Any, charset: str, max_bytes: int) -> AsyncIterator[str]:
    """The body as text, at most ``max_bytes`` bytes of it (counted after decompression)."""
    inflate = _inflater(response.headers.get("content-encoding", ""))
    try:
        decoder = codecs.getincrementaldecoder(charset or "utf-8")(errors="replace")
    except LookupError:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    left = max_bytes
    async for raw in response.aiter_raw():
        try:
            data = inflate(raw, left) if inflate is not None else raw[:left]
        except zlib.error as exc:
            raise LinkFetchError(f"the page is not validly compressed: {exc}") from None
        left -= len(data)
        yield decoder.decode(data)
        if left <= 0:
            return
    yield decoder.decode(b"", True)


def _inflater(encoding: str) -> Any:
    """A bounded decompressor for the Content-Encoding (None: none); LinkFetchError for one not offered."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise LinkFetchError(f"unsupported content encoding {encoding!r}")
    # 32 + MAX_WBITS reads either a gzip or a zlib header.
    state = zlib.decompressobj(32 + zlib.MAX_WBITS)

    def inflate(raw: bytes, limit: int) -> bytes:
        # max_length bounds the output: a small bomb cannot expand past what is read anyway.
        return state.decompress(raw, max(limit, 1))[:limit]

    return inflate


class _HeadParser(html.parser.HTMLParser):
    """Collects ``<title>`` and the ``<meta>`` tags a preview uses, up to ``<body>``."""

    _WANTED = frozenset({"og:title", "og:description", "og:image", "description"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.done = False
        self._title: list[str] | None = None  # collecting while inside the first <title>
        self._title_text = ""
        self._meta: dict[str, str] = {}

    def feed_safely(self, text: str) -> None:
        try:
            self.feed(text)
        except Exception:  # the tokenizer's own assertion on broken markup: keep what was found
            log.debug("link preview: stopped parsing broken markup", exc_info=True)
            self.done = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        if tag == "body":
            self.done = True
        elif tag == "title" and self._title is None and not self._title_text:
            self._title = []
        elif tag == "meta":
            self._take_meta(dict(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title is not None:
            self._title_text = "".join(self._title).strip()
            self._title = None

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self._title.append(data)

    def _take_meta(self, attrs: dict[str, str | None]) -> None:
        content = attrs.get("content")
        if content is None:
            return
        for attribute in ("property", "name"):
            key = (attrs.get(attribute) or "").strip().lower()
            if key in self._WANTED and key not in self._meta:
                self._meta[key] = content.strip()

    def metadata(self) -> PageMetadata:
        title = self._title_text or ("".join(self._title).strip() if self._title else "")
        return PageMetadata(
            title=self._meta.get("og:title") or title,
            description=self._meta.get("og:description") or self._meta.get("description", ""),
            image=self._meta.get("og:image", ""),
        )


def _with_video_thumbnail(url: str, meta: PageMetadata) -> PageMetadata:
    """A YouTube watch page gets its video's thumbnail as image, as Memos gives it."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.hostname != "www.youtube.com" or parts.path != "/watch":
        return meta
    video = urllib.parse.parse_qs(parts.query).get("v", [""])[0]
    if not video:
        return meta
    image = f"https://img.youtube.com/vi/{urllib.parse.quote(video, safe='')}/mqdefault.jpg"
    return dataclasses.replace(meta, image=image)
