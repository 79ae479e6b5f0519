"""Which executions an event causes: pure functions of the canvas (and the run's
trigger event, for concurrency keys).

An edge ``{from, to, channel}`` subscribes ``to`` to one output channel of ``from``.
A trigger's event goes out on ``default``; an action's emissions on their own channel.

Concurrency keys: a node's optional ``concurrencyKey`` template is rendered when an
execution of it is enqueued, with ``root`` (the run's trigger event), ``previous`` (the
event the execution will handle) and ``run.canvas`` in scope. The store never runs two
executions with the same stored key at once, and runs them in enqueue order; the
stored key names the canvas and the node, so keys of different nodes never collide.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime

from incidentflow.canvas import Canvas, Node
from incidentflow.components.base import Emission
from incidentflow.errors import ExpressionError
from incidentflow.events import Event
from incidentflow.expressions import EXPRESSIONS
from incidentflow.store.port import Emitted, NewExecution

log = logging.getLogger(__name__)
KEY_FIELD = "concurrencyKey"
_MAX_KEY = 400  # the column holds 500; longer keys are stored as their hash
_SEPARATOR = "\x1f"
# The key of an execution whose template failed. No NUL: PostgreSQL text cannot hold it.
UNRENDERED = "\x1eunrendered"


def first_executions(
    canvas: Canvas, trigger_node: str, event: Event, channel: str = "default"
) -> list[NewExecution]:
    """The executions a trigger event starts: every node wired to the trigger."""
    return _subscribers(canvas, trigger_node, channel, event, root=event)


def plan(
    canvas: Canvas, node: str, emissions: Iterable[Emission], root: Event | None = None
) -> list[Emitted]:
    """Each emission of ``node`` with the downstream executions it enqueues. ``root``
    is the run's trigger event (for concurrency keys; the emission itself if None)."""
    return [
        Emitted(
            event=emission.event,
            channel=emission.channel,
            downstream=_subscribers(
                canvas, node, emission.channel, emission.event, root=root or emission.event,
                not_before=emission.not_before,
            ),
        )
        for emission in emissions
    ]


def _subscribers(
    canvas: Canvas, source: str, channel: str, event: Event, root: Event,
    not_before: datetime | None = None,
) -> list[NewExecution]:
    return [
        NewExecution(
            node=target.name, input=event,
            concurrency_key=concurrency_key(canvas.name, target, root, event),
            not_before=not_before,
        )
        for target in canvas.downstream(source, channel)
    ]


def concurrency_key(canvas: str, node: Node, root: Event, previous: Event) -> str | None:
    """The stored key of an execution of ``node`` handling ``previous``, or None (no
    ordering). A key that cannot be rendered orders all such executions of the node
    one after another: slower, but never two at once where the user asked for one."""
    template = node.concurrency_key
    if template is None:
        return None
    scope = {"root": root.as_dict(), "previous": previous.as_dict(), "nodes": {},
             "run": {"canvas": canvas}}
    try:
        rendered = EXPRESSIONS.render(template, scope, node.name, KEY_FIELD)
    except ExpressionError as exc:
        log.warning("node %s: concurrencyKey could not be rendered (%s); its executions "
                    "run one at a time", node.name, exc)
        rendered = UNRENDERED
    if rendered is None or rendered == "":
        return None
    key = _SEPARATOR.join((canvas, node.name, str(rendered)))
    if len(key) > _MAX_KEY:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key
