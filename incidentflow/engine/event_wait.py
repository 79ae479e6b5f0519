"""The ``waitForEvent`` step on the worker's side (docs/time.md, "waitForEvent").

Each time its execution is claimed, the step does one of three things:

- it has not begun waiting: evaluate the root side of ``match``'s indexed equality
  (``event_match``) and the timeout, and park: the execution is queued again until
  its timeout with an ``event_waits`` row (``Store.park_for_event``), holding nothing;
- events were offered to it (``store.event_waits.offer``): evaluate the whole
  ``match`` on each, in arrival order; the first that holds is emitted on ``matched``;
- its timeout has passed: its input is emitted on ``timeout``.

Otherwise it parks again. The execution's lease makes the decision once: two events
offered together are evaluated by one worker, and the finish that emits the outcome is
recorded only while that worker holds the lease. Expressions are evaluated in the
expression pool, under the budget; an offered event on which ``match`` cannot be
evaluated (a missing field) does not match, and is logged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from incidentflow.canvas import Node
from incidentflow.components.base import Component, Emission
from incidentflow.components.wait import seconds_from
from incidentflow.components.wait_for_event import (
    EVENT_TYPE,
    MATCH,
    MATCHED,
    TIMED_OUT,
    TIMEOUT,
    WaitForEvent,
)
from incidentflow.engine.wakeup import Wakeup
from incidentflow.errors import ExpressionError
from incidentflow.event_match import EVENT, key_of, rule_of
from incidentflow.events import Event
from incidentflow.expression_budget import Budget
from incidentflow.expression_pool import off_loop
from incidentflow.expressions import EXPRESSIONS, scope_for
from incidentflow.store.async_port import AsyncStore
from incidentflow.store.port import ClaimedExecution, EventWait

log = logging.getLogger(__name__)
# Offers evaluated per claim; more are evaluated at once after (the wait is due again).
OFFERS_PER_CLAIM = 100


def waits_for_event(component: Component) -> bool:
    return isinstance(component, WaitForEvent)


class EventWaits:
    def __init__(self, store: AsyncStore, wakeup: Wakeup, budget: Budget, worker_id: str):
        self._store, self._wakeup = store, wakeup
        self._budget, self._worker_id = budget, worker_id

    async def step(
        self, job: ClaimedExecution, node: Node, config: dict[str, Any],
        shown: dict[str, Any] | None, now: datetime,
    ) -> list[Emission] | None:
        """What the step emits now, or None: it waits (or the lease was lost)."""
        wait, offers = await self._store.event_wait(job.id, OFFERS_PER_CLAIM)
        if wait is None:
            scope = await self._scope(job, node)
            wait = await off_loop(self._began, job, node, config, scope, now)
            await self._park(wait, [], shown, now)
            return None
        if offers:
            scope = await self._scope(job, node)
            for offer in offers:
                if await off_loop(self._matches, wait, offer.event, scope):
                    return [Emission(offer.event, MATCHED)]
        if wait.timeout_at <= now and len(offers) < OFFERS_PER_CLAIM:
            return [Emission(job.input, TIMED_OUT)]
        await self._park(wait, [offer.id for offer in offers], shown, now)
        return None

    async def ended(self, job: ClaimedExecution) -> None:
        """The outcome is recorded: the wait and its offers can go."""
        try:
            await self._store.end_event_wait(job.id)
        except Exception as exc:  # harmless: a finished execution is offered nothing
            log.warning("execution %s: forgetting its finished wait failed: %s", job.id, exc)

    async def _park(self, wait: EventWait, seen: list[str], shown: dict[str, Any] | None,
                    now: datetime) -> None:
        due = await self._store.park_for_event(wait, self._worker_id, seen, shown, now)
        if due is None:
            log.warning("execution %s: lease lost while it began waiting", wait.execution_id)
            return
        self._wakeup.due(due)

    async def _scope(self, job: ClaimedExecution, node: Node) -> dict[str, Any]:
        nodes: dict[str, Event] = {}
        if "nodes" in str(node.configuration.get(MATCH, "")):  # a query: only when read
            nodes = await self._store.node_events(job.run_id)
        return scope_for(job.root, job.input, nodes, job.run_id, job.canvas)

    def _began(self, job: ClaimedExecution, node: Node, config: dict[str, Any],
               scope: dict[str, Any], now: datetime) -> EventWait:
        """The wait as it begins: its key (the root side of the indexed equality,
        evaluated now; a failure fails the step, naming the field) and its timeout."""
        match = str(config[MATCH])
        rule = rule_of(match)
        key = None
        if rule.other_side is not None:
            key = key_of(EXPRESSIONS.evaluate(rule.other_side, scope, node.name, MATCH,
                                              self._budget))
        timeout = now + timedelta(seconds=seconds_from(config.get(TIMEOUT)))
        return EventWait(job.id, job.run_id, job.canvas, node.name, str(config[EVENT_TYPE]),
                         match, rule.stored_path, key, now, timeout)

    def _matches(self, wait: EventWait, event: Event, scope: dict[str, Any]) -> bool:
        try:
            return EXPRESSIONS.condition(wait.match, {**scope, EVENT: event.as_dict()},
                                         wait.node, MATCH, self._budget)
        except ExpressionError as exc:
            log.info("canvas %s node %s: an offered %s event does not match (%s)",
                     wait.canvas, wait.node, event.type, exc)
            return False
