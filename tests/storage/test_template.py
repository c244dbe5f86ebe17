"""Expanding the STORAGE filepath template."""
from __future__ import annotations

import datetime as dt
import itertools

from memos.storage.template import expand_template

NOW = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def _uuids() -> object:
    counter = itertools.count(1)
    return lambda: f"u{next(counter)}"


def test_every_placeholder() -> None:
    template = "{year}/{month}/{day}/{hour}{minute}{second}_{timestamp}_{uuid}_{uuid}_{filename}"
    expanded = expand_template(template, "a b.png", NOW, new_uuid=_uuids())  # type: ignore[arg-type]
    assert expanded == f"2026/03/04/050607_{int(NOW.timestamp())}_u1_u2_a b.png"


def test_the_default_template_and_unknown_placeholders() -> None:
    expanded = expand_template("assets/{timestamp}_{uuid}_{filename}", "x.txt", NOW, new_uuid=lambda: "id")
    assert expanded == f"assets/{int(NOW.timestamp())}_id_x.txt"
    assert expand_template("{Year}/{nope}/{filename}", "x", NOW) == "{Year}/{nope}/x"


def test_a_template_without_the_filename_gets_it_as_last_element() -> None:
    assert expand_template("uploads/{year}", "doc.pdf", NOW) == "uploads/2026/doc.pdf"
    assert expand_template("", "doc.pdf", NOW) == "/doc.pdf"
