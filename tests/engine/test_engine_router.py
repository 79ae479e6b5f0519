"""Routing: which executions an event causes."""

from __future__ import annotations

from incidentflow.canvas import Canvas, Edge, Node
from incidentflow.components.base import Emission
from incidentflow.engine.router import first_executions, plan
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
    assert [d.concurrency_key for d in yes.downstream] == [None, "{{ root.data.id }}"]


def test_emission_nobody_listens_to_is_still_recorded():
    [emitted] = plan(CANVAS, "N", [Emission(EVENT)])
    assert emitted.downstream == [] and emitted.event == EVENT
