"""The graph layout: layers by longest path, long edges routed around boxes, few crossings."""

from __future__ import annotations

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
