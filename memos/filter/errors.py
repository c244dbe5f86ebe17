"""The one error type of the filter package, and the limits that bound its work."""
from __future__ import annotations

# Filters come from request bodies: every limit below keeps a hostile filter from
# costing more than a small, predictable amount of time and stack.
MAX_FILTER_LENGTH = 16_384
"""Characters in one filter text."""
MAX_NESTING = 32
"""Parentheses, lists and call arguments open at once (the parser recurses on them)."""
MAX_TREE_DEPTH = 64
"""Depth of the syntax tree (left-leaning chains such as ``1 + 1 + 1`` count too)."""
MAX_STRING_BYTES = 8_000
"""UTF-8 bytes of one string literal; keeps every LIKE pattern far below SQLite's 50,000-byte cap."""


class FilterError(ValueError):
    """A filter that cannot be used; ``position`` is the offset into the text (0-based) when known.

    ``str(error)`` is the diagnostic a person reads, with line and column; the API
    layer prefixes it with ``invalid filter: ``.
    """

    def __init__(self, message: str, position: int | None = None, text: str = "") -> None:
        self.message = message
        self.position = position
        self.line, self.column = _line_column(text, position)
        super().__init__(self._describe())

    def _describe(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (line {self.line}, column {self.column})"

    def located(self, text: str) -> FilterError:
        """The same error with its line and column computed against ``text``."""
        return FilterError(self.message, self.position, text)


def _line_column(text: str, position: int | None) -> tuple[int, int]:
    if position is None:
        return 0, 0
    before = text[:position]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1) + 1
    return line, column
