"""Every canvas in ``examples/`` is one a team could apply as it is: it parses with the
default registry, each node passes its component's own check, what it reads from
incident.io's events is guarded where incident.io may leave a field out, and it says
how to try it. (The end-to-end behaviour of each is in ``test_examples_e2e.py``.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentflow.canvas import parse_canvas
from incidentflow.registry import default_registry
from incidentflow.web.ui.node_form import add_previews, example_scope, field_views

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


def test_the_examples_are_there() -> None:
    assert {p.name for p in EXAMPLES} >= {
        "notify-on-major.yaml", "page-critical-then-postmortem.yaml",
        "alerts-to-incident-io.yaml", "status-to-chat.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_example_parses_and_passes_its_nodes_checks(path: Path) -> None:
    registry = default_registry()
    canvas = parse_canvas(path.read_text(), registry)
    assert canvas.name == path.stem  # `incidentflow apply` names it after the file's text
    problems = [p for node in canvas.nodes
                for p in registry.component(node.type).check(node.name, node.configuration)]
    assert problems == []
    assert "# Try it: incidentflow apply examples/" + path.name in path.read_text()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_example_guards_what_its_events_may_lack(path: Path) -> None:
    """Each expression also works on the trigger's minimal example (only the fields its
    service guarantees), so a real event without e.g. a summary does not fail a step."""
    registry = default_registry()
    canvas = parse_canvas(path.read_text(), registry)
    for node in canvas.nodes:
        views = field_views(registry.component(node.type), node.configuration)
        scope, _ = example_scope(canvas, node.name, registry)
        minimal, _ = example_scope(canvas, node.name, registry, minimal=True)
        add_previews(views, scope, node.name, None, minimal)
        fragile = [(v.field.name, v.fragile) for v in views if v.fragile]
        assert fragile == [], (node.name, fragile)
