"""Slows down password guessing (safer than Memos, which has no limit at all).

Failed sign-ins are counted per account and per client address. Once a key
reaches its threshold, every further failure doubles the time the key must
wait before the next attempt (1 s, 2 s, 4 s, ... up to a cap); while it
waits, attempts are refused with RESOURCE_EXHAUSTED before the password is
checked, so a correct guess cannot get through either. A success clears the
account's count (not the address's: signing in to one's own account must not
reset a guessing budget). Counts are forgotten after a quiet period. Memory is
bounded: when full, the entries idle the longest are dropped first.
"""
from __future__ import annotations

import collections
import dataclasses
import ipaddress
import math
import time
from collections.abc import Callable

from memos.call import CallContext, Code, RpcError


@dataclasses.dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0
    last_failure: float = 0.0


@dataclasses.dataclass(frozen=True)
class ThrottlePolicy:
    account_threshold: int = 5  # failures tolerated per account before waits start
    address_threshold: int = 20  # per address: higher, many people may share one (NAT, proxies)
    first_delay: float = 1.0
    max_delay: float = 300.0
    forget_after: float = 900.0  # a key with no failure for this long starts from zero
    max_entries: int = 10_000


class SignInThrottle:
    def __init__(self, policy: ThrottlePolicy | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or ThrottlePolicy()
        self._clock = clock
        self._records: collections.OrderedDict[str, _Record] = collections.OrderedDict()

    @staticmethod
    def keys(username: str, address: str | None) -> tuple[str, str | None]:
        return f"user:{username}", (f"addr:{address}" if address else None)

    def check(self, username: str, address: str | None) -> None:
        """RESOURCE_EXHAUSTED when the account or the address must still wait."""
        now = self._clock()
        wait = max((self._wait(key, now) for key in self.keys(username, address) if key), default=0.0)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            unit = "second" if seconds == 1 else "seconds"
            raise RpcError(Code.RESOURCE_EXHAUSTED, f"too many failed sign-in attempts; retry in {seconds} {unit}")

    def record_failure(self, username: str, address: str | None) -> None:
        now = self._clock()
        account, addr = self.keys(username, address)
        self._fail(account, now, self.policy.account_threshold)
        if addr:
            self._fail(addr, now, self.policy.address_threshold)

    def record_success(self, username: str) -> None:
        self._records.pop(self.keys(username, None)[0], None)

    def __len__(self) -> int:
        return len(self._records)

    def _wait(self, key: str, now: float) -> float:
        record = self._records.get(key)
        return record.blocked_until - now if record else 0.0

    def _fail(self, key: str, now: float, threshold: int) -> None:
        record = self._records.pop(key, None)
        if record is None or now - record.last_failure > self.policy.forget_after:
            record = _Record()
        record.failures += 1
        record.last_failure = now
        over = record.failures - threshold
        if over >= 0:
            delay = min(self.policy.first_delay * 2**min(over, 32), self.policy.max_delay)
            record.blocked_until = now + delay
        self._records[key] = record  # most recently failed last
        self._evict(now)

    def _evict(self, now: float) -> None:
        if len(self._records) <= self.policy.max_entries:
            return
        stale = [key for key, r in self._records.items() if now - r.last_failure > self.policy.forget_after]
        for key in stale:
            del self._records[key]
        while len(self._records) > self.policy.max_entries:
            self._records.popitem(last=False)


def _is_local_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private


def client_address(ctx: CallContext) -> str | None:
    """The address failures are counted against.

    The TCP peer, which a client cannot forge. When the peer is a loopback or
    private address (a reverse proxy in front of us), the entry that proxy
    appended to X-Forwarded-For (the last one) names the real client; entries
    further left come from the client and are ignored.
    """
    peer = ctx.peer
    chain = [part.strip() for part in ctx.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    if ctx.transport == "rest" and chain and chain[-1] == peer:
        chain.pop()  # the REST gateway appends the peer itself
    if peer and chain and _is_local_proxy(peer):
        return chain[-1]
    return peer
