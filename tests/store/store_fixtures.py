"""Tiny node types and canvases for store tests."""

from __future__ import annotations

from datetime import UTC, datetime

from toys import Hook, Manual, Step, store_registry  # noqa: F401  (re-exported)

from incidentflow.canvas import Canvas, Edge, Node
from incidentflow.registry import Registry

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def registry() -> Registry:
    return store_registry()


def make_canvas(name: str = "demo", hook_config: dict | None = None, extra: int = 0) -> Canvas:
    """Hook -> A -> B (and ``extra`` more steps after B)."""
    nodes = [
        Node("Hook", "test.hook", hook_config or {"events": ["created"]}),
        Node("A", "test.step"),
        Node("B", "test.step"),
    ] + [Node(f"X{i}", "test.step") for i in range(extra)]
    edges = [Edge("Hook", "A"), Edge("A", "B")] + [Edge("B", f"X{i}") for i in range(extra)]
    return Canvas(name=name, nodes=tuple(nodes), edges=tuple(edges))
