"""Tokens: numbers, every string form and escape CEL has, and the characters refused."""
from __future__ import annotations

import pytest

from memos.filter import FilterError
from memos.filter.lexer import Kind, tokenize


def single(text: str) -> tuple[Kind, object]:
    tokens = tokenize(text)
    assert tokens[-1].kind is Kind.END and len(tokens) == 2, tokens
    return tokens[0].kind, tokens[0].value


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("42", Kind.INT, 42),
        ("0x1F", Kind.INT, 31),
        ("7u", Kind.UINT, 7),
        ("0xffU", Kind.UINT, 255),
        ("1.5", Kind.DOUBLE, 1.5),
        ("2e3", Kind.DOUBLE, 2000.0),
        ("1.5E-1", Kind.DOUBLE, 0.15),
        ('"a b"', Kind.STRING, "a b"),
        ("'a\"b'", Kind.STRING, 'a"b'),
        ('"""multi\nline"""', Kind.STRING, "multi\nline"),
        ("'''it's'''", Kind.STRING, "it's"),
        (r'r"\d+\n"', Kind.STRING, r"\d+\n"),
        (r"R'\x'", Kind.STRING, r"\x"),
        (r'"\a\b\f\n\r\t\v\\\?\"\'\`"', Kind.STRING, "\a\b\f\n\r\t\v\\?\"'`"),
        (r'"\x41\X42"', Kind.STRING, "AB"),
        (r'"\u00e9\U0001F680"', Kind.STRING, "é🚀"),
        (r'"\101"', Kind.STRING, "A"),
        ('"测试 ß"', Kind.STRING, "测试 ß"),
        ("content", Kind.IDENT, None),
        ("_x1", Kind.IDENT, None),
    ],
)
def test_literals(text: str, kind: Kind, value: object) -> None:
    assert single(text) == (kind, value)


def test_operators_and_comments() -> None:
    tokens = tokenize("a<=b // note\n&& !c||d != [1,2]")
    assert [t.text for t in tokens] == ["a", "<=", "b", "&&", "!", "c", "||", "d", "!=", "[", "1", ",", "2", "]", ""]
    assert tokens[3].position == 13


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('b"bytes"', "bytes literals are not supported"),
        ("rb'x'", "bytes literals are not supported"),
        ('"open', "unterminated string literal"),
        ("'''open''", "unterminated string literal"),
        ('"line\nbreak"', "newline in string literal"),
        (r'"\q"', "invalid escape sequence"),
        (r'"\x4"', "invalid escape sequence"),
        (r'"\ud83d"', "not a valid Unicode code point"),
        (r'"\U00110000"', "not a valid Unicode code point"),
        (r'"\x00"', "NUL characters are not allowed"),
        ('"a\x00"', "NUL characters are not allowed"),
        ("a \x00 b", "unexpected character '\\x00'"),
        ("a @ b", "unexpected character '@'"),
        ("a # b", "unexpected character '#'"),
        ("a ; b", "unexpected character ';'"),
        ("12abc", "malformed number"),
        ('"\ud800"', "not valid Unicode"),
        ('"' + "é" * 4001 + '"', "string literal is too long (8002 bytes; the limit is 8000)"),
        ('"' + "ΐ" * 2000 + '"', "the limit is 8000"),  # case folding triples it
    ],
)
def test_refused(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=None) as caught:
        tokenize(text)
    assert message in str(caught.value)
