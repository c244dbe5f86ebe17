"""Colour contrast of the UI's design tokens (frontend.md Y6): WCAG AA in every theme.

The tokens are read from memos/static/app.css as the browser would resolve them: the light block
(`:root`), and the dark and paper blocks overriding it. Body text, muted
text, links and the filled buttons must reach 4.5:1 against the surfaces they are drawn on.
"""
from __future__ import annotations

import re

import pytest
from support import ROOT

STYLESHEET = ROOT / "memos" / "static" / "app.css"
THEMES = {"default": ":root", "default-dark": '[data-theme="default-dark"]',
          "paper": '[data-theme="paper"]'}
AA_TEXT = 4.5

# (foreground token, background token): where the UI draws the one on the other.
PAIRS = [
    ("text", "page"), ("text", "card"), ("text", "sidebar"), ("text", "hover"), ("text", "code-bg"),
    ("text", "primary-soft"),
    ("muted", "page"), ("muted", "card"), ("muted", "sidebar"), ("muted", "code-bg"), ("muted", "hover"),
    ("primary", "page"), ("primary", "card"), ("primary", "code-bg"),
    ("primary-text", "primary"), ("danger", "card"), ("danger-text", "danger"),
]


def tokens(theme: str) -> dict[str, str]:
    css = STYLESHEET.read_text()
    found: dict[str, str] = {}
    for name in ("default", theme):
        block = css[css.index(THEMES[name] + " {"):]
        block = block[:block.index("}")]
        found.update(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", block))
    return found


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        scaled = value / 255
        return scaled / 12.92 if scaled <= 0.04045 else ((scaled + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[at:at + 2], 16) for at in (1, 3, 5))
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


# The calendar's shaded days: each level sets its share of the primary colour (`--level: N%`), one rule
# mixes it into the card colour, and the darker levels take another text colour than the body's.
LEVEL = re.compile(r"\.calendar-day\.level-(\d) \{ --level: (\d+)%; \}")
MIX = (".calendar-day:is(.level-1, .level-2, .level-3) "
       "{ background: color-mix(in srgb, var(--primary) var(--level), var(--card)); }")
LEVEL_TEXT = re.compile(r"\.calendar-day:is\(([^)]*)\) \{ color: var\(--([\w-]+)\); \}")


def shades() -> dict[str, tuple[int, str]]:
    """level -> (share of the primary colour in %, text colour token)."""
    css = STYLESHEET.read_text()
    assert MIX in css
    coloured = {level: token for group, token in LEVEL_TEXT.findall(css) for level in re.findall(r"level-(\d)", group)}
    return {level: (int(share), coloured.get(level, "text")) for level, share in LEVEL.findall(css)}


def mixed(first: str, second: str, share: float) -> str:
    """color-mix(in srgb): the channels interpolated as they are encoded."""
    channels = [(int(first[at:at + 2], 16), int(second[at:at + 2], 16)) for at in (1, 3, 5)]
    return "#" + "".join(f"{round(a * share + b * (1 - share)):02x}" for a, b in channels)


def test_contrast_is_the_wcag_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_text_on_every_surface_passes_wcag_aa(theme: str) -> None:
    colours = tokens(theme)
    failing = {f"{fg} on {bg}: {contrast(colours[fg], colours[bg]):.2f}"
               for fg, bg in PAIRS if contrast(colours[fg], colours[bg]) < AA_TEXT}
    assert failing == set()


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_day_numbers_on_the_calendar_shades_pass_wcag_aa(theme: str) -> None:
    colours = tokens(theme)
    found = shades()
    assert sorted(found) == ["1", "2", "3"]  # level 4 is the plain primary colour, checked above
    ratios = {share: contrast(colours[fg], mixed(colours["primary"], colours["card"], share / 100))
              for share, fg in found.values()}
    failing = {f"level {share}%: {ratio:.2f}" for share, ratio in ratios.items() if ratio < AA_TEXT}
    assert failing == set()
