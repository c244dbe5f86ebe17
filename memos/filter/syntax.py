"""The syntax tree of a parsed filter, before any type is known.

Every node records the offset of the token that gives it its meaning (an
operator, a function name) so errors can point there, and its depth so every
later walk over the tree has a known, small recursion bound.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Node:
    position: int
    depth: int = field(default=1, kw_only=True, compare=False)


@dataclass(frozen=True)
class Literal(Node):
    """``kind`` is one of int, uint, double, string, bool, null."""

    kind: str
    value: object


@dataclass(frozen=True)
class Ident(Node):
    name: str


@dataclass(frozen=True)
class Select(Node):
    """``operand.name`` without a call: field selection, which the subset refuses."""

    operand: Node
    name: str


@dataclass(frozen=True)
class Call(Node):
    """``name(args)`` or ``target.name(args)``."""

    target: Node | None
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class ListExpr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Unary(Node):
    """``!`` or ``-`` applied to one operand."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    """Arithmetic, comparison and ``in``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical(Node):
    """``&&`` or ``||`` over two or more operands (kept flat: long chains add no depth)."""

    op: str
    operands: tuple[Node, ...]


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Select):
        return (node.operand,)
    if isinstance(node, Call):
        return ((node.target,) if node.target else ()) + node.args
    if isinstance(node, ListExpr):
        return node.items
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.operands
    return ()
