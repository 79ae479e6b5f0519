"""The canvas model: nodes wired by edges, and its validation (a contract).

```yaml
name: mirror-incidents
description: optional
nodes:
  - {name: Start, type: start}
  - {name: Only majors, type: filter, configuration: {expression: "root.data.severity == 'major'"}}
  - name: Create
    type: incident.createIncident
    integration: my-incident                       # integration nodes only
    concurrencyKey: "{{ root.data.incident.id }}"  # optional template
    configuration: {name: "{{ root.data.incident.name }}", severityId: "01..."}
edges:
  - {from: Start, to: Only majors}          # channel defaults to "default"
```

Validation collects every problem before refusing (``CanvasError``); each problem names
the node (``nodes[i]`` while the node has no usable name) and the field by its full path
in the node: ``configuration.name``, ``configuration.body.text`` (``name`` alone is the
node's own name). Edge problems are located by field ``edges[i].from`` / ``.to`` /
``.channel``.

The checks themselves live in ``incidentflow.canvas_validation`` (``parse_canvas`` is
the way in); reading and writing the text (YAML/JSON) lives in
``incidentflow.canvas_io``, whose public names (``dump_canvas_yaml``, the size limits)
are re-exported here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from incidentflow.canvas_io import (
    MAX_DEPTH,
    MAX_SOURCE_CHARS,
    MAX_VALUES,
    dump_canvas_yaml,
    read_document,
)
from incidentflow.components.base import Component
from incidentflow.errors import CanvasError, Problem
from incidentflow.rate_limit import RateLimit

if TYPE_CHECKING:
    from incidentflow.registry import Registry

__all__ = [
    "MAX_DEPTH",
    "MAX_SOURCE_CHARS",
    "MAX_VALUES",
    "Canvas",
    "Edge",
    "Node",
    "dump_canvas_yaml",
    "read_document",
    "parse_canvas",
]

@dataclass(frozen=True)
class Node:
    name: str
    type: str
    configuration: dict[str, Any] = field(default_factory=dict)
    integration: str | None = None
    # Optional template; executions of this node with the same rendered key run in order.
    concurrency_key: str | None = None
    # Optional: this node's own limit on creating things elsewhere (``rate_limit.py``).
    rate_limit: RateLimit | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.integration is not None:
            out["integration"] = self.integration
        if self.concurrency_key is not None:
            out["concurrencyKey"] = self.concurrency_key
        if self.rate_limit is not None:
            out["rateLimit"] = self.rate_limit.to_dict()
        if self.configuration:
            out["configuration"] = copy.deepcopy(self.configuration)
        return out


@dataclass(frozen=True)
class Edge:
    source: str  # "from" in the file
    target: str  # "to" in the file
    channel: str = "default"

    def to_dict(self) -> dict[str, str]:
        out = {"from": self.source, "to": self.target}
        if self.channel != "default":
            out["channel"] = self.channel
        return out


@dataclass(frozen=True)
class Canvas:
    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...] = ()
    description: str = ""

    def node(self, name: str) -> Node:
        return self._by_name[name]  # KeyError for an unknown node

    def downstream(self, source: str, channel: str) -> list[Node]:
        """Nodes subscribed to ``channel`` of ``source``, in file order."""
        return list(self._subscribers.get((source, channel), ()))

    # Indexes built on first use: the engine asks for nodes and subscribers once per
    # execution, and a canvas may have hundreds of nodes. Canvases never change.
    @cached_property
    def _by_name(self) -> dict[str, Node]:
        return {node.name: node for node in self.nodes}

    @cached_property
    def _subscribers(self) -> dict[tuple[str, str], tuple[Node, ...]]:
        index: dict[tuple[str, str], list[Node]] = {}
        for edge in self.edges:
            index.setdefault((edge.source, edge.channel), []).append(self.node(edge.target))
        return {key: tuple(nodes) for key, nodes in index.items()}

    def to_dict(self) -> dict[str, Any]:
        """The canonical file form (YAML/JSON), with defaults left out."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["nodes"] = [node.to_dict() for node in self.nodes]
        out["edges"] = [edge.to_dict() for edge in self.edges]
        return out

    def content_hash(self) -> str:
        """Same content, same hash: saving unchanged content makes no new version."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def parse_canvas(source: str | bytes | dict[str, Any], registry: Registry) -> Canvas:
    """Parse YAML/JSON text (or an already-decoded mapping) and validate it.

    Raises CanvasError listing *every* problem, each naming node and field.
    """
    # Imported here: the validating reader builds the model above (canvas_validation
    # imports this module), and ``canvas.parse_canvas`` stays the one way in.
    from incidentflow.canvas_validation import CanvasReader

    document = read_document(source)
    reader = CanvasReader(registry)
    canvas = reader.read(document)
    if reader.problems or canvas is None:
        raise CanvasError(reader.problems)
    return canvas


CONFIGURATION = "configuration"


def configuration_path(component: Component, path: str | None) -> str | None:
    """The full path of a field a component names by its own field name (``severityId``
    becomes ``configuration.severityId``): components speak of their fields, a person
    reads the canvas, where ``name`` would be the node's name."""
    if not path or path.startswith(CONFIGURATION + ".") or path == CONFIGURATION:
        return path
    root = re.split(r"[.\[]", path, maxsplit=1)[0]
    if any(spec.name == root for spec in component.fields):
        return f"{CONFIGURATION}.{path}"
    return path


def in_configuration(component: Component, problems: list[Problem]) -> list[Problem]:
    """``problems`` with their field paths made full (see ``configuration_path``)."""
    return [
        Problem(p.message, node=p.node, field=configuration_path(component, p.field))
        for p in problems
    ]


def string_leaves(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string inside a configuration value, with its field path (``body.text``,
    ``tags[0]``)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_leaves(item, f"{path}[{index}]")
