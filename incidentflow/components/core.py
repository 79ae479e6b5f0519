"""The core steps every canvas can use: start, noop, filter, if, http.

Conditions (``filter``, ``if``) arrive already evaluated: the engine renders a node's
configuration before ``execute``, so ``ctx.config["expression"]`` is a bool here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from incidentflow.components.approval import Approval
from incidentflow.components.base import Component, Emission, ExecutionContext, Field
from incidentflow.components.http_step import HttpStep
from incidentflow.components.schedule import Schedule
from incidentflow.components.wait import Wait
from incidentflow.components.wait_for_event import WaitForEvent
from incidentflow.components.webhook import Webhook
from incidentflow.errors import PermanentError

CONDITION_FIELD = Field(
    "expression",
    "condition",
    "Condition",
    required=True,
    description='A bare expression, e.g. previous.data.incident.severity.name == "Major"',
)


class Start(Component):
    """Manual trigger. The host builds ``Event("start.manual", data=<payload>)`` when a
    person presses Run; this class only declares the node type."""

    type = "start"
    label = "Start"
    description = "Run the canvas by hand, with an optional JSON payload."
    icon = "▶"
    role = "trigger"
    fields = (
        Field(
            "example",
            "object",
            "Example payload",
            description="Offered as the default payload of a manual run and used to "
            "preview expressions.",
        ),
    )
    example_output: ClassVar[dict[str, Any] | None] = {
        "type": "start.manual",
        "timestamp": "2026-01-19T12:00:00Z",
        "data": {},
    }


class Noop(Component):
    type = "noop"
    label = "No-op"
    description = "Pass the input event through unchanged."
    icon = "→"

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        return [Emission(ctx.input)]


class Filter(Component):
    type = "filter"
    label = "Filter"
    description = "Pass the input event on only when the condition is true."
    icon = "⏷"
    fields = (CONDITION_FIELD,)

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        return [Emission(ctx.input)] if _condition(ctx) else []


class If(Component):
    type = "if"
    label = "If"
    description = "Send the input event to the true or the false branch."
    icon = "⑂"
    fields = (CONDITION_FIELD,)
    channels = ("true", "false")

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        return [Emission(ctx.input, "true" if _condition(ctx) else "false")]


def _condition(ctx: ExecutionContext) -> bool:
    value = ctx.config.get("expression")
    # Strict on purpose: a non-bool here means the engine skipped evaluation, and
    # guessing truthiness of e.g. the raw expression text would always say "true".
    if not isinstance(value, bool):
        raise PermanentError(
            f"condition did not evaluate to true/false (got {type(value).__name__})"
        )
    return value


def all_components() -> list[Component]:
    return [Start(), Noop(), Filter(), If(), HttpStep(), Wait(), Schedule(), Approval(),
            WaitForEvent(), Webhook()]
