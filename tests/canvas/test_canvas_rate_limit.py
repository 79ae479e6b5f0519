"""The node-level ``rateLimit`` key, and the self-feeding analysis of a canvas."""

from __future__ import annotations

import pytest

from incidentflow.canvas import parse_canvas
from incidentflow.errors import CanvasError
from incidentflow.feedback import feedback_loops, feedback_warnings
from incidentflow.rate_limit import RateLimit, unused_limit_warnings
from incidentflow.registry import Registry
from incidentflow.store.codec import canvas_from_spec, canvas_to_spec

DEFAULT = RateLimit(10, 60)


def canvas_with(create: dict, *, trigger: dict | None = None) -> dict:
    nodes = [{"name": "Start", "type": "start"}]
    if trigger is not None:
        nodes.append({"name": "On Thing", "type": "things.onThing", "integration": "t",
                      **trigger})
    nodes.append({"name": "Create", "type": "things.createThing", "integration": "t",
                  "configuration": {"name": "n", "severityId": "s"}, **create})
    return {"name": "c", "nodes": nodes, "edges": [{"from": "Start", "to": "Create"}]}


def problems(registry: Registry, document: dict) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(CanvasError) as caught:
        parse_canvas(document, registry)
    return [(p.node, p.field, p.message) for p in caught.value.problems]


def test_rate_limit_is_parsed_and_written_back(registry):
    canvas = parse_canvas(canvas_with({"rateLimit": {"max": 3, "per": 30}}), registry)
    node = canvas.node("Create")
    assert node.rate_limit == RateLimit(3, 30.0)
    assert node.to_dict()["rateLimit"] == {"max": 3, "per": 30}
    assert parse_canvas(canvas.to_dict(), registry) == canvas


def test_rate_limit_survives_the_store_codec_and_leaves_old_hashes_alone(registry):
    limited = parse_canvas(canvas_with({"rateLimit": {"max": 3, "per": 1.5}}), registry)
    assert canvas_from_spec(canvas_to_spec(limited)) == limited
    plain = parse_canvas(canvas_with({}), registry)
    assert "rate_limit" not in canvas_to_spec(plain)["nodes"][1]  # same spec as before 0008
    assert canvas_from_spec(canvas_to_spec(plain)).node("Create").rate_limit is None


@pytest.mark.parametrize(("value", "field", "message"), [
    ("ten a minute", "rateLimit", "must be a mapping like {max: 10, per: 60}"),
    ({"per": 60}, "rateLimit.max", "is required (how many per window, e.g. 10)"),
    ({"max": 10}, "rateLimit.per", "is required (the window in seconds, e.g. 60)"),
    ({"max": 0, "per": 60}, "rateLimit.max", "must be from 1 to 100000"),
    ({"max": 2.5, "per": 60}, "rateLimit.max", "must be a whole number"),
    ({"max": True, "per": 60}, "rateLimit.max", "must be a whole number"),
    ({"max": 10, "per": "60s"}, "rateLimit.per", "must be a number of seconds"),
    ({"max": 10, "per": 0.5}, "rateLimit.per", "must be from 1 to 604800 seconds (a week)"),
    ({"max": 10, "per": 60, "burst": 5}, "rateLimit.burst",
     "unknown field 'burst'; known: max, per"),
])
def test_bad_rate_limit_names_node_and_field(registry, value, field, message):
    assert problems(registry, canvas_with({"rateLimit": value})) == [("Create", field, message)]


def test_every_rate_limit_problem_is_reported_together(registry):
    found = problems(registry, canvas_with({"rateLimit": {"max": -1, "per": -1, "x": 1}}))
    assert [field for _, field, _ in found] == ["rateLimit.x", "rateLimit.max", "rateLimit.per"]


def test_a_misspelt_key_suggests_rate_limit(registry):
    (found,) = problems(registry, canvas_with({"ratelimit": {"max": 1, "per": 1}}))
    assert found[:2] == ("Create", "ratelimit") and "did you mean 'rateLimit'?" in found[2]


def test_rate_limit_on_a_node_that_creates_nothing_is_a_warning(registry):
    document = canvas_with({})
    document["nodes"].append({"name": "Log", "type": "note", "rateLimit": {"max": 1, "per": 5}})
    canvas = parse_canvas(document, registry)  # accepted
    (warning,) = unused_limit_warnings(canvas, registry)
    assert (warning.node, warning.field) == ("Log", "rateLimit")
    assert "has no effect: note creates nothing elsewhere" in warning.message


# -- the self-feeding analysis -----------------------------------------------------------


def test_create_action_and_listening_trigger_make_a_loop(registry):
    canvas = parse_canvas(canvas_with({}, trigger={}), registry)
    (loop,) = feedback_loops(canvas, registry, DEFAULT)
    assert (loop.action, loop.trigger, loop.kind) == ("Create", "On Thing", "things.thing")
    assert loop.self_trigger_guard and loop.rate_limit == DEFAULT
    (warning,) = feedback_warnings(canvas, registry, DEFAULT)
    assert warning.node == "Create"
    assert warning.message == (
        "this canvas can feed itself: 'Create' creates things.thing, which 'On Thing' listens "
        "for, so each one it creates can start another run. Protected by the self-trigger "
        "guard of 'On Thing' and the rate limit of 'Create' (10 per 60 s).")


def test_warning_names_the_nodes_own_figures_and_a_disabled_guard(registry):
    document = canvas_with({"rateLimit": {"max": 2, "per": 300}},
                           trigger={"configuration": {"allowSelfTriggered": True}})
    canvas = parse_canvas(document, registry)
    (loop,) = feedback_loops(canvas, registry, DEFAULT)
    assert not loop.self_trigger_guard and loop.rate_limit == RateLimit(2, 300)
    assert loop.guards() == ("only the rate limit of 'Create' (2 per 300 s): the "
                             "self-trigger guard of 'On Thing' is off (allowSelfTriggered: true)")
    assert loop.involves("On Thing") and loop.involves("Create") and not loop.involves("Start")


def test_no_loop_without_a_listener_or_for_another_kind(registry):
    assert feedback_loops(parse_canvas(canvas_with({}), registry), registry, DEFAULT) == []
    document = canvas_with({}, trigger={})
    document["nodes"][2] = {"name": "Create", "type": "pager.page"}
    assert feedback_loops(parse_canvas(document, registry), registry, DEFAULT) == []
