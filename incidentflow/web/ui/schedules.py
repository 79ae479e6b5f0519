"""The schedule trigger's part of the node panel: its next three due times and its
last fire or skip."""

from __future__ import annotations

from typing import Any

from incidentflow.canvas import Node
from incidentflow.components.schedule import CRON, TIMEZONE, cron_problem, next_times
from incidentflow.events import utcnow
from incidentflow.web.ui.context import UiContext

SHOWN = 3


async def schedule_panel(context: UiContext, canvas: str, node: Node) -> dict[str, Any]:
    cron = node.configuration.get(CRON)
    zone = str(node.configuration.get(TIMEZONE) or "UTC")
    upcoming = [] if cron_problem(cron) else next_times(str(cron), zone, utcnow(), SHOWN)
    records = await context.db.canvas_schedules(canvas)
    last = next((r for r in records if r.node == node.name), None)
    return {"timezone": zone, "next": upcoming, "last": last}
