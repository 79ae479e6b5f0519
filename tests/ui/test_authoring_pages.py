"""Authoring from the graph, through the real app and store: start a canvas from a name,
add nodes from the palette, connect, rename and delete them, each a new version saved by
the same service as the YAML editor; and no silent overwrite of a canvas by name."""

from __future__ import annotations

import re
from typing import Any

from ui_support import MAJOR, MIRROR, Browser, apply

from incidentflow.canvas import parse_canvas


def _start(browser: Browser, name: str, trigger: str) -> Any:
    browser.get("/canvases/new")
    return browser.submit("/canvases/start", {"name": name, "type": trigger})


def _saved(app: Any, name: str) -> Any:
    host = app.state.host
    return host.store.get_canvas(name)


def _add(browser: Browser, canvas: str, type_: str, **fields: Any) -> Any:
    browser.get(f"/canvases/{canvas}/add?type={type_}")
    return browser.submit(f"/canvases/{canvas}/add", {"type": type_, "action": "add", **fields})


def test_the_palette_lists_every_registered_component_grouped_with_fields(
    with_integration: Browser, app: Any
) -> None:
    browser = with_integration
    apply(browser, MIRROR)
    page = browser.get("/canvases/mirror/add")
    assert page.status_code == 200
    for component in app.state.host.registry.components.values():
        assert f"?type={component.type}" in page.text, component.type
    assert '<h3 id="palette-group-1">Core</h3>' in page.text
    assert "incident.io" in page.text
    assert "Severity*" in page.text  # fields listed, required ones marked


def test_the_palette_search_works_without_script(with_integration: Browser) -> None:
    browser = with_integration
    apply(browser, MIRROR)
    page = browser.get("/canvases/mirror/add?q=create+incident")
    assert "?type=incident.createIncident" in page.text
    assert "?type=filter" not in page.text


def test_build_on_incident_filter_create_incident_without_yaml(
    with_integration: Browser, app: Any
) -> None:
    browser = with_integration
    answer = _start(browser, "from-scratch", "incident.onIncident")
    assert answer.status_code == 200 and "Canvas created." in answer.text
    assert 'id="palette-q"' in answer.text  # straight to the palette
    assert _saved(app, "from-scratch").version == 1

    answer = _add(browser, "from-scratch", "filter", node_name="Only majors",
                  follows="On Incident\tdefault",
                  **{"field-expression": "root.data.incident.severity.name == 'Major'"})
    assert answer.status_code == 200 and "Node added" in answer.text

    answer = _add(browser, "from-scratch", "incident.createIncident", node_name="Follow-up",
                  integration="incident", follows="Only majors\tdefault",
                  **{"field-name": "[follow-up] {{ root.data.incident.name }}",
                     "field-severityId": MAJOR, "field-visibility": "private"})
    assert answer.status_code == 200 and "Node added" in answer.text

    record = _saved(app, "from-scratch")
    assert record.version == 3
    canvas = parse_canvas(record.source, app.state.host.registry)
    assert [(e.source, e.target) for e in canvas.edges] == [
        ("On Incident", "Only majors"), ("Only majors", "Follow-up")]
    assert canvas.node("Follow-up").integration == "incident"


def test_an_invalid_new_node_is_not_added_and_keeps_what_was_typed(
    with_integration: Browser, app: Any
) -> None:
    browser = with_integration
    _start(browser, "flow", "start")
    answer = _add(browser, "flow", "incident.createIncident", node_name="Open",
                  integration="incident", follows="Start\tdefault",
                  **{"field-name": "{{ root.data.title ", "field-severityId": MAJOR})
    assert answer.status_code == 422
    assert 'id="field-name-error"' in answer.text
    assert "{{ root.data.title " in answer.text
    assert _saved(app, "flow").version == 1


def test_connect_rename_and_delete_each_save_a_version(browser: Browser, app: Any) -> None:
    apply(browser, """\
name: chain
nodes:
  - {name: Start, type: start}
  - {name: A, type: noop}
  - name: B
    type: filter
    configuration: {expression: "nodes['A'].data != none"}
edges:
  - {from: Start, to: A}
""")
    browser.get("/canvases/chain/nodes/B")
    assert 'value="A\tdefault"' in browser.page  # may follow A
    answer = browser.submit("/canvases/chain/nodes/B/connect", {"follows": "A\tdefault"})
    assert "Connections saved" in answer.text
    assert _saved(app, "chain").version == 2

    answer = browser.submit("/canvases/chain/nodes/A/rename", {"new_name": "Enrich"})
    assert answer.status_code == 200 and "Node renamed" in answer.text
    source = _saved(app, "chain").source
    assert "nodes[\"Enrich\"]" in source and "{from: A" not in source
    assert _saved(app, "chain").version == 3

    browser.get("/canvases/chain/nodes/B/delete")
    answer = browser.submit("/canvases/chain/nodes/B/delete", {})
    assert "Node deleted" in answer.text
    canvas = parse_canvas(_saved(app, "chain").source, app.state.host.registry)
    assert [n.name for n in canvas.nodes] == ["Start", "Enrich"]


def test_a_rename_the_canvas_refuses_is_shown_at_the_form(browser: Browser, app: Any) -> None:
    apply(browser, "name: two\nnodes:\n  - {name: Start, type: start}\n  - {name: A, type: noop}\n")
    browser.get("/canvases/two/nodes/A")
    answer = browser.submit("/canvases/two/nodes/A/rename", {"new_name": "Start"})
    assert answer.status_code == 422
    assert 'id="rename-error"' in answer.text and "already named" in answer.text
    assert _saved(app, "two").version == 1


def test_the_last_node_cannot_be_deleted(browser: Browser) -> None:
    apply(browser, "name: one\nnodes:\n  - {name: Start, type: start}\n")
    browser.get("/canvases/one/nodes/Start/delete")
    answer = browser.submit("/canvases/one/nodes/Start/delete", {})
    assert answer.status_code == 422 and "delete the canvas instead" in answer.text


def test_new_canvas_with_a_taken_name_is_refused_with_a_link(
    with_integration: Browser, app: Any
) -> None:
    browser = with_integration
    apply(browser, MIRROR)
    browser.get("/canvases/new")  # the YAML editor of a new canvas: no "editing"
    changed = MIRROR.replace("visibility: private", "visibility: public")
    answer = browser.submit("/canvases", {"source": changed})
    assert answer.status_code == 409
    assert 'href="/canvases/mirror"' in answer.text and "already exists" in answer.text
    assert _saved(app, "mirror").version == 1
    answer = _start(browser, "mirror", "start")
    assert answer.status_code == 422 and "already exists" in answer.text


def test_editing_a_canvas_still_saves_a_new_version(
    with_integration: Browser, app: Any
) -> None:
    browser = with_integration
    apply(browser, MIRROR)
    browser.get("/canvases/mirror/edit")
    changed = MIRROR.replace("visibility: private", "visibility: public")
    answer = browser.submit("/canvases", {"source": changed, "editing": "mirror"})
    assert answer.status_code == 200 and _saved(app, "mirror").version == 2


def test_the_template_name_is_free(browser: Browser) -> None:
    apply(browser, "name: my-canvas\nnodes:\n  - {name: Start, type: start}\n")
    page = browser.get("/canvases/new").text
    assert re.search(r"name: my-canvas-2\n", page)
    assert 'id="start-name" name="name" value="my-canvas-2"' in page
