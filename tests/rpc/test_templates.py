"""Path templates: the google.api.http grammar, its canonical form and matching."""
from __future__ import annotations

import pytest

from memos.rpc.templates import TemplateError, parse_template


def test_a_bare_variable_is_the_same_as_one_with_a_single_star() -> None:
    assert parse_template("/api/v1/shares/{share_token}/memo") == parse_template("/api/v1/shares/{share_token=*}/memo")
    assert str(parse_template("/api/v1/shares/{share_token}/memo")) == "/api/v1/shares/{share_token=*}/memo"


@pytest.mark.parametrize(
    "template",
    [
        "/api/v1/{name=users/*}",
        "/api/v1/{name=users/*}:getStats",
        "/api/v1/users:stats",
        "/api/v1/{memo.name=memos/*}",
        "/api/v1/{name=users/*/settings/*}",
    ],
)
def test_canonical_form_keeps_the_written_template(template: str) -> None:
    assert str(parse_template(template)) == template


def test_verb_and_variables_are_exposed() -> None:
    parsed = parse_template("/api/v1/{name=users/*/webhooks/*}:getSigningSecret")
    assert parsed.verb == "getSigningSecret"
    assert [variable.field_path for variable in parsed.variables] == ["name"]


@pytest.mark.parametrize(
    "template",
    [
        "api/v1/users",
        "/api/v1/{name=users/*",
        "/api/v1/users}",
        "/api/v1/{name",
        "/api/v1/{a{b}}",
        "/api//x",
        "/api/v1/x:",
        "/a/**/b/{c=**}",
    ],
)
def test_malformed_templates_are_rejected(template: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(template)


def test_variable_captures_the_pattern_segments_joined() -> None:
    assert parse_template("/api/v1/{name=users/*/settings/*}").match("/api/v1/users/1/settings/GENERAL") == {
        "name": "users/1/settings/GENERAL"
    }


def test_nested_field_path_is_captured_under_its_dotted_name() -> None:
    assert parse_template("/api/v1/{memo.name=memos/*}").match("/api/v1/memos/abc") == {"memo.name": "memos/abc"}


def test_star_matches_exactly_one_segment() -> None:
    template = parse_template("/api/v1/{name=users/*}")
    assert template.match("/api/v1/users/1/extra") is None
    assert template.match("/api/v1/users") is None
    assert template.match("/api/v1/memos/1") is None


def test_bare_variable_may_contain_a_colon() -> None:
    template = parse_template("/api/v1/shares/{share_token}/memo")
    assert template.match("/api/v1/shares/token:with-colon/memo") == {"share_token": "token:with-colon"}


def test_verb_must_be_present_and_is_stripped_from_the_value() -> None:
    template = parse_template("/api/v1/{name=users/*}:getStats")
    assert template.match("/api/v1/users/7:getStats") == {"name": "users/7"}
    assert template.match("/api/v1/users/7") is None
    assert template.match("/api/v1/users/7:other") is None


def test_literal_with_verb() -> None:
    template = parse_template("/api/v1/users:stats")
    assert template.match("/api/v1/users:stats") == {}
    assert template.match("/api/v1/users") is None


def test_double_star_swallows_the_rest() -> None:
    template = parse_template("/v1/{name=files/**}")
    assert template.match("/v1/files/a/b/c") == {"name": "files/a/b/c"}
