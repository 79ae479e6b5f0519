"""Validation stays linear in nodes + edges: dense canvases validate, the work for a
canvas four times as large is about four times the work, and problem lists stay short."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from incidentflow.canvas import parse_canvas
from incidentflow.errors import CanvasError


def dense(nodes: int, edges: int | None = None) -> dict[str, Any]:
    """Start, then ``nodes - 1`` filters with an edge from each to every later one
    (a complete DAG), cut to ``edges`` edges when given."""
    names = [f"f{i}" for i in range(nodes - 1)]
    wiring = [{"from": "Start", "to": names[0]}] + [
        {"from": a, "to": b} for i, a in enumerate(names) for b in names[i + 1:]
    ]
    return {
        "name": "dense",
        "nodes": [{"name": "Start", "type": "start"}] + [
            {"name": n, "type": "filter", "configuration": {"expression": "root.data.ok"}}
            for n in names
        ],
        "edges": wiring[:edges],
    }


def test_a_dense_canvas_of_101_nodes_and_4950_edges_validates(registry) -> None:
    document = dense(101)
    del document["edges"][0]  # Start's edge: 100 filters wired completely = 4,950
    canvas = parse_canvas(document, registry)
    assert len(canvas.nodes) == 101 and len(canvas.edges) == 4950
    assert [n.name for n in canvas.downstream("f0", "default")][:2] == ["f1", "f2"]


def test_a_canvas_of_5000_edges_validates(registry) -> None:
    canvas = parse_canvas(dense(102, 5000), registry)
    assert len(canvas.edges) == 5000


def test_a_duplicate_among_thousands_of_edges_is_still_found(registry) -> None:
    document = dense(101)
    document["edges"].append({"from": "f3", "to": "f7"})
    with pytest.raises(CanvasError) as caught:
        parse_canvas(document, registry)
    [problem] = caught.value.problems
    assert problem.field == f"edges[{len(document['edges']) - 1}]"
    assert problem.message == "the same edge is listed twice"


def _work(document: dict[str, Any], registry) -> int:
    """Python and C function calls made by one validation: a deterministic measure of
    work (an edge compared with every earlier edge shows as one call per comparison)."""
    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        parse_canvas(document, registry)
    finally:
        sys.setprofile(None)
    return calls


def test_validation_work_grows_linearly_with_nodes_and_edges(registry) -> None:
    small, large = dense(20), dense(40)  # 20 nodes + 172 edges, 40 + 742: x3.9 in size
    parse_canvas(small, registry)  # compile the shared expression once, outside the count
    size = (len(large["nodes"]) + len(large["edges"])) / (len(small["nodes"]) +
                                                          len(small["edges"]))
    ratio = _work(large, registry) / _work(small, registry)
    # Linear work grows like the size (x3.9); comparing edge pairs would grow ~x17.
    assert ratio < 1.6 * size, (ratio, size)


def test_many_cycles_are_counted_but_only_the_first_are_spelled_out(registry) -> None:
    document = dense(31)
    # 30 back edges to the first filter, each closing its own cycle.
    document["edges"] += [{"from": f"f{i}", "to": "f0"} for i in range(1, 30)]
    with pytest.raises(CanvasError) as caught:
        parse_canvas(document, registry)
    problems = caught.value.problems
    spelled = [p for p in problems if p.message.startswith("the edges form a cycle")]
    assert len(spelled) == 20 and len(problems) == 21
    assert all(p.node == "f0" and p.message.endswith(" → f0") for p in spelled)
    assert (problems[-1].field, problems[-1].message) == (
        "edges", "and 9 more edges close a cycle")


def test_an_unknown_edge_end_lists_at_most_twenty_node_names(registry) -> None:
    document = dense(26)
    document["edges"].append({"from": "f2", "to": "Nowhere"})
    with pytest.raises(CanvasError) as caught:
        parse_canvas(document, registry)
    [problem] = caught.value.problems
    names = ", ".join(["Start"] + [f"f{i}" for i in range(19)])
    assert problem.message == f"unknown node 'Nowhere'; nodes: {names} and 6 more"
