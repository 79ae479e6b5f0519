"""The ``waitForEvent`` step: go on when a later event of the same canvas matches, or
at a timeout.

The component says what the step is (fields, channels, checks at save time); the
engine runs it (``engine.event_wait``), because waiting is rows in the store, not a
call that returns: the execution is queued until its timeout and woken early when an
event of ``eventType`` arrives from a trigger of the same canvas and may match
(``event_match``, ``store.event_waits``). See docs/time.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from incidentflow.components.base import Component, Emission, ExecutionContext, Field
from incidentflow.components.wait import seconds_from
from incidentflow.errors import PermanentError, Problem
from incidentflow.event_match import problem_of

TYPE = "waitForEvent"
EVENT_TYPE, MATCH, TIMEOUT = "eventType", "match", "timeoutSeconds"
MATCHED, TIMED_OUT = "matched", "timeout"
MAX_EVENT_TYPE = 200  # what events.type holds


class WaitForEvent(Component):
    type = TYPE
    label = "Wait for event"
    description = ("Wait until an event of a given type from a trigger of this canvas "
                   "matches this run (channel matched, emitting that event), or until a "
                   "timeout (channel timeout, emitting the input unchanged).")
    icon = "⏳"
    fields = (
        Field(EVENT_TYPE, "text", "Event type", required=True,
              description="The type of the event to wait for, e.g. "
                          "incident.incident.updated."),
        Field(MATCH, "text", "Match", required=True,
              description="An expression over event (the arriving event) and root, "
                          "previous, run, e.g. event.data.incident.id == "
                          "root.data.incident.id. Start it with such an equality: it is "
                          "what finds the waiting run without looking at every one."),
        Field(TIMEOUT, "object", "Timeout (seconds)", required=True,
              description='How long to wait: a number, or an expression such as '
                          '"{{ previous.data.delay }}".'),
    )
    channels: ClassVar[tuple[str, ...]] = (MATCHED, TIMED_OUT)

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        problems = []
        event_type = config.get(EVENT_TYPE)
        if not isinstance(event_type, str) or not event_type.strip():
            problems.append(Problem("give the type of event to wait for", node, EVENT_TYPE))
        elif len(event_type) > MAX_EVENT_TYPE:
            problems.append(Problem(f"at most {MAX_EVENT_TYPE} characters", node, EVENT_TYPE))
        problem = problem_of(config.get(MATCH))
        if problem is not None:
            problems.append(Problem(problem, node, MATCH))
        timeout = config.get(TIMEOUT)
        if not (isinstance(timeout, str) and "{{" in timeout):  # else checked when rendered
            try:
                seconds_from(timeout)
            except PermanentError as exc:
                problems.append(Problem(str(exc).replace("seconds", TIMEOUT, 1), node, TIMEOUT))
        return problems

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        raise PermanentError("waitForEvent is run by the engine (engine.event_wait)")
