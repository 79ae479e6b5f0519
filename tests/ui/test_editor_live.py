"""The YAML editor's live side: the graph of the text as typed or why it cannot be drawn
(with line and column), the field reference of the node under the cursor."""

from __future__ import annotations

from ui_support import MIRROR, Browser

from incidentflow.registry import default_registry
from incidentflow.web.ui.editor_live import live_draft, snippet


def test_a_yaml_error_says_where_instead_of_waiting_for_nodes() -> None:
    live = live_draft("name: x\nnodes:\n  - {name: a\n", default_registry(), None)
    assert live.why_not.startswith("The YAML cannot be read: not valid YAML at line")
    assert "column" in live.why_not


def test_the_graph_follows_the_text_and_marks_broken_nodes() -> None:
    source = MIRROR.replace("On Incident\n    type: incident.onIncident",
                            "On Incident\n    type: incident.onIncidnt")
    live = live_draft(source, default_registry(), None)
    assert live.why_not == ""
    assert {n.name for n in live.graph.nodes} == {"On Incident", "Open follow-up"}
    assert [n.name for n in live.graph.nodes if n.has_error] == ["On Incident"]
    assert live.problem_count >= 1


def test_the_node_under_the_cursor_is_found_in_block_and_flow_styles() -> None:
    registry = default_registry()
    lines = MIRROR.splitlines()
    create_line = next(i for i, text in enumerate(lines, start=1) if "severityId:" in text)
    live = live_draft(MIRROR, registry, create_line)
    assert live.node_type is not None and live.node_type.type == "incident.createIncident"
    assert live.node_name == "Open follow-up"
    flow = "name: f\nnodes:\n  - {name: S, type: start}\n  - {name: F, type: filter}\n"
    assert live_draft(flow, registry, 4).node_name == "F"
    assert live_draft(flow, registry, 1).node_type is None  # the canvas's own name line


def test_a_snippet_shows_the_required_configuration() -> None:
    text = snippet(default_registry().component("incident.createIncident"))
    assert "type: incident.createIncident" in text and "integration: incident" in text
    assert "      name: <" in text and "      severityId: <" in text


def test_the_draft_endpoint_answers_the_fragment_for_the_cursor(browser: Browser) -> None:
    browser.get("/canvases/new")
    line = MIRROR.splitlines().index("  - name: Open follow-up") + 2
    answer = browser.submit("/canvases/draft", {"source": MIRROR, "line": str(line)})
    assert answer.status_code == 200
    assert 'id="live-graph-content"' in answer.text and "<svg" in answer.text
    assert "<code>configuration.severityId</code>" in answer.text
    assert "<html" not in answer.text  # a fragment, not a page


def test_the_draft_endpoint_checks_the_form_token(browser: Browser) -> None:
    answer = browser.client.post("/canvases/draft", data={"source": MIRROR})
    assert answer.status_code == 403


def test_the_editor_page_says_why_the_graph_is_missing(browser: Browser) -> None:
    browser.get("/canvases/new")
    answer = browser.submit("/canvases", {"source": "name: x\nnodes: [\n"})
    assert answer.status_code == 422
    assert 'id="graph-why-not"' in answer.text and "line" in answer.text
    assert "The graph appears here once the YAML has nodes." not in answer.text
