"""matches() patterns: valid for RE2 and Python alike, and no exponential-backtracking shapes."""
from __future__ import annotations

import pytest

from memos.filter.regex import regex_problem


@pytest.mark.parametrize(
    "pattern",
    ["v[0-9]+", "(?i)todo", "^a.*b$", "(ab)+", "(?:ab)+", "(a|b)*", "(a+)?", "(a+){2}", "a+?b*?", "(a)+?",
     "[(+]+", r"\(a+\)+", r"\d{2,4}", "[]a+]+", "[^]+]*x"],
)
def test_accepted(pattern: str) -> None:
    assert regex_problem(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(a+)+$", "exponential"),
        ("(x*y?)*", "exponential"),
        ("(?:a+)+", "exponential"),
        ("((a+))+", "exponential"),
        ("(a{2,})*", "exponential"),
        ("(?P<n>a+)*", "exponential"),
        ("(a+){3,}", "exponential"),
        ("(?=a)", "lookaround and backreferences"),
        ("(?<!a)b", "lookaround and backreferences"),
        (r"(a)\1", "lookaround and backreferences"),
        ("(", "missing )"),
        ("a**", "multiple repeat"),
    ],
)
def test_refused(pattern: str, problem: str) -> None:
    found = regex_problem(pattern)
    assert found is not None and problem in found
