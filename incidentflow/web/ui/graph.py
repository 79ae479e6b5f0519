"""The canvas drawing: node boxes and edge routes ready for the SVG template.

Works from a plain draft (names, types, edges) so that a canvas that failed
validation can still be drawn with its broken nodes highlighted.
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


@dataclass
class Graph:
    width: float
    height: float
    box_w: int = BOX_W
    box_h: int = BOX_H
    nodes: list[NodeBox] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)


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
    for raw in document.get("nodes") or []:
        if isinstance(raw, dict) and isinstance(raw.get("name"), str) and raw["name"] not in seen:
            seen.add(raw["name"])
            nodes.append(DraftNode(raw["name"], str(raw.get("type") or "?")))
    edges = [
        (str(e.get("from")), str(e.get("to")), str(e.get("channel") or "default"))
        for e in document.get("edges") or []
        if isinstance(e, dict)
    ]
    return Draft(nodes, edges)


def build_graph(
    draft: Draft,
    registry: Registry,
    *,
    errors: set[str] | frozenset[str] = frozenset(),
    selected: str | None = None,
    warnings: dict[str, str] | None = None,
) -> Graph:
    placed: Layout = layout([n.name for n in draft.nodes], draft.edges)
    graph = Graph(width=placed.width, height=placed.height, routes=placed.routes)
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


def _describe(registry: Registry, type_: str) -> tuple[str, str, str]:
    component = registry.components.get(type_)
    if component is None:
        return f"unknown: {type_}", "?", "action"
    return component.label, component.icon, component.role


def text_width(text: str, size: float = NAME_PX) -> float:
    """A font-independent estimate of bold sans-serif text width, slightly generous,
    so the name never runs out of its box whatever font the browser picks."""
    ems = sum(0.36 if c in NARROW else 0.95 if c in WIDE else 0.72 if c.isupper() else 0.6
              for c in text)
    return ems * size


def _shorten(name: str, room: float = NAME_ROOM) -> str:
    """The name, cut with an ellipsis to fit its box (the full name is in the tooltip,
    the link's accessible name and the node list)."""
    if text_width(name) <= room:
        return name
    while name and text_width(name + "…") > room:
        name = name[:-1]
    return name.rstrip() + "…"
