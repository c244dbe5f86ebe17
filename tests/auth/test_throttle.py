"""The sign-in throttle on a hand-driven clock."""
from __future__ import annotations

import pytest

from memos.auth.throttle import SignInThrottle, ThrottlePolicy, client_address
from memos.call import CallContext, Code, RpcError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _refused(throttle: SignInThrottle, username: str, address: str | None) -> str | None:
    try:
        throttle.check(username, address)
    except RpcError as exc:
        assert exc.code is Code.RESOURCE_EXHAUSTED
        return exc.message
    return None


def test_account_waits_double_after_the_threshold() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(account_threshold=3, address_threshold=100), clock)
    for _ in range(2):
        throttle.record_failure("alice", "a1")
        assert _refused(throttle, "alice", "a1") is None
    throttle.record_failure("alice", "a1")
    assert _refused(throttle, "alice", "a2") == "too many failed sign-in attempts; retry in 1 second"
    clock.now += 1
    assert _refused(throttle, "alice", "a2") is None
    throttle.record_failure("alice", "a2")
    assert _refused(throttle, "alice", "a3") == "too many failed sign-in attempts; retry in 2 seconds"
    throttle.record_failure("alice", "a2")
    assert _refused(throttle, "alice", "a3") == "too many failed sign-in attempts; retry in 4 seconds"
    assert _refused(throttle, "bob", "a3") is None  # another account is not affected


def test_waits_are_capped_and_forgotten_after_a_quiet_period() -> None:
    clock = Clock()
    policy = ThrottlePolicy(account_threshold=1, address_threshold=100, max_delay=10, forget_after=60)
    throttle = SignInThrottle(policy, clock)
    for _ in range(20):
        throttle.record_failure("alice", None)
    assert _refused(throttle, "alice", None) == "too many failed sign-in attempts; retry in 10 seconds"
    clock.now += 61
    assert _refused(throttle, "alice", None) is None
    throttle.record_failure("alice", None)  # counting starts again from one
    assert _refused(throttle, "alice", None) == "too many failed sign-in attempts; retry in 1 second"


def test_address_threshold_spans_accounts() -> None:
    throttle = SignInThrottle(ThrottlePolicy(account_threshold=100, address_threshold=3), Clock())
    for name in ("a", "b", "c"):
        throttle.record_failure(name, "198.51.100.7")
    assert _refused(throttle, "d", "198.51.100.7") is not None
    assert _refused(throttle, "d", "198.51.100.8") is None


def test_success_clears_the_account_but_not_the_address() -> None:
    throttle = SignInThrottle(ThrottlePolicy(account_threshold=2, address_threshold=2), Clock())
    throttle.record_failure("alice", "x")
    throttle.record_success("alice")
    throttle.record_failure("alice", "y")
    assert _refused(throttle, "alice", "z") is None  # account count restarted
    throttle.record_failure("bob", "x")
    throttle.record_success("bob")
    assert _refused(throttle, "carol", "x") is not None  # address x failed twice


def test_memory_is_bounded() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(max_entries=50), clock)
    for index in range(500):
        clock.now += 0.01
        throttle.record_failure(f"user{index}", f"addr{index}")
    assert len(throttle) <= 50
    assert _refused(throttle, "user499", None) is None  # one failure: no wait


@pytest.mark.parametrize(
    ("transport", "peer", "forwarded", "expected"),
    [
        ("connect", "93.184.216.34", "", "93.184.216.34"),
        ("connect", "93.184.216.34", "1.2.3.4", "93.184.216.34"),  # a client's own claim is ignored
        ("connect", "127.0.0.1", "6.6.6.6, 198.51.100.2", "198.51.100.2"),  # the local proxy's entry
        ("rest", "127.0.0.1", "6.6.6.6, 198.51.100.2, 127.0.0.1", "198.51.100.2"),
        ("rest", "93.184.216.34", "1.2.3.4, 93.184.216.34", "93.184.216.34"),
        ("connect", "10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_client_address(transport: str, peer: str, forwarded: str, expected: str) -> None:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    ctx = CallContext(procedure="/p/q", transport=transport, headers=headers, peer=peer)
    assert client_address(ctx) == expected
