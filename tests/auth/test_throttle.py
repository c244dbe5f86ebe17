"""The sign-in throttle on a hand-driven clock."""
from __future__ import annotations

import sys

from memos.auth.throttle import SignInThrottle, ThrottlePolicy
from memos.call import Code, RpcError

OWNER_HOME = "203.0.113.10"
ATTACKER = "198.51.100.66"


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


def _policy(**limits: float) -> ThrottlePolicy:
    defaults = {"pair_threshold": 100, "address_threshold": 100, "account_threshold": 100}
    return ThrottlePolicy(**{**defaults, **limits})  # type: ignore[arg-type]


def test_an_account_and_address_waits_double_after_the_threshold() -> None:
    clock = Clock()
    throttle = SignInThrottle(_policy(pair_threshold=3), clock)
    for _ in range(2):
        throttle.record_failure("alice", "a1")
        assert _refused(throttle, "alice", "a1") is None
    throttle.record_failure("alice", "a1")
    assert _refused(throttle, "alice", "a1") == "too many failed sign-in attempts; retry in 1 second"
    clock.now += 1
    assert _refused(throttle, "alice", "a1") is None
    throttle.record_failure("alice", "a1")
    assert _refused(throttle, "alice", "a1") == "too many failed sign-in attempts; retry in 2 seconds"
    throttle.record_failure("alice", "a1")
    assert _refused(throttle, "alice", "a1") == "too many failed sign-in attempts; retry in 4 seconds"
    assert _refused(throttle, "alice", "a2") is None  # another address is not held back
    assert _refused(throttle, "bob", "a1") is None  # nor another account


def test_waits_are_capped_and_forgotten_after_a_quiet_period() -> None:
    clock = Clock()
    throttle = SignInThrottle(_policy(pair_threshold=1, max_delay=10, forget_after=60), clock)
    for _ in range(20):
        throttle.record_failure("alice", None)
    assert _refused(throttle, "alice", None) == "too many failed sign-in attempts; retry in 10 seconds"
    clock.now += 61
    assert _refused(throttle, "alice", None) is None
    throttle.record_failure("alice", None)  # counting starts again from one
    assert _refused(throttle, "alice", None) == "too many failed sign-in attempts; retry in 1 second"


def test_address_threshold_spans_accounts() -> None:
    throttle = SignInThrottle(_policy(address_threshold=3), Clock())
    for name in ("a", "b", "c"):
        throttle.record_failure(name, "198.51.100.7")
    assert _refused(throttle, "d", "198.51.100.7") is not None
    assert _refused(throttle, "d", "198.51.100.8") is None


def test_an_attacker_elsewhere_never_locks_the_owner_out() -> None:
    # The attack of the issue: one wrong password per block, for ever, from one place.
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(), clock)
    for _ in range(200):
        if _refused(throttle, "alice", ATTACKER) is None:
            throttle.record_failure("alice", ATTACKER)
        clock.now += 5
        assert _refused(throttle, "alice", OWNER_HOME) is None  # no failure from here: never held back
    assert _refused(throttle, "alice", ATTACKER) is not None


def test_many_addresses_share_one_account_budget_once_they_have_failed() -> None:
    clock = Clock()
    throttle = SignInThrottle(_policy(account_threshold=3), clock)
    bots = [f"192.0.2.{n}" for n in range(1, 5)]
    for bot in bots[:3]:
        assert _refused(throttle, "alice", bot) is None
        throttle.record_failure("alice", bot)
    # The account count is over its threshold: every address that has failed on it waits ...
    assert all(_refused(throttle, "alice", bot) is not None for bot in bots[:3])
    # ... a fresh address gets its attempt (and the owner at home too) ...
    assert _refused(throttle, "alice", bots[3]) is None
    assert _refused(throttle, "alice", OWNER_HOME) is None
    # ... and waits too once it has failed.
    throttle.record_failure("alice", bots[3])
    assert _refused(throttle, "alice", bots[3]) is not None
    assert _refused(throttle, "bob", bots[0]) is None  # another account is not affected


def test_a_good_history_keeps_the_owners_attempts_on_a_shared_address() -> None:
    # The owner signed in from the office; a guesser behind the same NAT then sprays accounts from it.
    clock = Clock()
    throttle = SignInThrottle(_policy(pair_threshold=3, address_threshold=5, account_threshold=5), clock)
    office = "192.0.2.50"
    throttle.record_success("alice", office)
    for name in ("bob", "carol", "dave", "erin", "frank", "alice", "alice"):
        throttle.record_failure(name, office)
    assert _refused(throttle, "grace", office) is not None  # the address is held back for others
    assert _refused(throttle, "alice", office) is None  # but alice's good history keeps her attempts
    throttle.record_failure("alice", office)  # the third failure on alice from the office
    assert _refused(throttle, "alice", office) is not None  # her own account-and-address budget still counts


def test_a_good_history_runs_out() -> None:
    clock = Clock()
    throttle = SignInThrottle(_policy(address_threshold=1, good_history=3600), clock)
    throttle.record_success("alice", "192.0.2.50")
    throttle.record_failure("bob", "192.0.2.50")
    assert _refused(throttle, "alice", "192.0.2.50") is None
    clock.now += 3601
    throttle.record_failure("bob", "192.0.2.50")
    assert _refused(throttle, "alice", "192.0.2.50") is not None


def test_success_clears_the_account_and_address_but_not_the_address() -> None:
    throttle = SignInThrottle(_policy(pair_threshold=2, address_threshold=2), Clock())
    throttle.record_failure("alice", "x")
    throttle.record_success("alice", "x")
    throttle.record_failure("alice", "x")
    assert _refused(throttle, "alice", "x") is None  # the account-and-address count restarted
    throttle.record_failure("bob", "y")
    throttle.record_success("bob", "y")
    throttle.record_failure("mallory", "y")
    assert _refused(throttle, "carol", "y") is not None  # address y failed twice, whoever signed in


def test_memory_is_bounded() -> None:
    clock = Clock()
    throttle = SignInThrottle(ThrottlePolicy(max_entries=50), clock)
    for index in range(500):
        clock.now += 0.01
        throttle.record_failure(f"user{index}", f"addr{index}")
        throttle.record_success(f"user{index}", f"addr{index}")
    assert len(throttle) <= 100  # 50 failure counts and 50 good histories at most
    assert _refused(throttle, "user499", None) is None  # one failure: no wait


def test_huge_usernames_cost_the_table_a_fixed_size_key() -> None:
    throttle = SignInThrottle(ThrottlePolicy(), Clock())
    huge = "u" * (5 << 20)
    throttle.record_failure(huge, "192.0.2.1")
    keys = list(throttle._failures)
    assert len(keys) == 3 and all(len(key) == 16 for key in keys)
    assert sum(sys.getsizeof(key) for key in keys) < 1024
    assert _refused(throttle, huge, "192.0.2.1") is None
