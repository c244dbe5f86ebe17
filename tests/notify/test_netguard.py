"""The address guard: which addresses are refused, URL validation messages, and the check at connect time."""
from __future__ import annotations

import ipaddress

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from support import serve_on_loopback

from memos.call import Code, RpcError
from memos.notify.netguard import (
    BLOCKED_MESSAGE,
    BLOCKED_NETWORKS,
    AddressGuard,
    BlockedAddressError,
    is_blocked,
    validate_webhook_url,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3", "224.0.0.1",
        "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.10", "198.18.0.1",
        "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "fec0::1",
        "64:ff9b::7f00:1", "64:ff9b::808:808", "64:ff9b:1::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
        "2001:db8::1", "2002:7f00:1::1", "2001:0:4136:e378::1", "100::1",
    ],
)
def test_private_and_special_addresses_are_blocked(address: str) -> None:
    assert is_blocked(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.1", "172.32.0.1",
                "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8"],
)
def test_public_addresses_pass(address: str) -> None:
    assert not is_blocked(ipaddress.ip_address(address))


async def test_validation_refuses_loopback_by_name_and_literal() -> None:
    for url in ("http://127.0.0.1:9/hook", "http://localhost/hook", "https://[::1]/x", "http://10.0.0.5/"):
        with pytest.raises(RpcError) as raised:
            await validate_webhook_url(url, allow_private=False)
        assert raised.value.code == Code.INVALID_ARGUMENT
        assert raised.value.message == BLOCKED_MESSAGE


async def test_allow_private_accepts_private_urls_and_trims() -> None:
    assert await validate_webhook_url("  http://127.0.0.1:9/hook ", allow_private=True) == "http://127.0.0.1:9/hook"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/x", 'webhook URL must use http or https scheme, got "ftp"'),
        ("javascript:alert(1)", 'webhook URL must use http or https scheme, got "javascript"'),
        ("example.com/hook", "invalid webhook URL: 'example.com/hook' is not an absolute URL"),
        ("http://", "invalid webhook URL: 'http://' has no host"),
        ("http://example.com:99999/", "invalid webhook URL: Port out of range 0-65535"),
    ],
)
async def test_malformed_urls_are_invalid_arguments(url: str, message: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(RpcError) as raised:
            await validate_webhook_url(url, allow_private=allow_private)
        assert raised.value.code == Code.INVALID_ARGUMENT
        assert raised.value.message == message


async def test_unresolvable_host_is_reported() -> None:
    with pytest.raises(RpcError) as raised:
        await validate_webhook_url("http://no-such-host.invalid/hook", allow_private=False)
    assert raised.value.code == Code.INVALID_ARGUMENT
    assert raised.value.message.startswith("webhook URL hostname could not be resolved: ")


async def test_a_public_resolution_passes_validation() -> None:
    async def public_dns(host: str, port: int) -> list:
        return [ipaddress.ip_address("93.184.216.34")]

    guard = AddressGuard(resolve=public_dns)
    assert await guard.validate_url("https://hooks.example.com/x") == "https://hooks.example.com/x"


def _receiver(seen: list[dict]) -> Starlette:
    async def hook(request: Request) -> JSONResponse:
        seen.append({"host": request.headers["host"], "body": await request.body(), "path": request.url.path})
        return JSONResponse({"code": 0})

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


# Everything the real guard blocks except loopback, so a test receiver on 127.0.0.1 counts as "public".
WITHOUT_LOOPBACK = [n for n in BLOCKED_NETWORKS if not n.overlaps(ipaddress.ip_network("127.0.0.0/8"))]


async def test_delivery_connects_to_the_checked_address_and_keeps_the_host_name() -> None:
    seen: list[dict] = []
    with serve_on_loopback(_receiver(seen)) as base:
        port = httpx.URL(base).port
        guard = AddressGuard(networks=WITHOUT_LOOPBACK)
        async with httpx.AsyncClient() as client:
            response = await guard.post(
                client, f"http://localhost:{port}/hook", content=b"{}", headers={}, timeout=5
            )
    assert response.status_code == 200
    assert seen == [{"host": f"localhost:{port}", "body": b"{}", "path": "/hook"}]


async def test_rebinding_to_a_private_address_after_validation_is_refused_at_connect_time() -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # first lookup public, the next one private

    async def rebinding_dns(host: str, port: int) -> list:
        return [ipaddress.ip_address(a) for a in next(answers)]

    seen: list[dict] = []
    with serve_on_loopback(_receiver(seen)) as base:
        port = httpx.URL(base).port
        guard = AddressGuard(resolve=rebinding_dns)
        url = await guard.validate_url(f"http://rebind.example:{port}/hook")
        async with httpx.AsyncClient() as client:
            with pytest.raises(BlockedAddressError):
                await guard.post(client, url, content=b"{}", headers={}, timeout=5)
    assert seen == []


async def test_real_dns_localhost_is_refused_at_connect_time() -> None:
    seen: list[dict] = []
    with serve_on_loopback(_receiver(seen)) as base:
        port = httpx.URL(base).port
        async with httpx.AsyncClient() as client:
            with pytest.raises(BlockedAddressError):
                await AddressGuard().post(client, f"http://localhost:{port}/hook", content=b"", headers={}, timeout=5)
            allowed = await AddressGuard(allow_private=True).post(
                client, f"http://localhost:{port}/hook", content=b"", headers={}, timeout=5
            )
    assert allowed.status_code == 200
    assert len(seen) == 1
