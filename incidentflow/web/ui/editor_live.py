"""The YAML editor's live side: the graph of the text as typed (or why it cannot be
drawn), and the field reference of the node under the cursor.

``POST /canvases/draft`` answers an HTML fragment; ui.js sends the text on every
keystroke (debounced) and swaps the fragment in. The first render of the editor uses
the same function, so without script the page says the same things."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from incidentflow.canvas import parse_canvas
from incidentflow.canvas_io import read_document
from incidentflow.errors import CanvasError
from incidentflow.web.ui import graph as graphs
from incidentflow.web.ui.context import ui

if TYPE_CHECKING:
    from incidentflow.components.base import Component
    from incidentflow.registry import Registry

_NODE_START = re.compile(r"^(\s*)-\s*(\{\s*)?name\s*:")
_TOP_KEY = re.compile(r"^(\w+)\s*:")


@dataclass
class LiveDraft:
    graph: graphs.Graph
    why_not: str  # why there is no drawing ("" when there is one)
    problem_count: int  # validation problems of the text as it is
    node_type: Component | None  # the node under the cursor
    node_name: str


def live_draft(source: str, registry: Registry, line: int | None,
               errors: set[str] | None = None) -> LiveDraft:
    """Synchronous and possibly slow on a large canvas: call it in a worker thread."""
    try:
        document = read_document(source)
    except CanvasError as exc:
        message = exc.problems[0].message if exc.problems else str(exc)
        empty = graphs.build_graph(graphs.draft_of_document(None), registry)
        return LiveDraft(empty, f"The YAML cannot be read: {message}", 0, None, "")
    draft = graphs.draft_of_document(document)
    why_not = "" if draft.nodes else (
        "No node to draw yet: list them under nodes:, each with a name and a type."
        if isinstance(document, dict) else "A canvas is a mapping with name, nodes and edges.")
    problems = _problems(document, registry)
    broken = (errors or set()) | {str(p.node) for p in problems if p.node}
    graph = graphs.build_graph(draft, registry, errors=broken)
    component, name = _node_at(source, document, registry, line)
    return LiveDraft(graph, why_not, len(problems), component, name)


def _problems(document: Any, registry: Registry) -> list[Any]:
    try:
        parse_canvas(document, registry)
    except CanvasError as exc:
        return list(exc.problems)
    return []


def _node_at(source: str, document: Any, registry: Registry,
             line: int | None) -> tuple[Component | None, str]:
    """The component of the node written around 1-based ``line``, from the text's node
    entries under ``nodes:`` (the n-th ``- name:`` is the document's n-th node)."""
    if not line or not isinstance(document, dict) or not isinstance(document.get("nodes"), list):
        return None, ""
    index = _entry_index(source.splitlines(), line)
    nodes = document["nodes"]
    if index is None or index >= len(nodes) or not isinstance(nodes[index], dict):
        return None, ""
    raw = nodes[index]
    component = registry.components.get(str(raw.get("type") or ""))
    return component, str(raw.get("name") or "")


def _entry_index(lines: list[str], line: int) -> int | None:
    section, index = "", -1
    for text in lines[: max(line, 0)]:
        if top := _TOP_KEY.match(text):
            section = top.group(1)
            continue
        if section == "nodes" and _NODE_START.match(text):
            index += 1
    return index if section == "nodes" and index >= 0 else None


def snippet(component: Component) -> str:
    """The YAML a person would write for one node of this type."""
    lines = [f"  - name: {component.label}", f"    type: {component.type}"]
    if component.integration and not component.integration_optional:
        lines.append(f"    integration: {component.integration}")
    required = [f for f in component.fields if f.required]
    if required:
        lines.append("    configuration:")
        for spec in required:
            example = spec.options[0].value if spec.options else f"<{spec.label.lower()}>"
            lines.append(f"      {spec.name}: {example}")
    return "\n".join(lines)


async def draft_fragment(request: Request) -> Response:
    """The live preview of the posted text (CSRF-checked like every form post)."""
    context = ui(request)
    form = await context.form(request)
    source = str(form.get("source") or "").replace("\r\n", "\n")
    line = _int(form.get("line"))
    live = await context.in_thread(live_draft, source, context.host.registry, line)
    return context.templates.TemplateResponse(
        request, "_editor_live.html", {"live": live, "snippet": snippet},
        headers={"Cache-Control": "no-store"},
    )


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
