"""Building condition trees: constants fold, nesting flattens, double negation cancels."""
from __future__ import annotations

from memos.filter import conditions as c

A = c.TagEquals("a")
B = c.TagEquals("b")


def test_conjunction() -> None:
    assert c.conjunction([]) == c.TRUE
    assert c.conjunction([c.TRUE, A]) == A
    assert c.conjunction([A, c.FALSE, B]) == c.FALSE
    assert c.conjunction([A, c.And((B, A))]) == c.And((A, B, A))


def test_disjunction() -> None:
    assert c.disjunction([]) == c.FALSE
    assert c.disjunction([c.FALSE, A]) == A
    assert c.disjunction([A, c.TRUE]) == c.TRUE
    assert c.disjunction([c.Or((A, B)), B]) == c.Or((A, B, B))


def test_negation() -> None:
    assert c.negation(c.TRUE) == c.FALSE
    assert c.negation(c.negation(A)) == A
    assert c.negation(A) == c.Not(A)
