"""The document edits behind authoring from the graph, and the palette, without a server."""

from __future__ import annotations

from typing import ClassVar

from incidentflow.canvas import parse_canvas
from incidentflow.components.base import Component, Field
from incidentflow.registry import Registry, default_registry
from incidentflow.web.ui import authoring
from incidentflow.web.ui.authoring import Follow
from incidentflow.web.ui.palette import CORE_GROUP, palette

SOURCE = """\
name: c
nodes:
  - {name: Start, type: start}
  - name: Check
    type: if
    configuration: {expression: "nodes['Start'].data.ok"}
  - name: Echo
    type: noop
edges:
  - {from: Start, to: Check}
  - {from: Check, to: Echo, channel: "true"}
"""


def test_set_follows_replaces_incoming_edges_and_keeps_outgoing_ones() -> None:
    document = authoring.load(SOURCE)
    authoring.set_follows(document, "Check", [])
    authoring.set_follows(document, "Echo", [Follow("Check", "false"), Follow("Start")])
    assert document["edges"] == [
        {"from": "Check", "to": "Echo", "channel": "false"}, {"from": "Start", "to": "Echo"}]


def test_rename_follows_edges_and_expressions_in_both_quote_styles() -> None:
    document = authoring.load(SOURCE.replace("nodes['Start'].data.ok",
                                             "nodes['Start'].data.ok and nodes[\\\"Start\\\"]"))
    authoring.rename_node(document, "Start", "Begin")
    assert authoring.node_names(document) == ["Begin", "Check", "Echo"]
    assert document["edges"][0] == {"from": "Begin", "to": "Check"}
    expression = document["nodes"][1]["configuration"]["expression"]
    assert expression == 'nodes["Begin"].data.ok and nodes["Begin"]'
    parse_canvas(authoring.dump(document), default_registry())  # still a valid canvas


def test_rename_leaves_names_that_only_start_alike() -> None:
    document = authoring.load(SOURCE.replace("nodes['Start']", "nodes['Started']"))
    authoring.rename_node(document, "Start", "Begin")
    assert "nodes['Started']" in document["nodes"][1]["configuration"]["expression"]


def test_delete_removes_the_node_and_its_edges() -> None:
    document = authoring.load(SOURCE)
    authoring.delete_node(document, "Check")
    assert authoring.node_names(document) == ["Start", "Echo"]
    assert document["edges"] == []


def test_free_name_counts_up() -> None:
    assert authoring.free_name("Filter", ["Start"]) == "Filter"
    assert authoring.free_name("Filter", ["Filter", "Filter 2"]) == "Filter 3"


def test_follow_options_leave_out_the_node_itself_and_what_comes_after_it() -> None:
    canvas = parse_canvas(SOURCE, default_registry())
    options = authoring.follow_options(canvas, "Check", default_registry())
    assert options == [Follow("Start")]  # not Check, not Echo (a cycle)
    channels = authoring.follow_options(canvas, None, default_registry())
    assert Follow("Check", "true") in channels and Follow("Check", "false") in channels


def test_a_token_round_trips_names_with_spaces() -> None:
    follow = Follow("Only majors", "true")
    assert Follow.from_token(follow.token) == follow


class Paging(Component):
    type = "pager.page"
    label = "Page someone"
    description = "Sends a page."
    integration = "pager"
    fields: ClassVar[tuple[Field, ...]] = (Field("target", "text", "Target", required=True),)


def test_the_palette_reads_the_registry_so_new_components_appear() -> None:
    registry = Registry(components=dict(default_registry().components))
    registry.add_component(Paging())
    groups = palette(registry)
    assert groups[0].title == CORE_GROUP
    assert any(c.type == "pager.page" for g in groups for c in g.components)
    found = palette(registry, "target")  # field names are searched too
    assert [c.type for g in found for c in g.components] == ["pager.page"]


def test_the_palette_lists_triggers_first_and_filters_by_role() -> None:
    core = palette(default_registry())[0].components
    roles = [c.role for c in core]
    assert roles == sorted(roles, key=lambda role: role != "trigger")
    triggers = palette(default_registry(), role="trigger")
    assert {c.type for g in triggers for c in g.components} >= {"start", "incident.onIncident"}
    assert all(c.role == "trigger" for g in triggers for c in g.components)
