"""Which executions an event causes: pure functions of the canvas.

An edge ``{from, to, channel}`` subscribes ``to`` to one output channel of ``from``.
A trigger's event goes out on ``default``; an action's emissions on their own channel.
"""

from __future__ import annotations

from collections.abc import Iterable

from incidentflow.canvas import Canvas, Node
from incidentflow.components.base import Emission
from incidentflow.events import Event
from incidentflow.store.port import Emitted, NewExecution


def first_executions(
    canvas: Canvas, trigger_node: str, event: Event, channel: str = "default"
) -> list[NewExecution]:
    """The executions a trigger event starts: every node wired to the trigger."""
    return _subscribers(canvas, trigger_node, channel, event)


def plan(canvas: Canvas, node: str, emissions: Iterable[Emission]) -> list[Emitted]:
    """Each emission of ``node`` with the downstream executions it enqueues."""
    return [
        Emitted(
            event=emission.event,
            channel=emission.channel,
            downstream=_subscribers(canvas, node, emission.channel, emission.event),
        )
        for emission in emissions
    ]


def _subscribers(canvas: Canvas, source: str, channel: str, event: Event) -> list[NewExecution]:
    return [
        NewExecution(node=target.name, input=event, concurrency_key=concurrency_key(target))
        for target in canvas.downstream(source, channel)
    ]


def concurrency_key(node: Node) -> str | None:
    """Hook for per-key ordering: today the node's raw key (not rendered) or None."""
    return node.concurrency_key
