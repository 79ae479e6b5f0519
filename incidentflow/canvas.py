"""The canvas model: nodes wired by edges, loaded from YAML or JSON (a contract).

```yaml
name: mirror-incidents
nodes:
  - {name: Start, type: start}
  - {name: Only majors, type: filter, configuration: {expression: "root.data.severity == 'major'"}}
edges:
  - {from: Start, to: Only majors}          # channel defaults to "default"
```
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from incidentflow.registry import Registry


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    configuration: dict[str, Any] = field(default_factory=dict)
    integration: str | None = None
    # Optional template; executions of this node with the same rendered key run in order.
    concurrency_key: str | None = None


@dataclass(frozen=True)
class Edge:
    source: str  # "from" in the file
    target: str  # "to" in the file
    channel: str = "default"


@dataclass(frozen=True)
class Canvas:
    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...] = ()
    description: str = ""

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def has_node(self, name: str) -> bool:
        return any(node.name == name for node in self.nodes)

    def downstream(self, source: str, channel: str) -> list[Node]:
        """Nodes subscribed to ``channel`` of ``source``, in file order."""
        return [self.node(e.target) for e in self.edges if e.source == source and e.channel == channel]

    def to_dict(self) -> dict[str, Any]:
        """The canonical file form (YAML/JSON), with defaults left out."""
        raise NotImplementedError  # filled in by the canvas parser work

    def content_hash(self) -> str:
        """Same content, same hash: saving unchanged content makes no new version."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def parse_canvas(source: str | bytes | dict[str, Any], registry: Registry) -> Canvas:
    """Parse YAML/JSON text (or an already-decoded mapping) and validate it.

    Raises CanvasError listing *every* problem, each naming node and field.
    """
    raise NotImplementedError  # filled in by the canvas parser work


def dump_canvas_yaml(canvas: Canvas) -> str:
    raise NotImplementedError  # filled in by the canvas parser work
