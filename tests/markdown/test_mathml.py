"""TeX to MathML, rebuilt from an allow-list."""
from __future__ import annotations

import pytest

from memos.markdown.mathml import MAX_TEX_CHARS, to_mathml


def test_inline_and_display_math() -> None:
    assert to_mathml("x^2", display=False) == (
        '<math display="inline"><mrow><msup><mi>x</mi><mn>2</mn></msup></mrow></math>'
    )
    assert (to_mathml("x", display=True) or "").startswith('<math display="block">')


def test_fractions_and_matrices_survive_the_allow_list() -> None:
    assert "<mfrac>" in (to_mathml(r"\frac{a}{b}", display=False) or "")
    assert "<mtable>" in (to_mathml(r"\begin{matrix}a&b\\c&d\end{matrix}", display=False) or "")


@pytest.mark.parametrize(
    "tex",
    [
        r"\frac{a}{",
        r"\text{<script>alert(1)</script>}",
        r"\text{a<b}",
        "{" * 3000 + "}" * 3000,
        "x" * (MAX_TEX_CHARS + 1),
    ],
)
def test_what_cannot_be_converted_safely_is_refused(tex: str) -> None:
    assert to_mathml(tex, display=False) is None


def test_links_and_injected_attributes_do_not_survive() -> None:
    linked = to_mathml(r"\href{javascript:alert(1)}{x}", display=False) or ""
    assert "href" not in linked and "javascript" not in linked and "<mi>x</mi>" in linked
    coloured = to_mathml(r'\color{red" onload="alert(1)}{a}', display=False) or ""
    assert 'mathcolor="red&quot; onload=&quot;alert(1)"' in coloured


def test_text_is_escaped() -> None:
    assert "<mi>&amp;</mi>" in (to_mathml(r"\&", display=False) or "")
