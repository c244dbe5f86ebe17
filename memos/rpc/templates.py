"""google.api.http path templates: parsing, canonical form and matching.

Grammar (from google/api/http.proto)::

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    Verb     = ":" LITERAL ;

Matching works on the already-decoded request path split on "/", the way the
Memos REST gateway does it.
"""
from __future__ import annotations

import dataclasses
import re

_FIELD_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")

STAR = "*"
DOUBLE_STAR = "**"


class TemplateError(ValueError):
    """A path template that does not follow the google.api.http grammar."""


@dataclasses.dataclass(frozen=True)
class Variable:
    """A captured part of the path, bound to a (possibly nested) request field."""

    field_path: str  # "memo.name"
    segments: tuple[str, ...]  # literals, "*" or "**"; ("*",) when the template said just {field}

    def __str__(self) -> str:
        return "{" + self.field_path + "=" + "/".join(self.segments) + "}"


Segment = str | Variable


@dataclasses.dataclass(frozen=True)
class PathTemplate:
    """A parsed template; two spellings of the same template compare equal."""

    segments: tuple[Segment, ...]
    verb: str = ""
    # (pattern, variable field path or None) per path component, and where "**" sits:
    # worked out once here, since every REST request tries templates in turn.
    _flat: tuple[tuple[str, str | None], ...] = dataclasses.field(init=False, repr=False, compare=False)
    _deep: int | None = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        flat: list[tuple[str, str | None]] = []
        for segment in self.segments:
            if isinstance(segment, Variable):
                flat.extend((part, segment.field_path) for part in segment.segments)
            else:
                flat.append((segment, None))
        deep = [index for index, (pattern, _) in enumerate(flat) if pattern == DOUBLE_STAR]
        object.__setattr__(self, "_flat", tuple(flat))
        object.__setattr__(self, "_deep", deep[0] if deep else None)

    def __str__(self) -> str:
        text = "/" + "/".join(str(segment) for segment in self.segments)
        return text + (":" + self.verb if self.verb else "")

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(segment for segment in self.segments if isinstance(segment, Variable))

    def match(self, path: str) -> dict[str, str] | None:
        """Field path -> value for a decoded request path, or None when it does not fit."""
        if not path.startswith("/"):
            return None
        components = path[1:].split("/")
        if self.verb:
            last = components[-1]
            suffix = ":" + self.verb
            # A component that is only ":verb" names nothing, so it cannot match.
            if not last.endswith(suffix) or len(last) == len(suffix):
                return None
            components[-1] = last[: -len(suffix)]
        return _match_segments(self._flat, self._deep, components)


def _match_segments(
    flat: tuple[tuple[str, str | None], ...], deep: int | None, components: list[str]
) -> dict[str, str] | None:
    if deep is not None:
        # "**" swallows whatever lies between the fixed parts before and after it.
        tail = len(flat) - deep - 1
        if len(components) < len(flat) - 1:
            return None
        end = len(components) - tail
        grouped = [*components[:deep], "/".join(components[deep:end]), *components[end:]]
    else:
        if len(components) != len(flat):
            return None
        grouped = components
    captured: dict[str, list[str]] = {}
    for (pattern, field_path), component in zip(flat, grouped, strict=True):
        if pattern not in (STAR, DOUBLE_STAR) and pattern != component:
            return None
        if field_path is not None:
            captured.setdefault(field_path, []).append(component)
    return {field_path: "/".join(parts) for field_path, parts in captured.items()}


def parse_template(template: str) -> PathTemplate:
    """Parse a google.api.http path template; TemplateError explains what is wrong."""
    if not template.startswith("/"):
        raise TemplateError(f"path template {template!r} must start with '/'")
    body, verb = _split_verb(template)
    parsed = PathTemplate(segments=tuple(_parse_segments(body[1:], template, inside_variable=False)), verb=verb)
    if [pattern for pattern, _ in parsed._flat].count(DOUBLE_STAR) > 1:
        raise TemplateError(f"path template {template!r} uses '**' more than once")
    return parsed


def _split_verb(template: str) -> tuple[str, str]:
    depth = 0
    last_slash = 0
    for index, char in enumerate(template):
        if char == "{":
            if depth:
                raise TemplateError(f"path template {template!r} nests '{{'")
            depth = 1
        elif char == "}":
            if not depth:
                raise TemplateError(f"path template {template!r} has a '}}' without '{{'")
            depth = 0
        elif char == "/" and not depth:
            last_slash = index
    if depth:
        raise TemplateError(f"path template {template!r} has an unclosed '{{'")
    # The verb is a ":" outside any variable in the last segment.
    depth = 0
    for index in range(last_slash, len(template)):
        char = template[index]
        if char == "{":
            depth = 1
        elif char == "}":
            depth = 0
        elif char == ":" and not depth:
            verb = template[index + 1 :]
            if not verb or "/" in verb or "{" in verb or "}" in verb:
                raise TemplateError(f"path template {template!r} has an invalid verb {verb!r}")
            return template[:index], verb
    return template, ""


def _split_top_level(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "/" and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _parse_segments(text: str, template: str, *, inside_variable: bool) -> list[Segment]:
    segments: list[Segment] = []
    for part in _split_top_level(text):
        if part == "":
            raise TemplateError(f"path template {template!r} has an empty segment")
        if part.startswith("{"):
            if inside_variable:
                raise TemplateError(f"path template {template!r} nests variables")
            if not part.endswith("}"):
                raise TemplateError(f"path template {template!r} has a malformed variable {part!r}")
            segments.append(_parse_variable(part[1:-1], template))
        elif "{" in part or "}" in part:
            raise TemplateError(f"path template {template!r} has a malformed segment {part!r}")
        else:
            segments.append(part)
    return segments


def _parse_variable(inner: str, template: str) -> Variable:
    field_path, _, pattern = inner.partition("=")
    if not _FIELD_PATH.fullmatch(field_path):
        raise TemplateError(f"path template {template!r} has an invalid field path {field_path!r}")
    if not _:
        return Variable(field_path, (STAR,))
    parts = _parse_segments(pattern, template, inside_variable=True)
    return Variable(field_path, tuple(str(part) for part in parts))

