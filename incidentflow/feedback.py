"""Can a canvas feed itself? The self-feeding analysis behind the editor's warning.

A canvas feeds itself when one of its actions creates a kind of object elsewhere
(``Component.creates``, e.g. ``incident.incident``) that one of its own webhook
triggers listens for (``WebhookTrigger.listens_for``): every object it creates comes
back as a webhook and starts another run, which may create another (the issue's 241
incidents in 20 seconds). Two brakes guard such a loop: the trigger's self-trigger
guard (unless it sets ``allowSelfTriggered: true``) and the action's rate limit.

Pure: from the canvas and the catalogue. Used on save (canvas warnings) and by the
node panels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from incidentflow.components.base import WebhookTrigger
from incidentflow.errors import Problem
from incidentflow.rate_limit import RateLimit

if TYPE_CHECKING:
    from incidentflow.canvas import Canvas
    from incidentflow.registry import Registry

ALLOW_SELF_TRIGGERED = "allowSelfTriggered"


@dataclass(frozen=True)
class FeedbackLoop:
    """``action`` creates ``kind``; ``trigger`` of the same canvas listens for it."""

    action: str
    trigger: str
    kind: str
    self_trigger_guard: bool  # False when the trigger allows self-triggered events
    rate_limit: RateLimit  # the action's own, or the global default

    def involves(self, node: str) -> bool:
        return node in (self.action, self.trigger)

    def guards(self) -> str:
        """The brakes that protect the loop, named for a person."""
        limit = f"the rate limit of {self.action!r} ({self.rate_limit.describe()})"
        if self.self_trigger_guard:
            return f"the self-trigger guard of {self.trigger!r} and {limit}"
        return (f"only {limit}: the self-trigger guard of {self.trigger!r} is off "
                f"({ALLOW_SELF_TRIGGERED}: true)")

    def describe(self) -> str:
        return (f"this canvas can feed itself: {self.action!r} creates {self.kind}, which "
                f"{self.trigger!r} listens for, so each one it creates can start another "
                f"run. Protected by {self.guards()}.")


def feedback_loops(canvas: Canvas, registry: Registry, default: RateLimit) -> list[FeedbackLoop]:
    """Every (creating action, listening trigger) pair of ``canvas``, in file order."""
    components = registry.components
    triggers = [
        (node, component) for node in canvas.nodes
        if isinstance(component := components.get(node.type), WebhookTrigger)
    ]
    loops = []
    for node in canvas.nodes:
        component = components.get(node.type)
        kind = component.creates if component is not None else None
        if kind is None:
            continue
        for trigger, listener in triggers:
            if kind in listener.listens_for:
                guarded = trigger.configuration.get(ALLOW_SELF_TRIGGERED) is not True
                loops.append(FeedbackLoop(node.name, trigger.name, kind, guarded,
                                          node.rate_limit or default))
    return loops


def feedback_warnings(canvas: Canvas, registry: Registry, default: RateLimit) -> list[Problem]:
    """One save warning per loop, on the creating node."""
    return [Problem(loop.describe(), node=loop.action)
            for loop in feedback_loops(canvas, registry, default)]
