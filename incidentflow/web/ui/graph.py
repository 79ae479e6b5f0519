"""The canvas drawing: node boxes and edge routes ready for the SVG template.

Works from a plain draft (names, types, edges) so that a canvas that failed
validation can still be drawn with its broken nodes highlighted.

Past ``MAX_DRAWN_NODES`` nodes or ``MAX_DRAWN_EDGES`` edges a drawing helps nobody and
weighs megabytes, so the graph is an outline instead: every node with the nodes it
leads to (docs/canvases.md). Building either takes up to a few hundred milliseconds on
the largest canvases; pages call ``build_graph`` in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from incidentflow.web.ui.icons import icon_path
from incidentflow.web.ui.layout import BOX_H, BOX_W, Layout, Route, layout

if TYPE_CHECKING:
    from incidentflow.canvas import Canvas
    from incidentflow.registry import Registry

NAME_PX = 13.5  # font size of a node name (ui.css .node .name), bold
NAME_ROOM = BOX_W - 38 - 24  # from the text start to the error/warning flag
NARROW, WIDE = set("iljtfrI.,:;'!|() -"), set("mwMW@%")
# A chain of 300 boxes is already ~100,000 px wide; 5,000 edges are ~1 MB of SVG.
MAX_DRAWN_NODES = 300
MAX_DRAWN_EDGES = 5_000


@dataclass(frozen=True)
class DraftNode:
    name: str
    type: str


@dataclass(frozen=True)
class Draft:
    nodes: list[DraftNode]
    edges: list[tuple[str, str, str]]


@dataclass(frozen=True)
class NodeBox:
    name: str
    short_name: str
    type: str
    type_label: str
    icon: str
    role: str
    glyph: str  # SVG path data of the icon
    glyph_filled: bool
    x: float
    y: float
    has_error: bool
    selected: bool
    warning: str = ""  # e.g. "not operational: signing secret not set"


@dataclass(frozen=True)
class OutlineNode:
    """A node of a canvas too large to draw, with where its edges go."""

    name: str
    type: str
    type_label: str
    has_error: bool
    selected: bool
    warning: str
    leads_to: list[str]  # "Target" or "Target (channel)"


@dataclass
class Graph:
    width: float
    height: float
    box_w: int = BOX_W
    box_h: int = BOX_H
    nodes: list[NodeBox] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    bounded: bool = False  # drawn with the layout's shortcuts (long edges straight)
    # Too large to draw: ``outline`` lists every node instead of ``nodes``/``routes``.
    listed: bool = False
    outline: list[OutlineNode] = field(default_factory=list)
    node_count: int = 0
    edge_count: int = 0
    max_nodes: int = MAX_DRAWN_NODES
    max_edges: int = MAX_DRAWN_EDGES


def draft_of_canvas(canvas: Canvas) -> Draft:
    return Draft(
        nodes=[DraftNode(n.name, n.type) for n in canvas.nodes],
        edges=[(e.source, e.target, e.channel) for e in canvas.edges],
    )


def draft_of_document(document: Any) -> Draft:
    """Best effort from a decoded YAML document that may be invalid."""
    if not isinstance(document, dict):
        return Draft([], [])
    nodes: list[DraftNode] = []
    seen: set[str] = set()
    for raw in _list(document.get("nodes")):
        if isinstance(raw, dict) and isinstance(raw.get("name"), str) and raw["name"] not in seen:
            seen.add(raw["name"])
            nodes.append(DraftNode(raw["name"], str(raw.get("type") or "?")))
    edges = [
        (str(e.get("from")), str(e.get("to")), str(e.get("channel") or "default"))
        for e in _list(document.get("edges"))
        if isinstance(e, dict)
    ]
    return Draft(nodes, edges)


def _list(value: Any) -> list[Any]:
    """``nodes:`` or ``edges:`` of a draft, which may be anything (``nodes: 5``)."""
    return value if isinstance(value, list) else []


def build_graph(
    draft: Draft,
    registry: Registry,
    *,
    errors: set[str] | frozenset[str] = frozenset(),
    selected: str | None = None,
    warnings: dict[str, str] | None = None,
) -> Graph:
    if len(draft.nodes) > MAX_DRAWN_NODES or len(draft.edges) > MAX_DRAWN_EDGES:
        return _outline(draft, registry, errors, selected, warnings or {})
    placed: Layout = layout([n.name for n in draft.nodes], draft.edges)
    graph = Graph(width=placed.width, height=placed.height, routes=placed.routes,
                  bounded=placed.bounded, node_count=len(draft.nodes),
                  edge_count=len(placed.routes))
    for node in draft.nodes:
        box = placed.boxes[node.name]
        label, icon, role = _describe(registry, node.type)
        glyph, filled = icon_path(node.type, role)
        graph.nodes.append(
            NodeBox(
                name=node.name,
                short_name=_shorten(node.name),
                type=node.type,
                type_label=label,
                icon=icon,
                role=role,
                glyph=glyph,
                glyph_filled=filled,
                x=box.x,
                y=box.y,
                has_error=node.name in errors,
                selected=node.name == selected,
                warning=(warnings or {}).get(node.name, ""),
            )
        )
    return graph


def _outline(
    draft: Draft,
    registry: Registry,
    errors: set[str] | frozenset[str],
    selected: str | None,
    warnings: dict[str, str],
) -> Graph:
    names = {node.name for node in draft.nodes}
    leads_to: dict[str, list[str]] = {name: [] for name in names}
    edge_count = 0
    for source, target, channel in draft.edges:
        if source in names and target in names:
            edge_count += 1
            leads_to[source].append(target if channel == "default" else f"{target} ({channel})")
    outline = [
        OutlineNode(
            name=node.name,
            type=node.type,
            type_label=_describe(registry, node.type)[0],
            has_error=node.name in errors,
            selected=node.name == selected,
            warning=warnings.get(node.name, ""),
            leads_to=leads_to[node.name],
        )
        for node in draft.nodes
    ]
    return Graph(width=0, height=0, listed=True, outline=outline,
                 node_count=len(outline), edge_count=edge_count)


def _describe(registry: Registry, type_: str) -> tuple[str, str, str]:
    component = registry.components.get(type_)
    if component is None:
        return f"unknown: {type_}", "?", "action"
    return component.label, component.icon, component.role


def text_width(text: str, size: float = NAME_PX) -> float:
    """A font-independent estimate of bold sans-serif text width, slightly generous,
    so the name never runs out of its box whatever font the browser picks."""
    return sum(_ems(c) for c in text) * size


def _ems(char: str) -> float:
    return 0.36 if char in NARROW else 0.95 if char in WIDE else 0.72 if char.isupper() else 0.6


def _shorten(name: str, room: float = NAME_ROOM) -> str:
    """The name, cut with an ellipsis to fit its box (the full name is in the tooltip,
    the link's accessible name and the node list). One pass: a draft in the editor may
    carry a name of any length."""
    if text_width(name) <= room:
        return name
    ellipsis, ems, kept = _ems("…"), 0.0, 0
    for char in name:
        ems += _ems(char)
        if (ems + ellipsis) * NAME_PX > room:
            break
        kept += 1
    return name[:kept].rstrip() + "…"
