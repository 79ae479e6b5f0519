"""Properties: junk never escapes as anything but CanvasError; dump/parse round-trips."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidentflow.canvas import Canvas, dump_canvas_yaml, parse_canvas
from incidentflow.errors import CanvasError

FAST = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)
# Valid names: an alphanumeric first character, no trailing space.
names = st.builds(lambda head, rest: head + rest.rstrip(), st.sampled_from("aZ0é"),
                  st.text("bY9 _.-ü", max_size=12))
NODE_TYPES = ["start", "filter", "if", "http", "things.onThing", "things.createThing", "nope"]
junk_nodes = st.fixed_dictionaries(
    {},
    optional={
        "name": names | json_scalars,
        "type": st.sampled_from(NODE_TYPES) | json_scalars,
        "configuration": json_values,
        "integration": json_scalars,
        "concurrencyKey": st.text() | json_scalars,
    },
)
junk_documents = st.fixed_dictionaries(
    {},
    optional={
        "name": names | json_values,
        "nodes": st.lists(junk_nodes | json_values, max_size=4) | json_values,
        "edges": st.lists(st.dictionaries(st.sampled_from(["from", "to", "channel"]),
                                          names | json_scalars), max_size=4) | json_values,
    },
)


def parses_or_refuses(registry, source):
    try:
        canvas = parse_canvas(source, registry)
    except CanvasError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
    else:
        assert isinstance(canvas, Canvas)


@FAST
@given(text=st.text(max_size=200))
def test_any_text_parses_or_raises_canvas_error(registry, text):
    parses_or_refuses(registry, text)


@FAST
@given(data=st.binary(max_size=200))
def test_any_bytes_parse_or_raise_canvas_error(registry, data):
    parses_or_refuses(registry, data)


@settings(FAST, max_examples=50)
@given(document=junk_documents)
def test_any_structure_parses_or_raises_canvas_error(registry, document):
    parses_or_refuses(registry, document)
    parses_or_refuses(registry, yaml.safe_dump(document))


text_values = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                             blacklist_characters="\x00{}%#"), max_size=20)
http_configs = st.fixed_dictionaries(
    {"url": text_values.filter(str.strip)},
    optional={
        "method": st.sampled_from(["POST"]),
        "body": st.recursive(st.none() | st.booleans() | st.integers() | text_values,
                             lambda inner: st.lists(inner, max_size=3)
                             | st.dictionaries(names, inner, max_size=3), max_leaves=8),
        "timeout": st.integers(0, 100) | st.floats(0, 100),
        "followRedirects": st.booleans(),
        "note": text_values,
    },
)


@st.composite
def valid_canvases(draw):
    node_names = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    nodes = [{"name": node_names[0], "type": "start"}]
    for name in node_names[1:]:
        nodes.append({"name": name, "type": "http", "configuration": draw(http_configs),
                      "concurrencyKey": draw(st.none() | st.just("{{ run.id }}"))})
    edges = []
    for index, name in enumerate(node_names[1:], start=1):
        source = draw(st.sampled_from(node_names[:index]))  # only earlier nodes: no cycles
        channel = "default" if source == node_names[0] else draw(
            st.sampled_from(["success", "failure"]))
        edges.append({"from": source, "to": name, "channel": channel})
    description = draw(st.none() | text_values)
    return {"name": draw(names), "description": description, "nodes": nodes, "edges": edges}


@settings(FAST, max_examples=50)
@given(document=valid_canvases())
def test_dump_then_parse_gives_the_same_canvas(registry, document):
    canvas = parse_canvas(document, registry)

    assert parse_canvas(dump_canvas_yaml(canvas), registry) == canvas
    assert parse_canvas(json.dumps(canvas.to_dict()), registry) == canvas
    assert parse_canvas(canvas.to_dict(), registry).content_hash() == canvas.content_hash()
