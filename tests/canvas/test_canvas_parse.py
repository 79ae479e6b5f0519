"""Parsing valid canvases: formats, defaults, the canonical form and the round trip."""

from __future__ import annotations

import json

import pytest

from incidentflow.canvas import Canvas, Edge, Node, dump_canvas_yaml, parse_canvas
from incidentflow.errors import CanvasError

MIRROR = """
name: mirror-incidents
description: Copy major incidents
nodes:
  - name: On thing
    type: things.onThing
    integration: my-things
  - name: Only majors
    type: filter
    configuration:
      expression: "root.data.severity == 'major'"
  - name: Create
    type: things.createThing
    integration: my-things
    concurrencyKey: "{{ root.data.incident.id }}"
    configuration:
      name: "{{ root.data.incident.name }} (mirrored)"
      severityId: "01HSEV"
edges:
  - {from: On thing, to: Only majors}
  - {from: Only majors, to: Create, channel: default}
"""


def test_parses_the_documented_example(registry):
    canvas = parse_canvas(MIRROR, registry)

    assert canvas.name == "mirror-incidents"
    assert canvas.description == "Copy major incidents"
    assert [n.name for n in canvas.nodes] == ["On thing", "Only majors", "Create"]
    create = canvas.node("Create")
    assert create.integration == "my-things"
    assert create.concurrency_key == "{{ root.data.incident.id }}"
    assert create.configuration["name"] == "{{ root.data.incident.name }} (mirrored)"
    assert canvas.edges == (Edge("On thing", "Only majors"), Edge("Only majors", "Create"))
    assert canvas.downstream("Only majors", "default") == [create]


def test_defaults_are_applied_to_the_configuration(registry):
    canvas = parse_canvas(MIRROR, registry)

    assert canvas.node("On thing").configuration == {
        "events": ["thing.created", "thing.updated"]
    }
    assert canvas.node("Create").configuration["visibility"] == "public"


def test_blank_optional_values_are_left_out(registry):
    source = {
        "name": "c",
        "nodes": [{"name": "H", "type": "http",
                   "configuration": {"url": "https://x", "note": "", "body": None}}],
    }
    assert parse_canvas(source, registry).node("H").configuration == {
        "url": "https://x", "method": "POST"
    }


def test_json_text_bytes_and_dicts_give_the_same_canvas(registry):
    from_yaml = parse_canvas(MIRROR, registry)
    as_dict = from_yaml.to_dict()

    assert parse_canvas(json.dumps(as_dict), registry) == from_yaml
    assert parse_canvas(json.dumps(as_dict, indent="\t").encode(), registry) == from_yaml
    assert parse_canvas(as_dict, registry) == from_yaml


def test_parsing_a_dict_does_not_alias_it(registry):
    source = {"name": "c", "nodes": [{"name": "H", "type": "http",
                                      "configuration": {"url": "u", "body": {"a": [1]}}}]}
    canvas = parse_canvas(source, registry)
    source["nodes"][0]["configuration"]["body"]["a"].append(2)

    assert canvas.node("H").configuration["body"] == {"a": [1]}


def test_yaml_dates_stay_text(registry):
    source = ("name: c\nnodes:\n"
              "  - {name: H, type: http, configuration: {url: u, body: {on: 2024-01-02}}}")
    body = parse_canvas(source, registry).node("H").configuration["body"]
    assert body == {"on": "2024-01-02"}


def test_to_dict_is_the_canonical_file_form(registry):
    canvas = Canvas(
        name="c",
        nodes=(
            Node("S", "start"),
            Node("I", "if", {"expression": "true"}),
            Node("C", "things.createThing", {"name": "n", "severityId": "s"}, "t", "{{ run.id }}"),
        ),
        edges=(Edge("S", "I"), Edge("I", "C", "true")),
    )
    assert canvas.to_dict() == {
        "name": "c",
        "nodes": [
            {"name": "S", "type": "start"},
            {"name": "I", "type": "if", "configuration": {"expression": "true"}},
            {"name": "C", "type": "things.createThing", "integration": "t",
             "concurrencyKey": "{{ run.id }}",
             "configuration": {"name": "n", "severityId": "s"}},
        ],
        "edges": [{"from": "S", "to": "I"}, {"from": "I", "to": "C", "channel": "true"}],
    }


def test_dump_and_parse_round_trip(registry):
    canvas = parse_canvas(MIRROR, registry)
    text = dump_canvas_yaml(canvas)

    assert parse_canvas(text, registry) == canvas
    assert "channel" not in text  # the default channel is left out


def test_content_hash_ignores_spelling_but_not_content(registry):
    canvas = parse_canvas(MIRROR, registry)
    respelled = parse_canvas(json.dumps(canvas.to_dict(), indent=2), registry)
    with_defaults_omitted = MIRROR.replace("channel: default", "")
    changed = MIRROR.replace("(mirrored)", "(copy)")

    assert respelled.content_hash() == canvas.content_hash()
    assert parse_canvas(with_defaults_omitted, registry).content_hash() == canvas.content_hash()
    assert parse_canvas(changed, registry).content_hash() != canvas.content_hash()


def test_dump_quotes_text_that_yaml_would_read_as_something_else(registry):
    source = {"name": "c", "nodes": [{"name": "H", "type": "http", "configuration": {
        "url": "u", "body": {"a": "yes", "b": "2024-01-02", "c": "1e3", "d": "null", "e": "~"}}}]}
    canvas = parse_canvas(source, registry)
    assert parse_canvas(dump_canvas_yaml(canvas), registry) == canvas


@pytest.mark.parametrize("junk", ["", "null", "[]", "42", "- a\n- b"])
def test_a_document_that_is_not_a_mapping_is_refused(registry, junk):
    with pytest.raises(CanvasError) as caught:
        parse_canvas(junk, registry)
    assert "must be a mapping" in str(caught.value)


def test_only_true_and_false_are_booleans_in_yaml(registry):
    source = ("name: c\nnodes:\n  - {name: H, type: http, configuration: "
              "{url: u, followRedirects: true, body: {a: yes, b: off, c: FALSE}}}")
    configuration = parse_canvas(source, registry).node("H").configuration
    assert configuration["followRedirects"] is True
    assert configuration["body"] == {"a": "yes", "b": "off", "c": False}


def test_unicode_line_breaks_survive_the_round_trip(registry):
    source = {"name": "c", "nodes": [{"name": "H", "type": "http", "configuration": {
        "url": "u\x85", "body": {"a": "x\u2028", "b": "Zwischenfälle"}}}]}
    canvas = parse_canvas(source, registry)
    text = dump_canvas_yaml(canvas)
    assert parse_canvas(text, registry) == canvas
    assert "Zwischenfälle" in text  # readable, not escaped
