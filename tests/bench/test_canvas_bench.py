"""The canvas figure's canvases are what it says they are, and valid."""

from __future__ import annotations

from bench.canvas_figures import canvas_yaml, chain_yaml
from incidentflow.canvas import parse_canvas
from incidentflow.registry import default_registry


def test_the_large_canvas_has_101_nodes_and_5000_edges() -> None:
    canvas = parse_canvas(canvas_yaml("large", 101, 5000, revision=3), default_registry())
    assert (len(canvas.nodes), len(canvas.edges)) == (101, 5000)
    assert canvas.description == "revision 3"


def test_the_small_canvas_is_a_complete_dag_of_10_nodes() -> None:
    canvas = parse_canvas(canvas_yaml("small", 10), default_registry())
    assert (len(canvas.nodes), len(canvas.edges)) == (10, 1 + 36 + 8)


def test_the_chain_is_listed_target_first() -> None:
    canvas = parse_canvas(chain_yaml(1200), default_registry())
    assert len(canvas.nodes) == 1200
    assert (canvas.edges[0].source, canvas.edges[-1].source) == ("step 1198", "Start")
