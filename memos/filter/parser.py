"""A recursive-descent parser for the CEL subset of filters.

Operator precedence, loosest first: ``||``, ``&&``, comparisons and ``in``,
``+ -``, ``* / %``, unary ``! -``, member access and calls. Recursion happens
only where the grammar nests (parentheses, lists, call arguments); it is
counted and bounded, as is the depth of the resulting tree.
"""
from __future__ import annotations

from collections.abc import Callable

from memos.filter.errors import MAX_FILTER_LENGTH, MAX_NESTING, MAX_TREE_DEPTH, FilterError
from memos.filter.lexer import Kind, Token, tokenize
from memos.filter.syntax import Binary, Call, Ident, ListExpr, Literal, Logical, Node, Select, Unary, children

_RELATIONS = ("==", "!=", "<", "<=", ">", ">=")
_ADDITIVE = ("+", "-")
_MULTIPLICATIVE = ("*", "/", "%")
_INT64_MAX = 2**63 - 1
_CONSTANTS: dict[str, tuple[str, object]] = {"true": ("bool", True), "false": ("bool", False), "null": ("null", None)}


def parse(text: str) -> Node:
    """The syntax tree of ``text``; FilterError for empty, oversized or malformed input."""
    if len(text) > MAX_FILTER_LENGTH:
        raise FilterError(f"filter is too long ({len(text)} characters; the limit is {MAX_FILTER_LENGTH})")
    if not text.strip():
        raise FilterError("filter expression is empty")
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0

    # --- token helpers ------------------------------------------------------------

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind is not Kind.END:
            self.index += 1
        return token

    def _at(self, *operators: str) -> bool:
        token = self.current
        return token.kind is Kind.OPERATOR and token.text in operators

    def _at_keyword(self, word: str) -> bool:
        return self.current.kind is Kind.IDENT and self.current.text == word

    def _expect(self, operator: str) -> Token:
        if not self._at(operator):
            raise self._unexpected(f"expected '{operator}'")
        return self._advance()

    def _unexpected(self, hint: str = "") -> FilterError:
        token = self.current
        found = "end of input" if token.kind is Kind.END else repr(token.text)
        suffix = f", {hint}" if hint else ""
        return self._error(f"Syntax error: unexpected {found}{suffix}", token.position)

    def _error(self, message: str, position: int) -> FilterError:
        return FilterError(message, position, self.text)

    def _node(self, node: Node) -> Node:
        """``node`` with its depth set; FilterError when the tree grows too deep."""
        depth = 1 + max((child.depth for child in children(node)), default=0)
        if depth > MAX_TREE_DEPTH:
            raise self._error(f"expression is nested too deeply (the limit is {MAX_TREE_DEPTH} levels)", node.position)
        object.__setattr__(node, "depth", depth)
        return node

    # --- grammar ---------------------------------------------------------------------

    def parse(self) -> Node:
        node = self._expression()
        if self.current.kind is not Kind.END:
            raise self._unexpected()
        return node

    def _expression(self) -> Node:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self._error(
                f"expression is nested too deeply (the limit is {MAX_NESTING} levels of brackets)",
                self.current.position,
            )
        node = self._logical("||", self._and)
        if self._at("?"):
            raise self._error("the conditional operator ?: is not supported", self.current.position)
        self.nesting -= 1
        return node

    def _and(self) -> Node:
        return self._logical("&&", self._relation)

    def _logical(self, op: str, parse_operand: Callable[[], Node]) -> Node:
        first = parse_operand()
        operands = [first]
        position = self.current.position
        while self._at(op):
            self._advance()
            operands.append(parse_operand())
        if len(operands) == 1:
            return first
        return self._node(Logical(position, op, tuple(operands)))

    def _relation(self) -> Node:
        return self._binary(self._additive, _RELATIONS, keyword="in")

    def _additive(self) -> Node:
        return self._binary(self._multiplicative, _ADDITIVE)

    def _multiplicative(self) -> Node:
        return self._binary(self._unary, _MULTIPLICATIVE)

    def _binary(self, parse_operand: Callable[[], Node], operators: tuple[str, ...], keyword: str = "") -> Node:
        """One left-associative level of ``Binary`` operators (and the operator word ``keyword``)."""
        node = parse_operand()
        while self._at(*operators) or (keyword and self._at_keyword(keyword)):
            token = self._advance()
            node = self._node(Binary(token.position, token.text, node, parse_operand()))
        return node

    def _unary(self) -> Node:
        # Runs of prefix operators are read in a loop, not by recursion.
        prefixes: list[Token] = []
        while self._at("!", "-"):
            prefixes.append(self._advance())
        node = self._negative_literal(prefixes) if prefixes and prefixes[-1].text == "-" else self._member()
        for token in reversed(prefixes):
            node = self._node(Unary(token.position, token.text, node))
        return node

    def _negative_literal(self, prefixes: list[Token]) -> Node:
        """``-9223372036854775808`` is a valid int although its magnitude is not."""
        token = self.current
        if token.kind is Kind.INT and not self._followed_by_member(token):
            self._advance()
            minus = prefixes.pop()
            magnitude = token.value
            assert isinstance(magnitude, int)
            return self._node(Literal(minus.position, "int", self._int_in_range(-magnitude, token)))
        return self._member()

    def _followed_by_member(self, token: Token) -> bool:
        following = self.tokens[self.index + 1]
        return following.kind is Kind.OPERATOR and following.text in (".", "[")

    def _int_in_range(self, value: int, token: Token) -> int:
        if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
            raise self._error(f"integer literal {token.text} is out of range (64-bit)", token.position)
        return value

    def _member(self) -> Node:
        node = self._primary()
        while True:
            if self._at("."):
                self._advance()
                name = self.current
                if name.kind is not Kind.IDENT:
                    raise self._unexpected("expected a field or method name")
                self._advance()
                if self._at("("):
                    node = self._node(Call(name.position, node, name.text, self._arguments()))
                else:
                    node = self._node(Select(name.position, node, name.text))
            elif self._at("["):
                raise self._error("indexing with [...] is not supported", self.current.position)
            else:
                return node

    def _arguments(self) -> tuple[Node, ...]:
        return tuple(self._sequence("(", ")"))

    def _sequence(self, opening: str, closing: str) -> list[Node]:
        self._expect(opening)
        items: list[Node] = []
        while not self._at(closing):
            items.append(self._expression())
            if not self._at(","):
                break
            self._advance()
        self._expect(closing)
        return items

    def _primary(self) -> Node:
        token = self.current
        if token.kind is Kind.IDENT:
            return self._identifier()
        if token.kind in (Kind.INT, Kind.UINT, Kind.DOUBLE, Kind.STRING):
            self._advance()
            return self._node(self._literal(token))
        if self._at("("):
            self._advance()
            node = self._expression()
            self._expect(")")
            return node
        if self._at("["):
            items = self._sequence("[", "]")
            return self._node(ListExpr(token.position, tuple(items)))
        if self._at("{"):
            raise self._error("map literals are not supported", token.position)
        if self._at("."):
            raise self._error("qualified identifiers (leading '.') are not supported", token.position)
        raise self._unexpected()

    def _literal(self, token: Token) -> Literal:
        if token.kind is Kind.INT:
            assert isinstance(token.value, int)
            return Literal(token.position, "int", self._int_in_range(token.value, token))
        if token.kind is Kind.UINT:
            assert isinstance(token.value, int)
            if token.value > 2**64 - 1:
                raise self._error(f"integer literal {token.text} is out of range (64-bit)", token.position)
            return Literal(token.position, "uint", token.value)
        if token.kind is Kind.DOUBLE:
            return Literal(token.position, "double", token.value)
        return Literal(token.position, "string", token.value)

    def _identifier(self) -> Node:
        token = self._advance()
        if token.text in _CONSTANTS:
            kind, value = _CONSTANTS[token.text]
            return self._node(Literal(token.position, kind, value))
        if self._at("("):
            return self._node(Call(token.position, None, token.text, self._arguments()))
        return self._node(Ident(token.position, token.text))
