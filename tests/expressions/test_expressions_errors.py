"""Failures are ExpressionErrors naming node, field and what was missing; never ''."""

from __future__ import annotations

import pytest

from incidentflow.errors import ExpressionError
from incidentflow.expressions import EXPRESSIONS

SCOPE = {
    "root": {"type": "t", "timestamp": "ts",
             "data": {"incident": {"name": "DB", "summary": None, "severity": "major"},
                      "list": [1, 2]}},
    "previous": {"type": "t", "timestamp": "ts", "data": {}},
    "nodes": {"Create": {"type": "x", "timestamp": "ts", "data": {"id": "1"}}},
    "run": {"id": "r", "canvas": "c"},
}


def failure(template) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        EXPRESSIONS.render(template, SCOPE, node="Create incident", field="name")
    return caught.value


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ root.data.title }}", "root.data has no field 'title' (fields: incident, list)"),
        ("Incident: {{ root.data.incident.nme }}",
         "root.data.incident has no field 'nme' (fields: name, severity, summary)"),
        ("{{ root['data']['nope'] }}", "root['data'] has no field 'nope' (fields: incident, list)"),
        ("{{ incident.name }}",
         "unknown name 'incident' (names: nodes, previous, root, run, secrets)"),
        ("{{ nodes['Missing'].data }}", "node 'Missing' has not emitted an event in this run"),
        ("{{ root.data.list[5] }}", "root.data.list has no item 5 (it has 2)"),
        ("{{ root.data.incident.summary.text }}",
         "root.data.incident.summary is null, so it has no field 'text'"),
        ("{{ root.data.incident.severity.id }}",
         "root.data.incident.severity is a str ('major'), so it has no field 'id'"),
    ],
)
def test_missing_values_name_the_path(template, message):
    error = failure(template)
    assert (error.node, error.field, error.detail) == ("Create incident", "name", message)
    assert str(error) == f"Create incident.name: {message}"


def test_missing_value_inside_a_whole_expression_container():
    assert "root has no field 'zz'" in failure("{{ {'a': root.zz} }}").detail
    assert "root has no field 'zz'" in failure("{{ [1, root.zz] }}").detail


def test_missing_value_used_in_a_condition_is_an_error():
    with pytest.raises(ExpressionError) as caught:
        EXPRESSIONS.condition("root.data.sevrity == 'major'", SCOPE, "Only majors", "expression")
    assert caught.value.node == "Only majors" and caught.value.field == "expression"
    assert "root.data has no field 'sevrity'" in caught.value.detail


def test_errors_inside_objects_name_the_nested_field():
    body = {"incident": {"title": "{{ root.data.title }}"}, "list": ["ok", "{{ nope }}"]}
    with pytest.raises(ExpressionError) as caught:
        EXPRESSIONS.render(body, SCOPE, node="Call", field="body")
    assert caught.value.field == "body.incident.title"
    with pytest.raises(ExpressionError) as caught:
        EXPRESSIONS.render({"list": ["ok", "{{ nope }}"]}, SCOPE, node="Call", field="body")
    assert caught.value.field == "body.list[1]"


def test_a_missing_value_in_a_loop_still_fails():
    error = failure("{% for x in root.data.list %}{{ x.name }}{% endfor %}")
    assert "has no attribute 'name'" in error.detail


def test_missing_value_behind_a_default_filter_is_allowed():
    rendered = EXPRESSIONS.render("{{ root.data.title | default('untitled') }}", SCOPE, "n", "f")
    assert rendered == "untitled"
    assert EXPRESSIONS.render("{{ root.data.title is defined }}", SCOPE, "n", "f") is False


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ root.__class__ }}",
        "x {{ cycler.__init__.__globals__ }}",
        "{{ root.data.list.append(3) }}",
        "{{ root.data.incident.update({'name': 'x'}) }}",
    ],
)
def test_sandbox_refuses_escapes(template):
    error = failure(template)
    assert error.detail.startswith("not allowed:")
    assert SCOPE["root"]["data"]["list"] == [1, 2]
    assert SCOPE["root"]["data"]["incident"]["name"] == "DB"


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{{ 'a' + 1 }}", "TypeError"),
        ("{{ root.data. }}", "syntax error"),
        ("{{ cycler }}", "is not a JSON value"),
    ],
)
def test_runtime_and_syntax_errors_are_expression_errors(template, fragment):
    error = failure(template)
    assert fragment in error.detail and error.field == "name"


def test_empty_condition_is_an_error():
    with pytest.raises(ExpressionError, match="empty"):
        EXPRESSIONS.condition("  ", SCOPE, "n", "expression")


def test_a_long_field_list_is_cut_with_an_ellipsis():
    wide = {f"f{i:02d}": i for i in range(20)}
    scope = {**SCOPE, "root": {**SCOPE["root"], "data": wide}}
    with pytest.raises(ExpressionError) as caught:
        EXPRESSIONS.render("{{ root.data.nope }}", scope, node="N", field="name")
    listed = ", ".join(f"f{i:02d}" for i in range(12))
    assert caught.value.detail == f"root.data has no field 'nope' (fields: {listed}, …)"


def test_a_field_list_of_exactly_twelve_has_no_ellipsis():
    twelve = {f"f{i:02d}": i for i in range(12)}
    scope = {**SCOPE, "root": {**SCOPE["root"], "data": twelve}}
    with pytest.raises(ExpressionError) as caught:
        EXPRESSIONS.render("{{ root.data.nope }}", scope, node="N", field="name")
    assert caught.value.detail.endswith("f11)")
