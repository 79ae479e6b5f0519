"""The catalogue of node types and integration types the host knows."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from incidentflow.components.base import Component, WebhookTrigger
from incidentflow.errors import NotFound
from incidentflow.integrations.base import Integration

if TYPE_CHECKING:
    from incidentflow.canvas import Canvas


@dataclass
class Registry:
    components: dict[str, Component] = field(default_factory=dict)
    integrations: dict[str, Integration] = field(default_factory=dict)

    def add_component(self, component: Component) -> None:
        self.components[component.type] = component

    def add_integration(self, integration: Integration) -> None:
        self.integrations[integration.type] = integration
        for component_class in integration.components:
            self.add_component(component_class())

    def component(self, type_: str) -> Component:
        try:
            return self.components[type_]
        except KeyError:
            raise NotFound(f"unknown node type {type_!r}") from None

    # The store's NodeRoles (store/node_roles.py): which nodes need rows of their own.
    def webhook_nodes(self, canvas: Canvas) -> list[str]:
        return [node.name for node in canvas.nodes
                if isinstance(self.components.get(node.type), WebhookTrigger)]

    def trigger_nodes(self, canvas: Canvas) -> list[str]:
        return [node.name for node in canvas.nodes
                if node.type in self.components and self.components[node.type].role == "trigger"]

    def integration(self, type_: str) -> Integration:
        try:
            return self.integrations[type_]
        except KeyError:
            raise NotFound(f"unknown integration type {type_!r}") from None


@cache
def default_registry() -> Registry:
    """Core components plus every bundled integration."""
    from incidentflow.components import core
    from incidentflow.integrations.incidentio import IncidentIntegration

    registry = Registry()
    for component in core.all_components():
        registry.add_component(component)
    registry.add_integration(IncidentIntegration())
    return registry
