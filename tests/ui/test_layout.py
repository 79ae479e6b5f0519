"""The graph layout: layers by longest path, long edges routed around boxes, few crossings."""

from __future__ import annotations

import json
import random
import sys

from layout_cases import GOLDEN, cases, fingerprint

from incidentflow.web.ui import layout as layout_module
from incidentflow.web.ui.layout import BOX_H, BOX_W, layout


def test_layers_follow_the_longest_path() -> None:
    # A -> B -> C and A -> C: C sits after B, not next to it.
    placed = layout(["A", "B", "C"], [("A", "B", "default"), ("B", "C", "default"),
                                      ("A", "C", "default")])
    assert [placed.boxes[n].layer for n in "ABC"] == [0, 1, 2]
    assert placed.boxes["A"].x < placed.boxes["B"].x < placed.boxes["C"].x


def test_a_long_edge_does_not_run_through_a_box() -> None:
    placed = layout(["A", "B", "C"], [("A", "B", "default"), ("B", "C", "default"),
                                      ("A", "C", "default")])
    b = placed.boxes["B"]
    long_edge = next(r for r in placed.routes if (r.source, r.target) == ("A", "C"))
    ys = [float(v) for v in long_edge.path.replace("M", " ").replace("C", " ").split()[1::2]]
    xs = [float(v) for v in long_edge.path.replace("M", " ").replace("C", " ").split()[0::2]]
    inside_b = [y for x, y in zip(xs, ys, strict=True) if b.x <= x <= b.x + BOX_W]
    assert inside_b and all(y < b.y or y > b.y + BOX_H for y in inside_b)


def test_ordering_removes_avoidable_crossings() -> None:
    # File order puts the children the wrong way round: X->Q, Y->P crosses unless reordered.
    nodes = ["X", "Y", "P", "Q"]
    edges = [("X", "Q", "default"), ("Y", "P", "default")]
    placed = layout(nodes, edges)
    assert placed.crossings == 0
    x_above_y = placed.boxes["X"].y < placed.boxes["Y"].y
    assert x_above_y == (placed.boxes["Q"].y < placed.boxes["P"].y)


def test_thirty_nodes_never_overlap() -> None:
    nodes = [f"n{i}" for i in range(30)]
    edges = [(f"n{i}", f"n{j}", "default") for i in range(30) for j in (2 * i + 1, 2 * i + 2)
             if j < 30]
    edges += [("n0", "n29", "true"), ("n3", "n20", "false")]
    placed = layout(nodes, edges)
    boxes = list(placed.boxes.values())
    assert len(boxes) == 30
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = (a.x + BOX_W <= b.x or b.x + BOX_W <= a.x or
                     a.y + BOX_H <= b.y or b.y + BOX_H <= a.y)
            assert apart, (a, b)
        assert a.x >= 0 and a.x + BOX_W <= placed.width
        assert a.y >= 0 and a.y + BOX_H <= placed.height
    assert len(placed.routes) == len(edges)


def test_a_cycle_is_still_drawn() -> None:
    placed = layout(["A", "B"], [("A", "B", "default"), ("B", "A", "default")])
    assert {(r.source, r.target) for r in placed.routes} == {("A", "B"), ("B", "A")}
    assert placed.boxes["A"].layer == 0 and placed.boxes["B"].layer == 1


def test_edges_to_unknown_nodes_are_left_out() -> None:
    placed = layout(["A"], [("A", "Ghost", "default")])
    assert placed.routes == [] and list(placed.boxes) == ["A"]


# --- bounded work on large and dense canvases ----------------------------------------


def test_normal_canvases_are_drawn_exactly_as_before() -> None:
    """The examples and seeded random graphs of a normal size, against the layout
    recorded before its work was bounded (tests/ui/data/layout_golden.json)."""
    golden = json.loads(GOLDEN.read_text())
    for name, (nodes, edges) in cases().items():
        drawn = json.loads(json.dumps(fingerprint(nodes, edges)))
        assert drawn == golden[name], name
        assert not layout(nodes, edges).bounded, name


def _chain(length: int) -> tuple[list[str], list[tuple[str, str, str]]]:
    """A chain listed target-first: nodes shuffled, edges from the last to the first."""
    names = [f"step {i}" for i in range(length)]
    edges = [(names[i], names[i + 1], "default") for i in range(length - 1)][::-1]
    shuffled = names[:]
    random.Random(7).shuffle(shuffled)
    return shuffled, edges


def _stack_depth() -> int:
    frame, depth = sys._getframe(), 0
    while frame is not None:
        frame, depth = frame.f_back, depth + 1
    return depth


def test_a_1200_node_chain_in_any_order_is_laid_out_without_recursion() -> None:
    nodes, edges = _chain(1200)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_stack_depth() + 60)  # room for layout's own calls, no more
    try:
        placed = layout(nodes, edges)
    finally:
        sys.setrecursionlimit(limit)
    assert [placed.boxes[f"step {i}"].layer for i in (0, 1, 599, 1199)] == [0, 1, 599, 1199]
    assert len(placed.routes) == 1199 and placed.crossings == 0 and not placed.bounded


def test_a_dense_canvas_gets_the_bounded_layout() -> None:
    # A complete DAG of 100 nodes: 4,950 edges, ~160,000 layer crossings of long edges.
    nodes = [f"n{i}" for i in range(100)]
    edges = [(a, b, "default") for i, a in enumerate(nodes) for b in nodes[i + 1:]]
    placed = layout(nodes, edges)
    assert placed.bounded and len(placed.routes) == 4950
    # Long edges run straight: a route is one curve, not a curve per layer crossed.
    longest = next(r for r in placed.routes if (r.source, r.target) == ("n0", "n99"))
    assert longest.path.count("C ") == 1
    assert [placed.boxes[n].layer for n in ("n0", "n50", "n99")] == [0, 50, 99]


def test_crossing_reduction_stops_at_its_work_budget(monkeypatch) -> None:
    nodes = ["X", "Y", "P", "Q"]
    edges = [("X", "Q", "default"), ("Y", "P", "default")]
    monkeypatch.setattr(layout_module, "SWEEP_WORK", 1)  # not even one sweep
    placed = layout(nodes, edges)
    assert placed.bounded and placed.crossings == 1  # file order kept, crossing and all


def test_crossings_are_counted_exactly() -> None:
    """The O(e log e) count agrees with comparing every pair of segments."""
    rng = random.Random(11)
    for _ in range(200):
        upper = [f"u{i}" for i in range(rng.randrange(1, 8))]
        lower = [f"l{i}" for i in range(rng.randrange(1, 8))]
        down = {u: rng.sample(lower, rng.randrange(len(lower) + 1)) for u in upper}
        segments = [(i, lower.index(t)) for i, u in enumerate(upper) for t in down[u]]
        pairs = sum(1 for a, (s1, t1) in enumerate(segments) for s2, t2 in segments[a + 1:]
                    if (s1 - s2) * (t1 - t2) < 0)
        assert layout_module._crossings([upper, lower], down) == pairs
