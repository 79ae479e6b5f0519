"""Which nodes of a canvas the store must keep rows for: the one thing about the node
catalogue the store needs, passed in by its caller (the registry implements it), so
that the store imports nothing from the catalogue, the components or the integrations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from incidentflow.canvas import Canvas


class NodeRoles(Protocol):
    def webhook_nodes(self, canvas: Canvas) -> list[str]:
        """Names of the nodes that own a webhook endpoint
        (docs/design-rules.md, "Stable webhook URLs")."""
        ...

    def trigger_nodes(self, canvas: Canvas) -> list[str]:
        """Names of the nodes that start runs (listed with the canvas)."""
        ...
