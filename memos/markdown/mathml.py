"""TeX math as MathML that browsers typeset natively, rebuilt from an allow-list.

The converter (latex2mathml) copies ``\\text{...}`` verbatim and turns ``\\href`` into an
``href`` attribute, so its output is never trusted: it is parsed as XML and written out
again keeping only presentation-MathML elements and harmless attributes, with every text
and attribute value escaped. Anything that fails (bad TeX, too long, too deep) yields
None and the caller shows the source instead. Loaded with the first formula rendered.
"""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from latex2mathml.converter import convert
from markdown_it.common.utils import escapeHtml

MAX_TEX_CHARS = 2_000
MAX_DEPTH = 64

# Presentation MathML only: no annotation-xml (which may hold HTML), no links, no styles.
_ELEMENTS = frozenset(
    {
        "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup", "mfrac", "msqrt",
        "mroot", "mstyle", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mlabeledtr", "mpadded",
        "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts", "none",
    }
)
_ATTRIBUTES = frozenset(
    {
        "display", "mathvariant", "mathcolor", "mathbackground", "mathsize", "stretchy", "fence", "separator",
        "lspace", "rspace", "columnalign", "rowalign", "columnspacing", "rowspacing", "columnlines", "rowlines",
        "frame", "framespacing", "displaystyle", "scriptlevel", "width", "height", "depth", "linethickness",
        "accent", "accentunder", "movablelimits", "notation", "minsize", "maxsize", "symmetric", "form",
        "largeop", "align", "equalrows", "equalcolumns",
    }
)


def to_mathml(tex: str, *, display: bool) -> str | None:
    if len(tex) > MAX_TEX_CHARS:
        return None
    try:
        raw = convert(tex, display="block" if display else "inline")
        return _rebuild(ElementTree.fromstring(raw), 0)
    except Exception:  # the converter raises many kinds on bad TeX; RecursionError included
        return None


def _local_name(name: str) -> str:
    return name.rpartition("}")[2]


def _rebuild(element: ElementTree.Element, depth: int) -> str:
    name = _local_name(element.tag)
    if name not in _ELEMENTS or depth > MAX_DEPTH:
        raise ValueError(f"unexpected MathML element {name!r}")
    attributes = "".join(
        f' {key}="{escapeHtml(value)}"'
        for key, value in sorted(element.attrib.items())
        if _local_name(key) == key and key in _ATTRIBUTES
    )
    inner = escapeHtml(element.text or "") + "".join(
        _rebuild(child, depth + 1) + escapeHtml(child.tail or "") for child in element
    )
    return f"<{name}{attributes}>{inner}</{name}>"
