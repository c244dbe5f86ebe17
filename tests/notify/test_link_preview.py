"""Link previews: what is read from a page's head, and the fences around the fetch (guard, redirects, caps, time).

Pages are served by a real HTTP server on a loopback address. Where a test needs
that server to count as "public" it carves exactly its address out of the
guard's networks (the server listens on 127.0.0.2, so 127.0.0.1 stays refused).
"""
from __future__ import annotations

import asyncio
import gzip
import ipaddress
import re
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from support import serve_on_loopback

from memos.notify.link_preview import LinkFetchError, LinkPreviewer, PageMetadata
from memos.notify.netguard import BLOCKED_NETWORKS, AddressGuard

pytestmark = pytest.mark.anyio

SERVER_HOST = "127.0.0.2"
_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
# The real guard's networks, except the one address the test server listens on.
ALL_BUT_SERVER = [n for n in BLOCKED_NETWORKS if n != _LOOPBACK] + list(
    _LOOPBACK.address_exclude(ipaddress.ip_network(f"{SERVER_HOST}/32"))
)


def html(body: str, content_type: str = "text/html; charset=utf-8", **headers: str) -> Response:
    return Response(body.encode("utf-8"), headers={"content-type": content_type, **headers})


PAGES: dict[str, Response] = {
    "/page": html(
        "<!doctype html><html><head><title> Plain title </title>"
        '<meta property="og:title" content="OG title">'
        '<meta name="description" content="Named description">'
        '<meta property="og:image" content="https://img.example/x.png">'
        "</head><body><p>text</p></body></html>"
    ),
    "/title-only": html("<html><head><title>Tom &amp; Jerry</title></head><body></body></html>"),
    "/named": html(
        '<html><head><META NAME="OG:TITLE" CONTENT="Upper"><meta property="description" content="By property">'
        '<meta property="og:description" content="OG description"></head></html>'
    ),
    "/late-meta": html(
        '<html><head><title>Head</title></head><body><meta property="og:title" content="from the body">'
        "<title>body title</title></body></html>"
    ),
    "/script": html(
        '<html><head><script>document.title = "<title>scripted</title>";</script>'
        "<title>Real</title></head></html>"
    ),
    "/latin1": Response(
        "<title>Caf\u00e9</title>".encode("latin-1"), headers={"content-type": "text/html; charset=ISO-8859-1"}
    ),
    "/watch": html('<title>Video</title><meta property="og:image" content="https://img.example/own.png">'),
    "/plain": html("<title>not html</title>", "text/plain"),
    "/no-type": Response(b"<title>x</title>", headers={"content-type": ""}),
    "/broken": html("<html><head><title>Kept</title><!DOCTYPE<![if<![ x <meta name='description' content='d'"),
    "/gzip": Response(
        gzip.compress(b"<html><head><title>Zipped</title></head></html>"),
        headers={"content-type": "text/html", "content-encoding": "gzip"},
    ),
    # 64 MiB of spaces in 64 KiB: inflating it whole would be the bomb; the cap stops it.
    "/bomb": Response(
        gzip.compress(b"<html><head><title>Bomb</title>" + b" " * (64 << 20), compresslevel=9),
        headers={"content-type": "text/html", "content-encoding": "gzip"},
    ),
    "/brotli": Response(b"\x0b\x02\x80", headers={"content-type": "text/html", "content-encoding": "br"}),
}


async def endless(request: Request) -> StreamingResponse:
    """A head that never ends: only the size cap stops the reading."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"<html><head><title>Endless</title>"
        while True:
            yield b'<meta name="filler" content="' + b"x" * 4000 + b'">'
            await asyncio.sleep(0)

    return StreamingResponse(chunks(), media_type="text/html")


async def late_title(request: Request) -> StreamingResponse:
    """The description comes after 600 KiB of head: beyond the 512 KiB that are read."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"<html><head><title>Early</title>"
        for _ in range(150):
            yield b"<!-- " + b"y" * 4090 + b" -->"
        yield b'<meta name="description" content="too late"></head>'

    return StreamingResponse(chunks(), media_type="text/html")


async def slow(request: Request) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"<html><head>"
        await asyncio.sleep(30)
        yield b"<title>never</title>"

    return StreamingResponse(chunks(), media_type="text/html")


def pages(request: Request) -> Response:
    return PAGES[request.url.path]


def redirect(request: Request) -> Response:
    return RedirectResponse(request.query_params["to"], status_code=int(request.query_params.get("status", "302")))


def hops(request: Request) -> Response:
    left = int(request.path_params["left"])
    return RedirectResponse(f"/hops/{left - 1}" if left else "/page", status_code=301)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    routes = [Route(path, pages) for path in PAGES] + [
        Route("/endless", endless),
        Route("/late-title", late_title),
        Route("/slow", slow),
        Route("/redirect", redirect),
        Route("/hops/{left}", hops),
    ]
    with serve_on_loopback(Starlette(routes=routes), host=SERVER_HOST) as base:
        yield base


@pytest.fixture
async def previewer() -> AsyncIterator[LinkPreviewer]:
    """The guard on, with only the test server's own address let through."""
    fetcher = LinkPreviewer(AddressGuard(networks=ALL_BUT_SERVER))
    yield fetcher
    await fetcher.close()


# --- what is read ------------------------------------------------------------------------------


async def test_og_tags_win_over_title_and_named_description(site: str, previewer: LinkPreviewer) -> None:
    page = await previewer.fetch(f"{site}/page")
    assert page == PageMetadata(title="OG title", description="Named description", image="https://img.example/x.png")


async def test_title_text_is_trimmed_and_entities_decoded(site: str, previewer: LinkPreviewer) -> None:
    assert await previewer.fetch(f"{site}/title-only") == PageMetadata(title="Tom & Jerry")


async def test_meta_names_and_properties_match_in_any_case(site: str, previewer: LinkPreviewer) -> None:
    page = await previewer.fetch(f"{site}/named")
    assert page == PageMetadata(title="Upper", description="OG description")


async def test_reading_stops_at_the_body(site: str, previewer: LinkPreviewer) -> None:
    assert await previewer.fetch(f"{site}/late-meta") == PageMetadata(title="Head")


async def test_scripts_are_not_run_nor_read_as_markup(site: str, previewer: LinkPreviewer) -> None:
    assert (await previewer.fetch(f"{site}/script")).title == "Real"


async def test_the_charset_of_the_content_type_decodes_the_page(site: str, previewer: LinkPreviewer) -> None:
    assert (await previewer.fetch(f"{site}/latin1")).title == "Caf\u00e9"


async def test_broken_markup_keeps_what_was_found(site: str, previewer: LinkPreviewer) -> None:
    assert (await previewer.fetch(f"{site}/broken")).title == "Kept"


async def test_a_gzipped_page_is_read(site: str, previewer: LinkPreviewer) -> None:
    assert (await previewer.fetch(f"{site}/gzip")).title == "Zipped"


@pytest.mark.parametrize("path", ["/plain", "/no-type"])
async def test_only_html_pages_are_read(site: str, previewer: LinkPreviewer, path: str) -> None:
    with pytest.raises(LinkFetchError, match="not an HTML page"):
        await previewer.fetch(site + path)


async def test_an_encoding_that_cannot_be_bounded_is_refused(site: str, previewer: LinkPreviewer) -> None:
    with pytest.raises(LinkFetchError, match="unsupported content encoding 'br'"):
        await previewer.fetch(f"{site}/brotli")


async def test_a_youtube_watch_page_gets_the_video_thumbnail(site: str) -> None:
    port = httpx.URL(site).port

    async def youtube_here(host: str, port: int) -> list:
        assert host == "www.youtube.com"
        return [ipaddress.ip_address(SERVER_HOST)]

    fetcher = LinkPreviewer(AddressGuard(networks=ALL_BUT_SERVER, resolve=youtube_here))
    try:
        # Served by the test server under the real host name: the guard pins the address it resolved.
        video = await fetcher.fetch(f"http://www.youtube.com:{port}/watch?v=dQw4w9WgXcQ&t=1")
    finally:
        await fetcher.close()
    assert video == PageMetadata(title="Video", image="https://img.youtube.com/vi/dQw4w9WgXcQ/mqdefault.jpg")


# --- caps and time -----------------------------------------------------------------------------


async def test_an_endless_head_is_read_only_up_to_the_cap(site: str, previewer: LinkPreviewer) -> None:
    started = time.monotonic()
    assert (await previewer.fetch(f"{site}/endless")).title == "Endless"
    assert time.monotonic() - started < 4  # well inside the 5 s deadline: the cap stopped it


async def test_nothing_beyond_512_kib_is_read(site: str, previewer: LinkPreviewer) -> None:
    assert await previewer.fetch(f"{site}/late-title") == PageMetadata(title="Early")


async def test_a_compression_bomb_is_inflated_only_up_to_the_cap(site: str, previewer: LinkPreviewer) -> None:
    assert (await previewer.fetch(f"{site}/bomb")).title == "Bomb"


async def test_a_page_that_stalls_fails_at_the_deadline(site: str) -> None:
    fetcher = LinkPreviewer(AddressGuard(networks=ALL_BUT_SERVER), timeout=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(LinkFetchError, match=re.escape("no complete answer within 0.5 seconds")):
            await fetcher.fetch(f"{site}/slow")
    finally:
        await fetcher.close()
    assert time.monotonic() - started < 3


# --- redirects -----------------------------------------------------------------------------------


async def test_ten_redirects_are_followed_and_the_eleventh_is_not(site: str, previewer: LinkPreviewer) -> None:
    assert (await previewer.fetch(f"{site}/hops/9")).title == "OG title"  # 10 redirects
    with pytest.raises(LinkFetchError, match="more than 10 redirects"):
        await previewer.fetch(f"{site}/hops/10")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://127.0.0.1:{port}/page", "127.0.0.1 resolves to a reserved or private IP address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 resolves to a reserved or private IP address"),
        ("http://[::1]:{port}/page", "::1 resolves to a reserved or private IP address"),
        ("file:///etc/passwd", 'only http and https URLs can be fetched, not "file"'),
        ("gopher://example.com/", 'only http and https URLs can be fetched, not "gopher"'),
    ],
)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_every_redirect_hop_is_checked_again(
    site: str, previewer: LinkPreviewer, target: str, reason: str, status: int
) -> None:
    to = target.format(port=httpx.URL(site).port)
    with pytest.raises(LinkFetchError) as raised:
        await previewer.fetch(f"{site}/redirect?status={status}&to={to}")
    assert str(raised.value) == reason


# --- the guard on the first request --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{port}/page", "127.0.0.1 resolves to a reserved or private IP address"),
        ("http://localhost:{port}/page", "localhost resolves to a reserved or private IP address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 resolves to a reserved or private IP address"),
        ("http://[::ffff:127.0.0.1]:{port}/", "::ffff:127.0.0.1 resolves to a reserved or private IP address"),
        ("http://2130706433:{port}/", "2130706433 resolves to a reserved or private IP address"),
        ("file:///etc/passwd", 'only http and https URLs can be fetched, not "file"'),
        ("javascript:alert(1)", 'only http and https URLs can be fetched, not "javascript"'),
        ("example.com/no-scheme", 'only http and https URLs can be fetched, not ""'),
        ("http:///no-host", "the URL has no host"),
    ],
)
async def test_the_real_guard_refuses_private_targets(site: str, url: str, reason: str) -> None:
    fetcher = LinkPreviewer(AddressGuard())
    try:
        with pytest.raises(LinkFetchError) as raised:
            await fetcher.fetch(url.format(port=httpx.URL(site).port))
    finally:
        await fetcher.close()
    assert str(raised.value).startswith(reason)


async def test_a_name_resolving_to_a_private_address_is_refused_before_connecting() -> None:
    async def intranet(host: str, port: int) -> list:
        return [ipaddress.ip_address("10.0.0.7")]

    fetcher = LinkPreviewer(AddressGuard(resolve=intranet))
    with pytest.raises(LinkFetchError, match=re.escape("wiki.intranet resolves to a reserved or private IP address")):
        await fetcher.fetch("http://wiki.intranet/")
    await fetcher.close()


async def test_allow_private_reaches_loopback(site: str) -> None:
    fetcher = LinkPreviewer(AddressGuard(allow_private=True))
    try:
        page = await fetcher.fetch(f"{site}/title-only")
        with pytest.raises(LinkFetchError, match="only http and https"):  # the scheme rule stays
            await fetcher.fetch(f"{site}/redirect?to=file:///etc/passwd")
    finally:
        await fetcher.close()
    assert page.title == "Tom & Jerry"


async def test_an_unresolvable_host_is_reported() -> None:
    fetcher = LinkPreviewer(AddressGuard())
    with pytest.raises(LinkFetchError, match=re.escape("no-such-host.invalid could not be resolved")):
        await fetcher.fetch("http://no-such-host.invalid/")
    await fetcher.close()
