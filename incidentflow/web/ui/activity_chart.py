"""The canvas page's picture of the last 24 hours: per hour, the deliveries its
triggers received (accepted, ignored, rejected) and the runs that started (succeeded,
running, failed), as stacked bars. Geometry here; ``_activity_chart.html`` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from incidentflow.store.port import Activity

if TYPE_CHECKING:
    from incidentflow.web.ui.context import UiContext

WIDTH, BAND_HEIGHT, GAP, LABEL_WIDTH = 760, 64, 26, 86
# What each outcome counts as in the picture (duplicates and held deliveries are
# "ignored" there: they started nothing).
DELIVERY_KINDS = {"accepted": "accepted", "filtered": "ignored", "ignored": "ignored",
                  "duplicate": "ignored", "paused": "ignored", "rejected": "rejected"}
RUN_KINDS = ("succeeded", "running", "failed")


@dataclass(frozen=True)
class Bar:
    kind: str
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    totals: dict[str, int]  # by kind, both bands
    band_y: tuple[int, int]  # where the deliveries band and the runs band start
    hour_labels: list[tuple[float, str]]
    width: int = WIDTH
    height: int = 2 * BAND_HEIGHT + GAP + 18
    label_width: int = LABEL_WIDTH

    @property
    def empty(self) -> bool:
        return not any(self.totals.values())


async def activity_chart(context: UiContext, canvas: str) -> Chart:
    """The chart of ``canvas`` over the 24 hours up to now."""
    now = context.host.clock()
    first_hour = (now - timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    activity = await context.db.canvas_activity(canvas, first_hour, now)
    return build_chart(activity)


def build_chart(activity: Activity) -> Chart:
    hours = activity.hours
    deliveries = _merge(activity.deliveries, len(hours))
    runs = {kind: activity.runs.get(kind, [0] * len(hours)) for kind in RUN_KINDS}
    step = (WIDTH - LABEL_WIDTH) / max(len(hours), 1)
    bars = _band(deliveries, hours, step, top=4, noun="deliveries")
    bars += _band(runs, hours, step, top=4 + BAND_HEIGHT + GAP, noun="runs")
    totals = {kind: sum(values) for kind, values in {**deliveries, **runs}.items()}
    labels = [(LABEL_WIDTH + i * step, f"{h:%H}:00") for i, h in enumerate(hours) if i % 6 == 0]
    return Chart(bars, totals, (4, 4 + BAND_HEIGHT + GAP), labels)


def _merge(series: dict[str, list[int]], size: int) -> dict[str, list[int]]:
    """Delivery outcomes folded into the chart's three kinds."""
    merged: dict[str, list[int]] = {kind: [0] * size for kind in ("accepted", "ignored",
                                                                   "rejected")}
    for outcome, values in series.items():
        target = merged[DELIVERY_KINDS.get(outcome, "ignored")]
        for i, value in enumerate(values):
            target[i] += value
    return merged


def _band(series: dict[str, list[int]], hours: list[datetime], step: float, top: int,
          noun: str) -> list[Bar]:
    peak = max((sum(v[i] for v in series.values()) for i in range(len(hours))), default=0)
    if peak == 0:
        return []
    bars = []
    for i, hour in enumerate(hours):
        base: float = top + BAND_HEIGHT
        for kind, values in series.items():
            if not values[i]:
                continue
            height = max(BAND_HEIGHT * values[i] / peak, 1.5)
            base -= height
            end = hour + timedelta(hours=1)
            bars.append(Bar(kind, round(LABEL_WIDTH + i * step + 1, 1), round(base, 1),
                            round(max(step - 2, 1), 1), round(height, 1),
                            f"{hour:%H}:00–{end:%H}:00 UTC: {values[i]} {kind} {noun}"))
    return bars
