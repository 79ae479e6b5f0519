"""``NodePlans``: what running a node of one canvas version needs, worked out once and
kept — the canvas version (versions never change), the node's component, its
configuration when it renders nothing, what its templates read — and the nodes'
integrations, decrypted and cached briefly."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from incidentflow.canvas import Canvas, Node
from incidentflow.components.base import Component
from incidentflow.crypto import SecretBox
from incidentflow.engine.resolve import (
    masked,
    reads_nodes,
    resolve_config,
    resolves_inline,
    uses_expressions,
)
from incidentflow.errors import PermanentError
from incidentflow.registry import Registry
from incidentflow.secrets_service import named_secrets, reads_secrets
from incidentflow.store.async_port import AsyncStore
from incidentflow.store.port import ClaimedExecution

_CANVAS_CACHE_LIMIT = 256
INTEGRATION_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class NodePlan:
    """What running a node of one canvas version needs, worked out once."""

    canvas: Canvas
    node: Node
    component: Component
    static: dict[str, Any] | None  # the resolved configuration, if it renders nothing
    static_masked: dict[str, Any] | None
    reads_nodes: bool  # whether rendering needs the run's earlier events
    inline: bool  # plain lookups only: resolved on the event loop, not in the pool
    keyed: bool  # some node of the canvas has a concurrency key (a template)
    reads_secrets: bool  # whether rendering needs the secrets (decrypted, masked after)
    secret_names: frozenset[str] = frozenset()  # the names it spells out


class NodePlans:
    def __init__(self, store: AsyncStore, registry: Registry, box: SecretBox):
        self._store, self._registry, self._box = store, registry, box
        self._canvases: dict[tuple[str, int], Canvas] = {}
        self._plans: dict[tuple[str, int, str], NodePlan] = {}
        self._integrations: dict[str, tuple[float, dict[str, Any]]] = {}

    async def plan(self, job: ClaimedExecution) -> NodePlan:
        key = (job.canvas, job.canvas_version, job.node)
        found = self._plans.get(key)
        if found is not None:
            return found
        canvas = await self._canvas(job.canvas, job.canvas_version)
        try:
            node = canvas.node(job.node)
        except KeyError:
            raise PermanentError(f"canvas {job.canvas!r} has no node {job.node!r}") from None
        component = self._registry.component(node.type)
        static = None
        if not uses_expressions(node, component):
            static = resolve_config(node, component, {})
        if len(self._plans) >= _CANVAS_CACHE_LIMIT * 8:
            self._plans.clear()
        found = NodePlan(canvas, node, component, static,
                         masked(component, static) if static is not None else None,
                         static is None and reads_nodes(node, component),
                         static is not None or resolves_inline(node, component),
                         any(n.concurrency_key is not None for n in canvas.nodes),
                         static is None and reads_secrets(node, component),
                         named_secrets(node, component) if static is None else frozenset())
        self._plans[key] = found
        return found

    async def _canvas(self, name: str, version: int) -> Canvas:
        key = (name, version)
        if key not in self._canvases:  # versions never change: cache them
            if len(self._canvases) >= _CANVAS_CACHE_LIMIT:
                self._canvases.clear()
            record = await self._store.get_canvas(name, version)
            self._canvases[key] = record.canvas
        return self._canvases[key]

    async def integration(self, node: Node) -> dict[str, Any] | None:
        """The node's integration configuration, secrets decrypted. Cached briefly: a
        query and a decryption per execution would be most of a fast execution's cost;
        a changed API key is picked up within ``INTEGRATION_CACHE_SECONDS``."""
        name = node.integration
        if name is None:
            return None
        cached = self._integrations.get(name)
        if cached is not None and cached[0] > time.monotonic():
            return dict(cached[1])
        record = await self._store.get_integration(name)
        config = {**record.config, **self._box.reveal(record.secrets_encrypted)}
        self._integrations[name] = (time.monotonic() + INTEGRATION_CACHE_SECONDS, config)
        return dict(config)
