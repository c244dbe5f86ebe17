"""Which memos a caller may see: anonymous, signed in, creator, admin (memos spec §2)."""
from __future__ import annotations

import pytest

from memos.api.visibility import may_see, visibilities_of_creator, visibilities_of_others
from memos.store.models import ROLE_ADMIN, ROLE_USER, MemoSummary, User


def _user(user_id: int, role: str = ROLE_USER) -> User:
    return User(user_id, f"u{user_id}", role, "", "", "", "", "", "NORMAL", 0, 0)


def _memo(creator_id: int, visibility: str) -> MemoSummary:
    return MemoSummary(1, "m1", creator_id, 0, 0, False, visibility, None)


ALICE, BOB, ADMIN = _user(1), _user(2), _user(3, ROLE_ADMIN)


def test_anonymous_callers_see_public_memos_only() -> None:
    assert visibilities_of_others(None) == ["PUBLIC"]
    assert visibilities_of_creator(None, ALICE.id) == ["PUBLIC"]


def test_signed_in_callers_see_public_and_protected_memos_of_others() -> None:
    assert visibilities_of_others(BOB) == ["PUBLIC", "PROTECTED"]
    assert visibilities_of_creator(BOB, ALICE.id) == ["PUBLIC", "PROTECTED"]


def test_creators_see_all_their_own_memos() -> None:
    assert visibilities_of_creator(ALICE, ALICE.id) is None


def test_admins_get_no_extra_visibility_in_lists() -> None:
    assert visibilities_of_creator(ADMIN, ALICE.id) == ["PUBLIC", "PROTECTED"]


@pytest.mark.parametrize(
    ("caller", "visibility", "seen"),
    [
        (None, "PUBLIC", True),
        (None, "PROTECTED", False),
        (None, "PRIVATE", False),
        (BOB, "PUBLIC", True),
        (BOB, "PROTECTED", True),
        (BOB, "PRIVATE", False),
        (ALICE, "PRIVATE", True),
        (ADMIN, "PRIVATE", False),
        (BOB, "SOMETHING_ELSE", False),  # an unknown stored value is as private as PRIVATE
    ],
)
def test_one_memo_follows_the_same_rules(caller: User | None, visibility: str, seen: bool) -> None:
    assert may_see(caller, _memo(ALICE.id, visibility)) is seen


def test_where_an_rpc_lets_admins_through_they_see_private_memos() -> None:
    assert may_see(ADMIN, _memo(ALICE.id, "PRIVATE"), admin_sees_private=True)
    assert not may_see(BOB, _memo(ALICE.id, "PRIVATE"), admin_sees_private=True)
    assert not may_see(None, _memo(ALICE.id, "PROTECTED"), admin_sees_private=True)
