"""Code colouring: classes only, bounded work."""
from __future__ import annotations

from memos.markdown.highlight import MAX_BLOCK_CHARS, MAX_DOCUMENT_CHARS, Budget, code_html


def test_known_languages_are_coloured_with_prefixed_classes() -> None:
    coloured = code_html("def f():\n    return '<b>'\n", "python", Budget())
    assert '<span class="hl-k">def</span>' in coloured
    assert "&lt;b&gt;" in coloured and "<b>" not in coloured
    assert "style=" not in coloured


def test_aliases_and_case_are_understood() -> None:
    assert 'class="hl-' in code_html("let x = 1\n", "JS", Budget())
    assert 'class="hl-' in code_html("echo hi\n", "sh", Budget())


def test_unknown_empty_and_diagram_languages_stay_plain() -> None:
    for language in ("nosuchlanguage", "", "mermaid", "Mermaid"):
        assert code_html("a < b\n", language, Budget()) == "a &lt; b\n"


def test_blank_lines_are_kept() -> None:
    coloured = code_html("\n\nx = 1\n\n", "python", Budget())
    assert coloured.startswith("\n\n") and coloured.endswith("\n\n")


def test_a_block_over_the_limit_is_not_coloured() -> None:
    code = "x = 1\n" * (MAX_BLOCK_CHARS // 6 + 1)
    assert code_html(code, "python", Budget()) == code


def test_the_document_budget_runs_out() -> None:
    budget = Budget()
    block = "x = 1\n" * (MAX_BLOCK_CHARS // 6 - 1)
    coloured = [code_html(block, "python", budget) != block for _ in range(MAX_DOCUMENT_CHARS // len(block) + 2)]
    assert coloured[0] and not coloured[-1]
    assert coloured.count(True) == MAX_DOCUMENT_CHARS // len(block)
