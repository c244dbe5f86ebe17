"""Checks on ``matches()`` patterns before they reach the database's ``regexp`` function.

Memos evaluates patterns with RE2 (linear time). The SQLite store evaluates them
with Python's backtracking ``re``, so patterns must be valid for both, and the
shapes that make backtracking exponential -- a quantified group that itself
contains a quantifier, such as ``(a+)+`` or ``(x*y?)*`` -- are refused.
"""
from __future__ import annotations

import re

# RE2 has no lookaround and no backreferences; Python's re would accept them.
_NOT_RE2 = re.compile(r"\(\?<?[=!]|\(\?P=|\\[1-9]")
_QUANTIFIER = re.compile(r"[*+?]|\{\d*,?\d*\}")
_UNBOUNDED = re.compile(r"[*+]|\{\d*,\}")


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used, or None when it can."""
    if _NOT_RE2.search(pattern):
        return "lookaround and backreferences are not supported"
    try:
        re.compile(pattern)
    except re.error as exc:
        return str(exc)
    if _has_nested_quantifier(pattern):
        return "a repeated group may not contain another repetition (e.g. (a+)+), it can take exponential time"
    return None


def _has_nested_quantifier(pattern: str) -> bool:
    # One entry per open group: whether a quantifier occurred inside it so far. An unbounded
    # quantifier right after a group that holds one is the exponential shape.
    open_groups: list[bool] = []
    closed_group_quantified = False  # the item just before the current position
    index = 0
    while index < len(pattern):
        char = pattern[index]
        quantifier = _QUANTIFIER.match(pattern, index)
        if quantifier and index > 0:
            if closed_group_quantified and _UNBOUNDED.fullmatch(quantifier.group()):
                return True
            if open_groups:
                open_groups[-1] = True
            index = quantifier.end()
            closed_group_quantified = False
            continue
        closed_group_quantified = False
        if char == "\\":
            index += 2
            continue
        if char == "[":
            index = _class_end(pattern, index)
            continue
        if char == "(":
            open_groups.append(False)
            if pattern[index + 1:index + 2] == "?":
                index += 2  # (?:, (?i), (?P<name>: the ? opens a group kind, it repeats nothing
                continue
        elif char == ")" and open_groups:
            inner = open_groups.pop()
            closed_group_quantified = inner
            if inner and open_groups:
                open_groups[-1] = True
        index += 1
    return False


def _class_end(pattern: str, index: int) -> int:
    """The offset after the character class starting at ``index``."""
    index += 1
    if pattern[index:index + 1] == "^":
        index += 1
    if pattern[index:index + 1] == "]":
        index += 1
    while index < len(pattern) and pattern[index] != "]":
        index += 2 if pattern[index] == "\\" else 1
    return index + 1
