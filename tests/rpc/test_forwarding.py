"""Forwarding headers count only from trusted proxies: the client's address and scheme."""
from __future__ import annotations

import pytest
from google.protobuf.message import Message
from starlette.applications import Starlette
from starlette.testclient import TestClient

import memos.gen.api.v1.instance_service_pb2 as instance_pb
from memos.call import CallContext
from memos.rpc.forwarding import TrustedProxies, parse_trusted_proxies
from memos.rpc.methods import MethodTable
from memos.rpc.router import rpc_routes

LOOPBACK = TrustedProxies()
LAN_PROXY = TrustedProxies(parse_trusted_proxies("10.0.0.5, 127.0.0.1"))


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("93.184.216.34", [], "93.184.216.34"),
        ("93.184.216.34", ["1.2.3.4"], "93.184.216.34"),  # a client's own claim is ignored
        ("192.168.1.20", ["1.2.3.4"], "192.168.1.20"),  # a LAN neighbour is no proxy unless named
        ("127.0.0.1", ["6.6.6.6, 198.51.100.2"], "198.51.100.2"),  # the entry the proxy appended
        ("127.0.0.1", ["6.6.6.6", "198.51.100.2"], "198.51.100.2"),  # several header lines
        ("127.0.0.1", ["198.51.100.2:5123"], "198.51.100.2"),
        ("127.0.0.1", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("127.0.0.1", ["6.6.6.6, not-an-ip"], "127.0.0.1"),  # garbage: the last trusted hop stays
        ("127.0.0.1", [], "127.0.0.1"),
        ("::ffff:127.0.0.1", ["198.51.100.2"], "198.51.100.2"),  # IPv4 on a dual-stack socket
        (None, ["198.51.100.2"], "198.51.100.2"),  # a Unix-socket peer is local
    ],
)
def test_the_client_address_under_the_default_loopback_rule(
    peer: str | None, forwarded_for: list[str], expected: str
) -> None:
    assert LOOPBACK.client_address(peer, forwarded_for) == expected


def test_a_chain_of_trusted_proxies_is_walked_to_the_first_untrusted_hop() -> None:
    # client -> LAN proxy 10.0.0.5 -> local proxy 127.0.0.1 -> memos
    assert LAN_PROXY.client_address("127.0.0.1", ["6.6.6.6, 203.0.113.9, 10.0.0.5"]) == "203.0.113.9"
    assert LOOPBACK.client_address("127.0.0.1", ["6.6.6.6, 203.0.113.9, 10.0.0.5"]) == "10.0.0.5"


def test_an_empty_list_trusts_nobody_not_even_loopback() -> None:
    nobody = TrustedProxies(parse_trusted_proxies("none"))
    assert nobody.client_address("127.0.0.1", ["198.51.100.2"]) == "127.0.0.1"
    assert not nobody.is_https("http", "127.0.0.1", ["https"], [])
    assert parse_trusted_proxies("") == ()


@pytest.mark.parametrize(
    ("peer", "proto", "forwarded", "secure"),
    [
        ("127.0.0.1", ["https"], [], True),
        ("127.0.0.1", ["http, HTTPS "], [], True),
        ("127.0.0.1", [], ["for=1.2.3.4;Proto=HTTPS"], True),
        ("127.0.0.1", [], ['for="[2001:db8::1]";proto="https"'], True),
        ("127.0.0.1", ["http"], [], False),
        ("127.0.0.1", [], [], False),
        ("192.168.1.20", ["https"], [], False),  # an untrusted peer cannot claim https
        ("192.168.1.20", [], ["proto=https"], False),
        ("93.184.216.34", [], [], False),
    ],
)
def test_https_as_a_trusted_proxy_reports_it(peer: str, proto: list[str], forwarded: list[str], secure: bool) -> None:
    assert LOOPBACK.is_https("http", peer, proto, forwarded) is secure


def test_a_direct_tls_connection_is_https_whoever_the_peer() -> None:
    assert LOOPBACK.is_https("https", "93.184.216.34", [], [])


@pytest.mark.parametrize("text", ["10.0.0.300", "example.com", "10.0.0.0/33", "127.0.0.1, bad", "none, 10.0.0.1"])
def test_bad_lists_are_refused_naming_the_entry(text: str) -> None:
    with pytest.raises(ValueError, match="is not an IP address or CIDR network"):
        parse_trusted_proxies(text)


def test_lists_accept_addresses_and_networks() -> None:
    assert [str(net) for net in parse_trusted_proxies(" 10.0.0.5 ,192.168.0.0/16,::1,fd00::/8")] == [
        "10.0.0.5/32", "192.168.0.0/16", "::1/128", "fd00::/8"
    ]


# --- both transports put the verdict on the call context ----------------------


class _Echo:
    SERVICE_NAME = "memos.api.v1.InstanceService"

    def __init__(self) -> None:
        self.seen: list[CallContext] = []

    async def GetInstanceProfile(self, request: Message, ctx: CallContext) -> Message:
        self.seen.append(ctx)
        return instance_pb.InstanceProfile()


def _client(table: MethodTable, peer: str, proxies: TrustedProxies) -> tuple[TestClient, _Echo]:
    echo = _Echo()
    table.bind([echo])
    routes = rpc_routes(table, [], peer_ip_of=lambda request: peer, trusted_proxies=proxies)
    return TestClient(Starlette(routes=routes)), echo


def _call_both(client: TestClient, headers: dict[str, str]) -> None:
    connect = client.post(
        "/memos.api.v1.InstanceService/GetInstanceProfile",
        content=b"{}",
        headers={"Content-Type": "application/json", **headers},
    )
    rest = client.get("/api/v1/instance/profile", headers=headers)
    assert (connect.status_code, rest.status_code) == (200, 200)


def test_transports_resolve_the_client_behind_a_trusted_proxy(table: MethodTable) -> None:
    client, echo = _client(table, "127.0.0.1", LOOPBACK)
    with client:
        _call_both(client, {"X-Forwarded-For": "6.6.6.6, 198.51.100.2", "X-Forwarded-Proto": "https"})
    assert [(ctx.transport, ctx.peer, ctx.secure) for ctx in echo.seen] == [
        ("connect", "198.51.100.2", True),
        ("rest", "198.51.100.2", True),
    ]
    # What services read as metadata stays as Memos passes it on (the REST gateway appends the peer).
    assert echo.seen[1].headers["x-forwarded-for"] == "6.6.6.6, 198.51.100.2, 127.0.0.1"


def test_transports_ignore_forwarding_headers_from_an_untrusted_peer(table: MethodTable) -> None:
    client, echo = _client(table, "192.168.1.20", LOOPBACK)
    with client:
        _call_both(
            client,
            {"X-Forwarded-For": "198.51.100.2", "X-Forwarded-Proto": "https", "Origin": "https://memos.example"},
        )
    assert [(ctx.peer, ctx.secure) for ctx in echo.seen] == [("192.168.1.20", False), ("192.168.1.20", False)]


def test_transports_state_where_cookies_come_from_and_whether_one_may_be_set(table: MethodTable) -> None:
    client, echo = _client(table, "127.0.0.1", LOOPBACK)
    with client:
        _call_both(client, {"Cookie": "memos_refresh=plain", "Grpc-Metadata-Cookie": "memos_refresh=meta"})
    connect, rest = echo.seen
    assert (connect.cookie_headers, connect.can_set_cookies) == (("memos_refresh=plain",), True)
    # REST: Memos reads Grpc-Metadata-Cookie; the plain header comes second. Response headers reach scripts there.
    assert (rest.cookie_headers, rest.can_set_cookies) == (("memos_refresh=meta", "memos_refresh=plain"), False)
