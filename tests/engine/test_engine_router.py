"""Routing: which executions an event causes."""

from __future__ import annotations

from incidentflow.canvas import Canvas, Edge, Node
from incidentflow.components.base import Emission
from incidentflow.engine.router import concurrency_key, first_executions, plan
from incidentflow.events import Event

CANVAS = Canvas(
    name="c",
    nodes=(
        Node("T", "t.start"),
        Node("If", "t.if"),
        Node("Y1", "t.echo"),
        Node("Y2", "t.echo", concurrency_key="{{ root.data.id }}"),
        Node("N", "t.echo"),
    ),
    edges=(
        Edge("T", "If"),
        Edge("If", "Y1", "true"),
        Edge("If", "Y2", "true"),
        Edge("If", "N", "false"),
    ),
)
EVENT = Event("x", {"id": 1})


def test_trigger_event_reaches_its_subscribers():
    assert [(n.node, n.input) for n in first_executions(CANVAS, "T", EVENT)] == [("If", EVENT)]


def test_emissions_follow_their_channel():
    other = Event("y", {})
    [yes, no] = plan(CANVAS, "If", [Emission(EVENT, "true"), Emission(other, "false")])
    assert (yes.channel, [d.node for d in yes.downstream]) == ("true", ["Y1", "Y2"])
    assert (no.event, [(d.node, d.input) for d in no.downstream]) == (other, [("N", other)])
    # The key is rendered at enqueue time, against the run's trigger event.
    assert [d.concurrency_key for d in yes.downstream] == [None, "c\x1fY2\x1f1"]


def test_emission_nobody_listens_to_is_still_recorded():
    [emitted] = plan(CANVAS, "N", [Emission(EVENT)])
    assert emitted.downstream == [] and emitted.event == EVENT


def test_concurrency_key_is_rendered_from_the_root_event():
    node = Node("Y2", "t.echo", concurrency_key="{{ root.data.id }}")
    keys = {concurrency_key("c", node, Event("x", {"id": n}), EVENT) for n in (1, 2, 1)}
    assert keys == {"c\x1fY2\x1f1", "c\x1fY2\x1f2"}


def test_concurrency_key_of_another_canvas_or_node_never_collides():
    root = Event("x", {"id": 7})
    a = concurrency_key("c", Node("A", "t.echo", concurrency_key="k"), root, root)
    b = concurrency_key("c", Node("B", "t.echo", concurrency_key="k"), root, root)
    other = concurrency_key("d", Node("A", "t.echo", concurrency_key="k"), root, root)
    assert len({a, b, other}) == 3


def test_unrenderable_concurrency_key_serializes_instead_of_failing():
    node = Node("A", "t.echo", concurrency_key="{{ root.data.missing }}")
    first = concurrency_key("c", node, Event("x", {"id": 1}), EVENT)
    second = concurrency_key("c", node, Event("x", {"id": 2}), EVENT)
    assert first is not None and first == second


def test_long_concurrency_key_is_stored_as_its_hash():
    node = Node("A", "t.echo", concurrency_key="{{ root.data.id }}")
    key = concurrency_key("c", node, Event("x", {"id": "z" * 1000}), EVENT)
    assert key is not None and key.startswith("sha256:") and len(key) < 100
