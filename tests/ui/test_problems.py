"""Locating validation problems in the YAML so the editor can point at them."""

from __future__ import annotations

from incidentflow.errors import Problem
from incidentflow.web.ui.problems import by_node, locate

SOURCE = """\
name: demo
nodes:
  - {name: Start, type: start}
  - name: Only majors
    type: filter
    configuration:
      expression: "root.data.x =="
  - name: Open
    type: noop
"""


def test_a_problem_points_at_its_field_line() -> None:
    [found] = locate([Problem("syntax error", node="Only majors", field="expression")], SOURCE)
    assert found.line == 7


def test_a_problem_without_a_written_field_points_at_the_node() -> None:
    [found] = locate([Problem("is required", node="Open", field="expression")], SOURCE)
    assert found.line == 8  # not line 7, which belongs to the node before


def test_flow_style_nodes_and_canvas_wide_problems() -> None:
    start, whole = locate([Problem("bad", node="Start"), Problem("no nodes")], SOURCE)
    assert start.line == 3 and whole.line is None
    assert list(by_node([start, whole])) == ["Start", None]
