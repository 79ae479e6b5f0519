"""Rendering templates and evaluating conditions in the sandbox."""

from __future__ import annotations

import pytest

from incidentflow.events import Event
from incidentflow.expressions import EXPRESSIONS, Expressions, scope_for

INCIDENT = {"id": "01HX", "name": "Database down", "severity": {"name": "Major"},
            "custom_field_entries": [], "summary": None}
ROOT = Event("incident.incident.created", {"event_type": "public_incident.incident_created_v2",
                                           "incident": INCIDENT}, "2026-01-19T12:00:00Z")
CREATED = Event("incident.incident", {"id": "01NEW", "items": ["a", "b"], "count": 3})


@pytest.fixture
def scope():
    return scope_for(ROOT, ROOT, {"Create": CREATED}, run_id="run-1", canvas="mirror")


def render(value, scope):
    return EXPRESSIONS.render(value, scope, node="Node", field="field")


def test_scope_holds_events_as_plain_dicts(scope):
    assert scope["root"] == {"type": "incident.incident.created",
                             "timestamp": "2026-01-19T12:00:00Z", "data": ROOT.data}
    assert scope["nodes"]["Create"]["data"]["id"] == "01NEW"
    assert scope["run"] == {"id": "run-1", "canvas": "mirror"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ root.data.incident }}", INCIDENT),
        ("{{ root.data.incident.custom_field_entries }}", []),
        ("  {{ nodes['Create'].data.count }}\n", 3),
        ("{{ nodes['Create'].data.count > 2 }}", True),
        ("{{ root.data.incident.summary }}", None),
        ("{{ nodes.Create.data.id }}", "01NEW"),
        ("{{ '}}' }}", "}}"),
        ("{{ -1 }}", -1),
        ("{{ (1, 2) }}", [1, 2]),
    ],
)
def test_a_whole_expression_keeps_its_native_type(scope, template, expected):
    result = render(template, scope)
    assert result == expected and type(result) is type(expected)


def test_text_that_looks_like_a_number_stays_text(scope):
    assert render("{{ run.id ~ '' }}", scope) == "run-1"
    assert render("{{ '123' }}", scope) == "123"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ root.data.incident.name }} (mirrored)", "Database down (mirrored)"),
        ("{{ nodes['Create'].data.count }} items", "3 items"),
        ("{{ run.id }}{{ run.canvas }}", "run-1mirror"),
        ("{% if root.data.incident.severity.name == 'Major' %}P1{% else %}P3{% endif %}", "P1"),
        ("ids: {{ nodes['Create'].data['items'] }}", 'ids: ["a", "b"]'),
        ("{{ root.data.incident.name | upper }}{# a comment #}", "DATABASE DOWN"),
    ],
)
def test_mixed_text_becomes_a_string(scope, template, expected):
    assert render(template, scope) == expected


def test_objects_are_rendered_recursively_and_keep_non_strings(scope):
    body = {"title": "{{ root.data.incident.name }}", "count": 4, "ok": True, "none": None,
            "tags": ["static", "{{ nodes['Create'].data.count }}"],
            "nested": {"incident": "{{ root.data.incident.severity }}"}}
    assert render(body, scope) == {
        "title": "Database down", "count": 4, "ok": True, "none": None,
        "tags": ["static", 3], "nested": {"incident": {"name": "Major"}},
    }


def test_strings_without_markup_are_returned_untouched(scope):
    text = "plain text with } and { and %"
    assert render(text, scope) is text


def test_data_keys_win_over_dict_methods(scope):
    assert render("{{ nodes['Create'].data.items }}", scope) == ["a", "b"]
    assert render("{{ root.data.incident.keys() | list | length }}", scope) == len(INCIDENT)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("root.data.incident.severity.name == 'Major'", True),
        ("root.data.incident.severity.name == 'Minor'", False),
        ("nodes['Create'].data.count >= 3 and 'a' in nodes['Create'].data['items']", True),
        ("root.data.incident.summary", False),
        ("root.data.incident.custom_field_entries | length == 0", True),
    ],
)
def test_conditions(scope, expression, expected):
    assert EXPRESSIONS.condition(expression, scope, "Filter", "expression") is expected


def test_evaluate_returns_native_values(scope):
    assert EXPRESSIONS.evaluate("nodes['Create'].data['items'] | first", scope, "n", "f") == "a"
    assert EXPRESSIONS.evaluate("{'a': run.id}", scope, "n", "f") == {"a": "run-1"}


def test_fromjson_filter(scope):
    assert render("{{ '{\"a\": [1]}' | fromjson }}", scope) == {"a": [1]}


def test_compiled_templates_are_cached():
    expressions = Expressions()
    scope = {"root": {"data": {"x": 1}}}
    assert expressions.render("{{ root.data.x }}", scope, "n", "f") == 1
    assert expressions.render("{{ root.data.x }}", {"root": {"data": {"x": 2}}}, "n", "f") == 2
    assert len(expressions._cache) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{{ root.data.x }}", None),
        ("plain", None),
        ("{% for i in root.data.items %}{{ i }}{% endfor %}", None),
        ("{{ root.data.x ", "syntax error"),
        ("a\n{{ root. }}", "(line 2)"),
        ("{% if root %}", "syntax error"),
        ("{{ root | nosuchfilter }}", "No filter named 'nosuchfilter'"),
        ("{{ incident.name }}", "unknown name 'incident'"),
    ],
)
def test_check_template(text, problem):
    found = EXPRESSIONS.check_template(text)
    assert (found is None) if problem is None else (problem in found)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("root.data.severity == 'major'", None),
        ("previous.data.x and run.id", None),
        ("root.data.x ==", "syntax error"),
        ("root.data.x == 1 2", "syntax error"),
        ("{{ root }}", "syntax error"),
        ("", "empty"),
        ("severity == 'major'", "unknown name 'severity'"),
    ],
)
def test_check_condition(text, problem):
    found = EXPRESSIONS.check_condition(text)
    assert (found is None) if problem is None else (problem in found)


def test_referenced_nodes():
    template = "{{ nodes['Create'].data.id }} {{ nodes.Other }} {{ nodes[run.id] }}"
    assert EXPRESSIONS.referenced_nodes(template) == {"Create", "Other"}
    assert EXPRESSIONS.referenced_nodes("nodes['A'].data", condition=True) == {"A"}
    assert EXPRESSIONS.referenced_nodes("{{ broken") == frozenset()
