"""Every validation problem is reported, and each one names its node and field."""

from __future__ import annotations

import copy

import pytest

from incidentflow.canvas import parse_canvas
from incidentflow.errors import CanvasError, Problem

BASE = {
    "name": "c",
    "nodes": [
        {"name": "Start", "type": "start"},
        {"name": "Check", "type": "if", "configuration": {"expression": "root.data.ok"}},
        {"name": "Call", "type": "http", "configuration": {"url": "https://example.test"}},
    ],
    "edges": [{"from": "Start", "to": "Check"}, {"from": "Check", "to": "Call", "channel": "true"}],
}


def problems(registry, source) -> list[Problem]:
    with pytest.raises(CanvasError) as caught:
        parse_canvas(source, registry)
    return caught.value.problems


def edited(change) -> dict:
    source = copy.deepcopy(BASE)
    change(source)
    return source


def only(registry, source) -> Problem:
    found = problems(registry, source)
    assert len(found) == 1, found
    return found[0]


def test_the_base_canvas_is_valid(registry):
    assert parse_canvas(BASE, registry).name == "c"


def test_yaml_syntax_error_gives_the_line(registry):
    problem = only(registry, "name: c\nnodes:\n  - {name: a\n  - b: [\n")
    assert "not valid YAML" in problem.message and "line" in problem.message


def test_a_key_given_twice_is_refused_with_its_line(registry):
    problem = only(registry, "name: c\nname: d\nnodes: []\n")
    assert "'name' appears twice" in problem.message and "line 2" in problem.message


def test_bytes_that_are_not_utf8_are_refused(registry):
    assert "UTF-8" in only(registry, b"name: \xff\xfe").message


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        (None, "is required"),
        ("", "is required"),
        (42, "must be text"),
        ("a/b", "only letters"),
        ("x" * 101, "at most 100"),
        (" padded", "start or end"),
        ("..", "letter or a digit"),
    ],
)
def test_invalid_canvas_names(registry, name, fragment):
    problem = only(registry, edited(lambda s: s.update(name=name)))
    assert problem.field == "name" and problem.node is None
    assert fragment in problem.message


def test_names_may_use_letters_of_any_alphabet(registry):
    assert parse_canvas(edited(lambda s: s.update(name="Zwischenfälle v1.2_x")), registry)


def test_unknown_top_level_key_suggests_the_right_one(registry):
    problem = only(registry, edited(lambda s: s.update(edgez=[])))
    assert problem.field == "edgez" and "did you mean 'edges'" in problem.message


@pytest.mark.parametrize("nodes", [None, [], "Start"])
def test_a_canvas_needs_nodes(registry, nodes):
    source = {"name": "c", "nodes": nodes}
    assert only(registry, source).field == "nodes"


def test_node_without_name_or_type(registry):
    source = {"name": "c", "nodes": [{"type": "start"}, {"name": "B"}]}
    found = problems(registry, source)
    assert Problem("node name is required", node="nodes[0]", field="name") in found
    assert Problem("is required", node="B", field="type") in found


def test_unknown_node_type_lists_the_known_ones(registry):
    problem = only(registry, edited(lambda s: s["nodes"][2].update(type="htpp")))
    assert (problem.node, problem.field) == ("Call", "type")
    assert "'htpp'" in problem.message and "known types: filter, http, if," in problem.message


def test_duplicate_node_names(registry):
    source = edited(lambda s: s["nodes"].append({"name": "Call", "type": "start"}))
    problem = only(registry, source)
    assert (problem.node, problem.field) == ("Call", "name")
    assert "already named" in problem.message


def test_unknown_configuration_field_is_named(registry):
    problem = only(registry, edited(
        lambda s: s["nodes"][1]["configuration"].update(expresion="x")))
    assert (problem.node, problem.field) == ("Check", "configuration.expresion")
    assert "did you mean 'expression'" in problem.message


def test_unknown_node_key_is_named(registry):
    problem = only(registry, edited(lambda s: s["nodes"][1].update(config={})))
    assert (problem.node, problem.field) == ("Check", "config")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_required_field(registry, value):
    problem = only(registry, edited(lambda s: s["nodes"][2]["configuration"].update(url=value)))
    assert (problem.node, problem.field, problem.message) == (
        "Call", "configuration.url", "is required")


def test_a_configuration_field_beside_configuration_is_one_problem_not_two(registry):
    """Written at the node's level, ``url`` is reported once, as misplaced, and not also
    as "is required" (that pair read as a contradiction)."""
    def move(source):
        source["nodes"][2]["url"] = source["nodes"][2].pop("configuration")["url"]
    problem = only(registry, edited(move))
    assert (problem.node, problem.field) == ("Call", "url")
    assert "belongs under 'configuration:'" in problem.message
    assert "configuration.url" in problem.message


def test_a_node_name_problem_is_not_confused_with_a_configuration_name(registry):
    """``name`` alone is the node's name; ``configuration.name`` the field of that name."""
    source = {"name": "c", "nodes": [
        {"name": "Open", "type": "things.createThing", "integration": "i",
         "configuration": {"severityId": "x"}}]}
    assert [(p.node, p.field, p.message) for p in problems(registry, source)] == [
        ("Open", "configuration.name", "is required")]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("method", "PUT", "'PUT' is not one of: GET, POST"),
        ("method", 1, "must be text"),
        ("timeout", "5", "must be a number"),
        ("timeout", True, "must be a number"),
        ("followRedirects", "yes", "must be true or false"),
        ("url", 5, "must be text"),
    ],
)
def test_wrong_kind_of_value(registry, field, value, fragment):
    problem = only(registry, edited(
        lambda s: s["nodes"][2]["configuration"].update({field: value})))
    assert (problem.node, problem.field) == ("Call", f"configuration.{field}")
    assert fragment in problem.message


def thing_canvas(**configuration) -> dict:
    node = {"name": "On", "type": "things.onThing", "integration": "t"}
    if configuration:
        node["configuration"] = configuration
    return {"name": "c", "nodes": [node]}


def test_multiselect_must_be_a_non_empty_list_of_options(registry):
    assert only(registry, thing_canvas(events=[])).message == "is required"
    assert only(registry, thing_canvas(events="thing.created")).message == "must be a list"
    problem = only(registry, thing_canvas(events=["thing.created", "thing.deleted"]))
    assert (problem.node, problem.field) == ("On", "configuration.events[1]")
    assert "'thing.deleted' is not one of" in problem.message
    problem = only(registry, thing_canvas(events=["thing.created", "thing.created"]))
    assert "listed twice" in problem.message


def test_resource_selects_take_any_id(registry):
    source = {"name": "c", "nodes": [{"name": "Make", "type": "things.createThing",
                                      "integration": "t",
                                      "configuration": {"name": "x", "severityId": "01ANY"}}]}
    assert parse_canvas(source, registry).node("Make").configuration["severityId"] == "01ANY"


def test_template_syntax_error_names_node_and_field(registry):
    problem = only(registry, edited(lambda s: s["nodes"][2]["configuration"].update(
        url="https://x/{{ root.data.id ")))
    assert (problem.node, problem.field) == ("Call", "configuration.url")
    assert problem.message.startswith("syntax error")


def test_syntax_error_deep_inside_an_object_names_the_path(registry):
    body = {"items": [{"ok": "{{ root.data }}"}, {"bad": "{% if %}"}]}
    problem = only(registry, edited(lambda s: s["nodes"][2]["configuration"].update(body=body)))
    assert (problem.node, problem.field) == ("Call", "configuration.body.items[1].bad")


def test_condition_syntax_error_and_unknown_names(registry):
    problem = only(registry, edited(
        lambda s: s["nodes"][1]["configuration"].update(expression="root.data.x ==")))
    assert (problem.node, problem.field) == ("Check", "configuration.expression")
    assert "syntax error" in problem.message
    problem = only(registry, edited(
        lambda s: s["nodes"][1]["configuration"].update(expression="rot.data.x")))
    assert "unknown name 'rot'" in problem.message


def test_expression_naming_a_node_that_is_not_in_the_canvas(registry):
    problem = only(registry, edited(lambda s: s["nodes"][2]["configuration"].update(
        url="https://x/{{ nodes['Chek'].data.id }}")))
    assert (problem.node, problem.field) == ("Call", "configuration.url")
    assert "'Chek'" in problem.message


def test_concurrency_key_is_checked_as_a_template(registry):
    problem = only(registry, edited(lambda s: s["nodes"][2].update(concurrencyKey="{{ x")))
    assert (problem.node, problem.field) == ("Call", "concurrencyKey")


def test_integration_node_needs_an_integration(registry):
    source = thing_canvas()
    del source["nodes"][0]["integration"]
    problem = only(registry, source)
    assert (problem.node, problem.field) == ("On", "integration")
    assert "'things'" in problem.message


def test_core_node_takes_no_integration(registry):
    problem = only(registry, edited(lambda s: s["nodes"][1].update(integration="t")))
    assert (problem.node, problem.field) == ("Check", "integration")


@pytest.mark.parametrize("end", ["from", "to"])
def test_edge_to_or_from_an_unknown_node(registry, end):
    problem = only(registry, edited(lambda s: s["edges"][1].update({end: "Nowhere"})))
    assert (problem.node, problem.field) == (None, f"edges[1].{end}")
    assert "unknown node 'Nowhere'" in problem.message


def test_edge_without_an_end(registry):
    problem = only(registry, edited(lambda s: s["edges"][0].pop("to")))
    assert (problem.field, problem.message) == ("edges[0].to", "is required")


def test_edge_on_a_channel_the_source_does_not_have(registry):
    problem = only(registry, edited(lambda s: s["edges"][1].update(channel="yes")))
    assert problem.field == "edges[1].channel"
    assert "no channel 'yes'" in problem.message and "true, false" in problem.message


def test_default_channel_must_exist_on_the_source(registry):
    problem = only(registry, edited(lambda s: s["edges"][1].pop("channel")))
    assert "no channel 'default'" in problem.message


def test_nothing_leads_into_a_trigger(registry):
    problem = only(registry, edited(
        lambda s: s["edges"].append({"from": "Call", "to": "Start", "channel": "success"})))
    assert problem.field == "edges[2].to" and "trigger" in problem.message


def test_duplicate_edge(registry):
    problem = only(registry, edited(lambda s: s["edges"].append({"from": "Start", "to": "Check"})))
    assert problem.field == "edges[2]"


def test_a_cycle_names_its_nodes(registry):
    problem = only(registry, edited(
        lambda s: s["edges"].append({"from": "Call", "to": "Check", "channel": "failure"})))
    assert (problem.node, problem.field) == ("Check", "edges")
    assert "Check → Call → Check" in problem.message


def test_a_node_wired_to_itself_is_a_cycle(registry):
    problem = only(registry, edited(
        lambda s: s["edges"].append({"from": "Call", "to": "Call", "channel": "success"})))
    assert "Call → Call" in problem.message


def test_component_checks_run_on_well_typed_configuration(registry):
    problem = only(registry, edited(lambda s: s["nodes"][2]["configuration"].update(
        method="GET", body={"a": 1})))
    assert problem == Problem("a GET request has no body", node="Call", field="configuration.body")


def test_values_that_are_not_json_are_refused(registry):
    problem = only(registry, "name: c\nnodes:\n  - {name: H, type: http, configuration: "
                             "{url: u, body: {x: .nan}}}")
    assert problem.field == "nodes[0].configuration.body.x"
    assert "finite" in problem.message


def test_an_alias_bomb_is_refused_quickly(registry):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, "
              f"*a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 9)]
    assert "too large" in problems(registry, "\n".join(lines))[0].message


def test_every_problem_is_reported_at_once(registry):
    source = {
        "name": "bad/name",
        "nodes": [
            {"name": "A", "type": "nope"},
            {"name": "B", "type": "filter", "configuration": {"expression": "(("}},
            {"name": "B", "type": "start"},
        ],
        "edges": [{"from": "B", "to": "Z"}],
    }
    located = {(p.node, p.field) for p in problems(registry, source)}
    assert located == {
        (None, "name"), ("A", "type"), ("B", "configuration.expression"), ("B", "name"),
        (None, "edges[0].to"),
    }


@pytest.mark.parametrize(
    "source",
    ['{"name": ' + "[" * 50_000 + "]" * 50_000 + "}", "name: " + "[" * 50_000 + "]" * 50_000],
)
def test_deep_nesting_is_refused(registry, source):
    assert "nest" in problems(registry, source)[0].message
