"""Slows down password guessing without letting a guesser lock the owner out (Memos has no limit at all).

Failed sign-ins are counted three ways, each with its own threshold; once a
count reaches it, every further failure doubles the wait before the next
attempt (1 s, 2 s, 4 s, ... up to a cap). While a count waits, the attempts
it covers are refused with RESOURCE_EXHAUSTED before the password is checked,
so a correct guess cannot get through either.

* per account and address: the guesser's own budget for one account;
* per address, across accounts: one address spraying many accounts;
* per account, across addresses: many addresses guessing one account. This
  count only holds back addresses that have themselves failed on that
  account, so an address that has not failed is never refused because of
  failures elsewhere.

An address with a good history for an account (a successful sign-in to it
within the remembered period) answers only to its own account-and-address
count: failures elsewhere, or of others sharing its address, do not hold it
back. A success clears the account-and-address count only: signing in to
one's own account must not reset a guessing budget.

Counts are forgotten after a quiet period. Memory is bounded whatever the
input: keys are fixed-size digests (never the username or address itself),
and each table has a maximum size, dropping the entries idle the longest.
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import math
import time
from collections.abc import Callable

from memos.call import Code, RpcError


@dataclasses.dataclass(slots=True)
class _Record:
    failures: int = 0
    blocked_until: float = 0.0
    last_failure: float = 0.0


@dataclasses.dataclass(frozen=True)
class ThrottlePolicy:
    pair_threshold: int = 5  # failures tolerated per account and address before waits start
    address_threshold: int = 20  # per address: higher, many people may share one (NAT, proxies)
    account_threshold: int = 10  # per account, over every address that has failed on it
    first_delay: float = 1.0
    max_delay: float = 300.0
    forget_after: float = 900.0  # a count with no failure for this long starts from zero
    good_history: float = 30 * 24 * 3600.0  # how long a successful sign-in vouches for its address
    max_entries: int = 10_000  # per table (failure counts; good histories)


def _key(kind: str, *parts: str) -> bytes:
    # 16 bytes whatever the input size: a huge username costs the table nothing.
    digest = hashlib.blake2b(kind.encode(), digest_size=16)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.digest()


@dataclasses.dataclass(frozen=True, slots=True)
class _Keys:
    pair: bytes
    account: bytes
    address: bytes | None

    @classmethod
    def of(cls, username: str, address: str | None) -> _Keys:
        return cls(
            pair=_key("pair", username, address or ""),
            account=_key("account", username),
            address=_key("address", address) if address else None,
        )


class SignInThrottle:
    def __init__(self, policy: ThrottlePolicy | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or ThrottlePolicy()
        self._clock = clock
        self._failures: collections.OrderedDict[bytes, _Record] = collections.OrderedDict()
        self._good: collections.OrderedDict[bytes, float] = collections.OrderedDict()  # pair -> last success

    def check(self, username: str, address: str | None) -> None:
        """RESOURCE_EXHAUSTED when this account-and-address must still wait."""
        now = self._clock()
        keys = _Keys.of(username, address)
        waits = [self._wait(keys.pair, now)]
        if not self._vouched_for(keys.pair, now):
            if keys.address is not None:
                waits.append(self._wait(keys.address, now))
            if self._has_failed(keys.pair, now):
                waits.append(self._wait(keys.account, now))
        wait = max(waits)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            unit = "second" if seconds == 1 else "seconds"
            raise RpcError(Code.RESOURCE_EXHAUSTED, f"too many failed sign-in attempts; retry in {seconds} {unit}")

    def record_failure(self, username: str, address: str | None) -> None:
        now = self._clock()
        keys = _Keys.of(username, address)
        self._fail(keys.pair, now, self.policy.pair_threshold)
        self._fail(keys.account, now, self.policy.account_threshold)
        if keys.address is not None:
            self._fail(keys.address, now, self.policy.address_threshold)

    def record_success(self, username: str, address: str | None) -> None:
        keys = _Keys.of(username, address)
        self._failures.pop(keys.pair, None)
        self._good.pop(keys.pair, None)
        self._good[keys.pair] = self._clock()  # most recent last
        while len(self._good) > self.policy.max_entries:
            self._good.popitem(last=False)

    def __len__(self) -> int:
        """How many entries are kept (failure counts and good histories)."""
        return len(self._failures) + len(self._good)

    def _vouched_for(self, pair: bytes, now: float) -> bool:
        succeeded = self._good.get(pair)
        return succeeded is not None and now - succeeded <= self.policy.good_history

    def _has_failed(self, pair: bytes, now: float) -> bool:
        record = self._failures.get(pair)
        return record is not None and now - record.last_failure <= self.policy.forget_after

    def _wait(self, key: bytes, now: float) -> float:
        record = self._failures.get(key)
        return record.blocked_until - now if record else 0.0

    def _fail(self, key: bytes, now: float, threshold: int) -> None:
        record = self._failures.pop(key, None)
        if record is None or now - record.last_failure > self.policy.forget_after:
            record = _Record()
        record.failures += 1
        record.last_failure = now
        over = record.failures - threshold
        if over >= 0:
            delay = min(self.policy.first_delay * 2 ** min(over, 32), self.policy.max_delay)
            record.blocked_until = now + delay
        self._failures[key] = record  # most recently failed last
        self._evict(now)

    def _evict(self, now: float) -> None:
        if len(self._failures) <= self.policy.max_entries:
            return
        while self._failures:
            key, oldest = next(iter(self._failures.items()))
            if now - oldest.last_failure <= self.policy.forget_after:
                break
            del self._failures[key]  # stale: forgotten anyway
        while len(self._failures) > self.policy.max_entries:
            self._failures.popitem(last=False)
