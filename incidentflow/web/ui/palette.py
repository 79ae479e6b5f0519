"""The palette: every node type in the registry, grouped by integration, searchable.

Read from the registry each time, so a component added anywhere (a new incident.io
action, a core step) appears here without touching the UI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from incidentflow.components.base import Component

if TYPE_CHECKING:
    from incidentflow.registry import Registry

CORE_GROUP = "Core"


@dataclass(frozen=True)
class PaletteGroup:
    title: str
    components: tuple[Component, ...]


def palette(registry: Registry, query: str = "", role: str | None = None) -> list[PaletteGroup]:
    """Groups in a stable order (core first, then integrations by label); within each,
    triggers first, then by label. ``query`` keeps the components whose type, label,
    description or field names contain every word of it."""
    words = query.lower().split()
    grouped: dict[str, list[Component]] = {}
    for component in registry.components.values():
        if role and component.role != role:
            continue
        if words and not all(word in search_text(component) for word in words):
            continue
        grouped.setdefault(_group_title(registry, component), []).append(component)
    order = sorted(grouped, key=lambda title: (title != CORE_GROUP, title.lower()))
    return [
        PaletteGroup(title, tuple(sorted(grouped[title], key=_component_order)))
        for title in order
    ]


def search_text(component: Component) -> str:
    """What the palette's search box matches against (also sent to the page for the
    script that filters as one types)."""
    parts = [component.type, component.label, component.description]
    parts += [f"{spec.name} {spec.label}" for spec in component.fields]
    return " ".join(parts).lower()


def _group_title(registry: Registry, component: Component) -> str:
    if component.integration is None:
        return CORE_GROUP
    integration = registry.integrations.get(component.integration)
    return getattr(integration, "label", None) or component.integration


def _component_order(component: Component) -> tuple[bool, str]:
    return (component.role != "trigger", component.label.lower())
