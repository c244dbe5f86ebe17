"""bcrypt hashes as Memos writes and reads them."""
from __future__ import annotations

import bcrypt
import pytest

from memos.auth import passwords
from memos.call import Code, RpcError


def test_hash_is_written_like_memos_and_verifies() -> None:
    hashed = passwords.hash_password_blocking("secret")
    assert hashed.startswith("$2a$10$") and len(hashed) == 60
    assert passwords.verify_password_blocking("secret", hashed)
    assert not passwords.verify_password_blocking("Secret", hashed)


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
def test_every_bcrypt_prefix_verifies(prefix: str) -> None:
    hashed = prefix + bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()[4:]
    assert passwords.verify_password_blocking("pw", hashed)
    assert not passwords.verify_password_blocking("pw2", hashed)


def test_empty_password_is_refused() -> None:
    with pytest.raises(RpcError) as caught:
        passwords.hash_password_blocking("")
    assert caught.value.code is Code.INVALID_ARGUMENT and caught.value.message == "password must not be empty"


def test_password_over_72_bytes_cannot_be_hashed() -> None:
    # A client error, not Memos's INTERNAL: the caller can fix it by choosing a shorter password.
    with pytest.raises(RpcError) as caught:
        passwords.hash_password_blocking("é" * 37)  # 74 bytes
    assert caught.value.code is Code.INVALID_ARGUMENT
    assert caught.value.message == "password is too long: at most 72 bytes (bcrypt reads no more)"
    assert passwords.hash_password_blocking("x" * 72)


@pytest.mark.parametrize(
    ("username", "password", "refused"),
    [
        ("u" * 256, "p" * 1024, None),
        ("u" * 257, "p", "username is too long: at most 256 bytes"),
        ("é" * 129, "p", "username is too long: at most 256 bytes"),  # 258 bytes
        ("alice", "p" * 1025, "password is too long: at most 1024 bytes"),
        ("alice", "€" * 342, "password is too long: at most 1024 bytes"),  # 1026 bytes
        ("u" * (20 << 20), "p", "username is too long: at most 256 bytes"),
    ],
)
def test_sign_in_sizes(username: str, password: str, refused: str | None) -> None:
    if refused is None:
        passwords.check_sign_in_sizes(username, password)
        return
    with pytest.raises(RpcError) as caught:
        passwords.check_sign_in_sizes(username, password)
    assert (caught.value.code, caught.value.message) == (Code.INVALID_ARGUMENT, refused)


def test_verification_ignores_bytes_past_72_like_go() -> None:
    hashed = bcrypt.hashpw(b"x" * 72, bcrypt.gensalt(4)).decode()
    assert passwords.verify_password_blocking("x" * 72 + "anything", hashed)


@pytest.mark.parametrize("bad", ["", "plain", "$2a$10$short", "$1$md5crypt$abc"])
def test_malformed_hashes_never_match(bad: str) -> None:
    assert not passwords.verify_password_blocking("pw", bad)


def test_random_password_alphabet() -> None:
    value = passwords.random_password()
    assert len(value) == 20 and value.isascii() and value.isalnum()
