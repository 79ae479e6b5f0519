"""Previews also run against an event with only the fields incident.io guarantees, and
say which expression would fail on a real event and how to guard it."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from ui_support import MAJOR, Browser, apply

from incidentflow.canvas import parse_canvas
from incidentflow.registry import default_registry
from incidentflow.web.ui.node_form import add_previews, example_scope, field_views, guard_for

EXAMPLES = Path(__file__).resolve().parents[2] / "incidentflow/integrations/incidentio/examples"

CANVAS = f"""\
name: truthful
nodes:
  - name: On Incident
    type: incident.onIncident
  - name: Only majors
    type: filter
    configuration:
      expression: "root.data.incident.severity.name in ['Major', 'Critical']"
  - name: Open follow-up
    type: incident.createIncident
    integration: incident
    configuration:
      name: "[follow-up] {{{{ root.data.incident.name }}}}"
      summary: "{{{{ root.data.incident.summary }}}}"
      severityId: {MAJOR}
edges:
  - {{from: On Incident, to: Only majors}}
  - {{from: Only majors, to: Open follow-up}}
"""


@pytest.mark.parametrize(("name", "full_key"), [("on-incident", ("data", "incident")),
                                                  ("create-incident", ("data",))])
def test_the_minimal_examples_keep_only_fields_the_full_examples_have_or_require(
    name: str, full_key: tuple[str, ...]
) -> None:
    minimal = json.loads((EXAMPLES / f"{name}-minimal.json").read_text())
    full = json.loads((EXAMPLES / f"{name}.json").read_text())
    for key in full_key:
        minimal, full = minimal[key], full[key]
    assert {"id", "name", "reference", "incident_status", "visibility"} <= set(minimal)
    # optional in incident.io's schema, so absent from the guaranteed example
    assert not {"summary", "severity", "permalink"} & set(minimal)


def test_the_incident_components_declare_their_minimal_examples() -> None:
    registry = default_registry()
    for type_ in ("incident.onIncident", "incident.createIncident"):
        assert registry.component(type_).example_minimal is not None, type_


def test_guard_for_a_leaf_and_for_a_path_through_a_missing_object() -> None:
    leaf = "root.data.incident has no field 'summary' (fields: id, …)"
    assert guard_for(leaf, ["{{ root.data.incident.summary }}"]) == (
        "root.data.incident.summary | default('')")
    deep = "root.data.incident has no field 'severity' (fields: id, …)"
    assert guard_for(deep, ["root.data.incident.severity.name in ['Major']"]) == (
        "(root.data.incident.severity | default({})).name | default('')")
    assert guard_for("something else went wrong", ["x"]) == ""


def test_the_node_panel_flags_optional_fields_and_shows_the_guard(
    with_integration: Browser,
) -> None:
    apply(with_integration, CANVAS)
    page = with_integration.get("/canvases/truthful/nodes/Open%20follow-up").text
    fragile = re.search(r'id="field-summary-fragile">(.*?)</p>', page, re.S)
    assert fragile, "the summary preview does not warn"
    text = html.unescape(fragile.group(1))
    assert "has no field 'summary'" in text
    assert "root.data.incident.summary | default('')" in text
    # the full example still previews normally, and a guaranteed field is not flagged
    assert 'id="field-summary-preview"' in page
    assert 'id="field-name-fragile"' not in page

    filter_page = with_integration.get("/canvases/truthful/nodes/Only%20majors").text
    assert "(root.data.incident.severity | default({})).name" in html.unescape(filter_page)


def test_the_example_canvases_guard_every_optional_field() -> None:
    """What the shipped examples (and the demo) read would not fail on a real event
    that lacks incident.io's optional fields."""
    registry = default_registry()
    examples = Path(__file__).resolve().parents[2] / "incidentflow/examples"
    for path in sorted(examples.glob("*.yaml")):
        canvas = parse_canvas(path.read_text(), registry)
        for node in canvas.nodes:
            views = field_views(registry.component(node.type), node.configuration)
            scope, _ = example_scope(canvas, node.name, registry)
            minimal, _ = example_scope(canvas, node.name, registry, minimal=True)
            add_previews(views, scope, node.name, None, minimal)
            problems = [(v.field.name, v.preview_error or v.fragile) for v in views
                        if v.preview_error or v.fragile]
            assert problems == [], (path.name, node.name, problems)


def test_a_guarded_expression_is_not_flagged(with_integration: Browser) -> None:
    guarded = CANVAS.replace("{{ root.data.incident.summary }}",
                             "{{ root.data.incident.summary | default('none') }}")
    apply(with_integration, guarded)
    page = with_integration.get("/canvases/truthful/nodes/Open%20follow-up").text
    assert 'id="field-summary-fragile"' not in page
