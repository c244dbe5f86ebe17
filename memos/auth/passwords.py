"""bcrypt password hashes, compatible with the ones Memos writes and reads, and the size
limits of the credentials a sign-in may present.

bcrypt is deliberately slow (about 60 ms at cost 10), so the async helpers
run it on a worker thread instead of stalling the event loop.
"""
from __future__ import annotations

import asyncio
import functools
import secrets

import bcrypt

from memos.call import Code, RpcError

BCRYPT_COST = 10  # Go's bcrypt.DefaultCost, what Memos uses
MAX_PASSWORD_BYTES = 72  # bcrypt only ever reads this many bytes of a password

# A sign-in may present more than can be set today: usernames of older Memos versions
# are not bound by the 36-character rule, and passwords set before Memos refused
# long ones still sign in (bcrypt compares their first 72 bytes). Anything larger is
# refused before bcrypt runs and before the throttle counts it.
MAX_SIGN_IN_USERNAME_BYTES = 256
MAX_SIGN_IN_PASSWORD_BYTES = 1024

EMPTY_PASSWORD_MESSAGE = "password must not be empty"
TOO_LONG_MESSAGE = f"password is too long: at most {MAX_PASSWORD_BYTES} bytes (bcrypt reads no more)"


def hash_password_blocking(password: str) -> str:
    """A ``$2a$10$...`` hash (the prefix Memos writes), or RpcError for passwords Memos refuses."""
    if not password:
        raise RpcError(Code.INVALID_ARGUMENT, EMPTY_PASSWORD_MESSAGE)
    secret = password.encode("utf-8")
    if len(secret) > MAX_PASSWORD_BYTES:
        # Memos cannot hash these either (it answers INTERNAL); silently truncating would surprise users.
        raise RpcError(Code.INVALID_ARGUMENT, TOO_LONG_MESSAGE)
    hashed = bcrypt.hashpw(secret, bcrypt.gensalt(BCRYPT_COST)).decode("ascii")
    # $2a$ and $2b$ name the same algorithm for passwords under 256 bytes; write what Memos writes.
    return "$2a$" + hashed[4:]


def check_sign_in_sizes(username: str, password: str) -> None:
    """INVALID_ARGUMENT for a username or password larger than any account can have."""
    if _utf8_longer_than(username, MAX_SIGN_IN_USERNAME_BYTES):
        raise RpcError(Code.INVALID_ARGUMENT, f"username is too long: at most {MAX_SIGN_IN_USERNAME_BYTES} bytes")
    if _utf8_longer_than(password, MAX_SIGN_IN_PASSWORD_BYTES):
        raise RpcError(Code.INVALID_ARGUMENT, f"password is too long: at most {MAX_SIGN_IN_PASSWORD_BYTES} bytes")


def _utf8_longer_than(text: str, limit: int) -> bool:
    # Every character takes at least one byte: a long text is refused without encoding a copy of it.
    return len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit


def verify_password_blocking(password: str, password_hash: str) -> bool:
    """True when ``password`` matches a ``$2a$``/``$2b$``/``$2y$`` hash; False for any malformed hash."""
    # Go's bcrypt ignores bytes past the 72nd when comparing; the Python binding refuses them instead.
    secret = password.encode("utf-8")[:MAX_PASSWORD_BYTES]
    try:
        return bcrypt.checkpw(secret, password_hash.encode("utf-8"))
    except ValueError:
        return False


@functools.cache
def _dummy_hash() -> str:
    # A hash nobody knows the password of, at the normal cost: comparing against it
    # takes as long as a real comparison, so unknown usernames cannot be told apart by timing.
    return hash_password_blocking(secrets.token_urlsafe(24))


def burn_verification_time_blocking(password: str) -> None:
    """Spend the time of a real comparison without a real hash (the user does not exist)."""
    verify_password_blocking(password, _dummy_hash())


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hash_password_blocking, password)


async def verify_password(password: str, password_hash: str) -> bool:
    return await asyncio.to_thread(verify_password_blocking, password, password_hash)


async def burn_verification_time(password: str) -> None:
    await asyncio.to_thread(burn_verification_time_blocking, password)


def random_password(length: int = 20) -> str:
    """The undisclosed password of SSO-provisioned users: ``[0-9a-zA-Z]{length}``."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(length))
