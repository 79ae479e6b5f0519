"""Editing a canvas document without YAML: add, connect, rename and delete nodes.

Pure functions over the decoded document (the mapping YAML reads into). The pages
save the result through ``CanvasService.apply_canvas``, the same service the YAML editor uses,
so validation, secrets and warnings are the same whichever way a canvas is edited.
Comments in the YAML are lost by these edits (the editor keeps them).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from incidentflow.canvas_io import read_document
from incidentflow.errors import CanvasError, Problem

if TYPE_CHECKING:
    from incidentflow.canvas import Canvas
    from incidentflow.registry import Registry

DEFAULT_CHANNEL = "default"


@dataclass(frozen=True)
class Follow:
    """One edge into a node: it runs after ``source`` emits on ``channel``."""

    source: str
    channel: str = DEFAULT_CHANNEL

    @property
    def token(self) -> str:
        """How a checkbox names it in a form (node names cannot contain a tab)."""
        return f"{self.source}\t{self.channel}"

    @classmethod
    def from_token(cls, token: str) -> Follow:
        source, _, channel = token.partition("\t")
        return cls(source, channel or DEFAULT_CHANNEL)


def load(source: str) -> dict[str, Any]:
    """The saved canvas as a mutable mapping (the canvas loader's limits apply)."""
    document = read_document(source)
    if not isinstance(document, dict):
        raise CanvasError([Problem("a canvas must be a mapping with name, nodes and edges")])
    return copy.deepcopy(document)


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def new_document(name: str, node: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "nodes": [node], "edges": []}


def node_entry(
    name: str, type_: str, integration: str | None, configuration: dict[str, Any]
) -> dict[str, Any]:
    """A node as written in the document (empty parts left out, as a person would)."""
    entry: dict[str, Any] = {"name": name, "type": type_}
    if integration:
        entry["integration"] = integration
    if configuration:
        entry["configuration"] = configuration
    return entry


def node_names(document: dict[str, Any]) -> list[str]:
    return [str(raw.get("name")) for raw in _nodes(document) if isinstance(raw, dict)]


def free_name(wanted: str, taken: list[str] | set[str]) -> str:
    """``wanted``, or ``wanted 2``, ``wanted 3``... whichever is not taken yet."""
    if wanted not in taken:
        return wanted
    number = 2
    while f"{wanted} {number}" in taken:
        number += 1
    return f"{wanted} {number}"


def add_node(document: dict[str, Any], node: dict[str, Any], follows: list[Follow]) -> None:
    document.setdefault("nodes", []).append(node)
    set_follows(document, str(node["name"]), follows)


def set_configuration(document: dict[str, Any], name: str, config: dict[str, Any]) -> None:
    """Replace one node's configuration (comments are lost: the editor keeps them, a
    form cannot)."""
    for raw in _nodes(document):
        if isinstance(raw, dict) and raw.get("name") == name:
            raw["configuration"] = config


def set_follows(document: dict[str, Any], name: str, follows: list[Follow]) -> None:
    """Replace the edges into ``name`` with ``follows`` (edges out of it are kept)."""
    kept = [e for e in _edges(document) if not (isinstance(e, dict) and e.get("to") == name)]
    for follow in follows:
        edge = {"from": follow.source, "to": name}
        if follow.channel != DEFAULT_CHANNEL:
            edge["channel"] = follow.channel
        kept.append(edge)
    document["edges"] = kept


def rename_node(document: dict[str, Any], old: str, new: str) -> None:
    """Rename a node, its edges and the expressions that read it (``nodes["Old"]``)."""
    for raw in _nodes(document):
        if isinstance(raw, dict) and raw.get("name") == old:
            raw["name"] = new
    for edge in _edges(document):
        if isinstance(edge, dict):
            for end in ("from", "to"):
                if edge.get(end) == old:
                    edge[end] = new
    pattern = re.compile(r"""nodes\[(["'])""" + re.escape(old) + r"""\1\]""")
    replacement = "nodes[" + '"' + new.replace("\\", "\\\\") + '"]'
    for raw in _nodes(document):
        if isinstance(raw, dict) and isinstance(raw.get("configuration"), dict):
            raw["configuration"] = _rewrite_strings(raw["configuration"], pattern, replacement)


def delete_node(document: dict[str, Any], name: str) -> None:
    """Remove a node and every edge into or out of it."""
    document["nodes"] = [
        raw for raw in _nodes(document) if not (isinstance(raw, dict) and raw.get("name") == name)
    ]
    document["edges"] = [
        e for e in _edges(document)
        if not (isinstance(e, dict) and name in (e.get("from"), e.get("to")))
    ]


def follow_options(canvas: Canvas, node: str | None, registry: Registry) -> list[Follow]:
    """What a node may follow: every (node, channel) of the canvas except the node itself
    and the nodes after it (following one of those would close a cycle)."""
    after = _downstream(canvas, node) if node else set()
    options = []
    for candidate in canvas.nodes:
        if candidate.name == node or candidate.name in after:
            continue
        component = registry.components.get(candidate.type)
        for channel in component.channels if component else (DEFAULT_CHANNEL,):
            options.append(Follow(candidate.name, channel))
    return options


def connect_view(canvas: Canvas, node: str, registry: Registry) -> dict[str, Any]:
    """What the node panel's "Runs after" form shows. Triggers start runs: nothing
    leads into them, so they get no such form."""
    component = registry.components.get(canvas.node(node).type)
    if component is None or component.role == "trigger":
        return {"follow_options": [], "follows": set()}
    current = {Follow(e.source, e.channel).token for e in canvas.edges if e.target == node}
    return {"follow_options": follow_options(canvas, node, registry), "follows": current}


def _downstream(canvas: Canvas, node: str) -> set[str]:
    seen: set[str] = set()
    frontier = [node]
    while frontier:
        current = frontier.pop()
        for edge in canvas.edges:
            if edge.source == current and edge.target not in seen:
                seen.add(edge.target)
                frontier.append(edge.target)
    return seen


def _rewrite_strings(value: Any, pattern: re.Pattern[str], replacement: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(lambda _match: replacement, value)
    if isinstance(value, dict):
        return {k: _rewrite_strings(v, pattern, replacement) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite_strings(v, pattern, replacement) for v in value]
    return value


def _nodes(document: dict[str, Any]) -> list[Any]:
    nodes = document.get("nodes")
    return nodes if isinstance(nodes, list) else []


def _edges(document: dict[str, Any]) -> list[Any]:
    edges = document.get("edges")
    return edges if isinstance(edges, list) else []
