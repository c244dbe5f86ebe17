"""Tokens of the CEL subset: literals, identifiers and operators, with their offsets."""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from memos.filter.errors import MAX_STRING_BYTES, FilterError


class Kind(enum.Enum):
    INT = "int"
    UINT = "uint"
    DOUBLE = "double"
    STRING = "string"
    IDENT = "identifier"
    OPERATOR = "operator"
    END = "end of input"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str
    position: int
    value: object = None


# Longest first, so "<=" wins over "<".
_OPERATORS = ("&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "+", "-", "*", "/", "%",
              "(", ")", "[", "]", "{", "}", ".", ",", "?", ":")
_SPACE = re.compile(r"(?:[ \t\r\n\f]+|//[^\n]*)+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F]+[uU]?"
    r"|[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?"
    r"|[0-9]+[eE][+-]?[0-9]+"
    r"|[0-9]+[uU]?"
)
_STRING_START = re.compile(r"([rRbB]{0,2})('''|\"\"\"|'|\")")
_SIMPLE_ESCAPES = {
    "a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
    "\\": "\\", "?": "?", '"': '"', "'": "'", "`": "`",
}
_HEX_ESCAPE_LENGTH = {"x": 2, "X": 2, "u": 4, "U": 8}


def tokenize(text: str) -> list[Token]:
    """All tokens of ``text``, ending with an END token; FilterError on the first bad character."""
    tokens: list[Token] = []
    position = 0
    while True:
        space = _SPACE.match(text, position)
        if space:
            position = space.end()
        if position >= len(text):
            tokens.append(Token(Kind.END, "", position))
            return tokens
        token = _next_token(text, position)
        tokens.append(token)
        position += len(token.text)


def _next_token(text: str, position: int) -> Token:
    string_start = _STRING_START.match(text, position)
    if string_start:
        return _string(text, position, string_start.group(1), string_start.group(2))
    char = text[position]
    if "0" <= char <= "9":
        return _number(text, position)
    ident = _IDENT.match(text, position)
    if ident:
        return Token(Kind.IDENT, ident.group(), position)
    for operator in _OPERATORS:
        if text.startswith(operator, position):
            return Token(Kind.OPERATOR, operator, position)
    raise FilterError(f"Syntax error: unexpected character {char!r}", position, text)


def _number(text: str, position: int) -> Token:
    match = _NUMBER.match(text, position)
    assert match is not None  # a digit always starts a number
    literal = match.group()
    follower = text[match.end():match.end() + 1]
    if follower and ((follower.isascii() and follower.isalnum()) or follower == "_"):
        raise FilterError(f"Syntax error: malformed number {literal + follower!r}", position, text)
    if "." in literal or ("e" in literal.lower() and not literal.lower().startswith("0x")):
        return Token(Kind.DOUBLE, literal, position, float(literal))
    unsigned = literal[-1] in "uU"
    digits = literal[:-1] if unsigned else literal
    value = int(digits, 16) if digits.lower().startswith("0x") else int(digits)
    return Token(Kind.UINT if unsigned else Kind.INT, literal, position, value)


def _string(text: str, position: int, prefix: str, quote: str) -> Token:
    flags = prefix.lower()
    if "b" in flags:
        raise FilterError("bytes literals are not supported", position, text)
    if len(flags) > 1:
        raise FilterError(f"Syntax error: unexpected string prefix {prefix!r}", position, text)
    start = position + len(prefix) + len(quote)
    raw = flags == "r"
    chars: list[str] = []
    index = start
    while True:
        if index >= len(text):
            raise FilterError("Syntax error: unterminated string literal", position, text)
        if text.startswith(quote, index):
            break
        char = text[index]
        if char == "\n" and len(quote) == 1:
            raise FilterError("Syntax error: newline in string literal", index, text)
        if char == "\\" and not raw:
            decoded, index = _escape(text, index)
            chars.append(decoded)
            continue
        chars.append(char)
        index += 1
    end = index + len(quote)
    value = "".join(chars)
    _check_string_value(value, text, position)
    return Token(Kind.STRING, text[position:end], position, value)


def _escape(text: str, index: int) -> tuple[str, int]:
    """The character a backslash escape at ``index`` stands for, and the offset after it."""
    code = text[index + 1:index + 2]
    if code in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[code], index + 2
    if code in _HEX_ESCAPE_LENGTH:
        width = _HEX_ESCAPE_LENGTH[code]
        digits = text[index + 2:index + 2 + width]
        if len(digits) == width and all(c in "0123456789abcdefABCDEF" for c in digits):
            return _code_point(int(digits, 16), text, index), index + 2 + width
    if code in "0123" and code:
        digits = text[index + 1:index + 4]
        if len(digits) == 3 and all(c in "01234567" for c in digits):
            return _code_point(int(digits, 8), text, index), index + 4
    raise FilterError(f"Syntax error: invalid escape sequence {text[index:index + 2]!r}", index, text)


def _code_point(value: int, text: str, index: int) -> str:
    if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
        raise FilterError("Syntax error: escape is not a valid Unicode code point", index, text)
    return chr(value)


def _check_string_value(value: str, text: str, position: int) -> None:
    # NUL would silently end a pattern inside SQLite's LIKE; surrogates cannot be stored as UTF-8.
    if "\x00" in value:
        raise FilterError("NUL characters are not allowed in string literals", position, text)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise FilterError("string literal is not valid Unicode", position, text)
    encoded = max(len(value.encode("utf-8", "surrogatepass")), len(value.casefold().encode("utf-8")))
    if encoded > MAX_STRING_BYTES:
        raise FilterError(
            f"string literal is too long ({encoded} bytes; the limit is {MAX_STRING_BYTES})", position, text
        )
