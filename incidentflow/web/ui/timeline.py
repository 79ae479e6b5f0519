"""A run's executions on a timeline: when each was queued, waiting, running, retrying
and done, drawn as bars on one time axis so a slow or retried step stands out.

Only the geometry is computed here; ``_timeline.html`` draws it as SVG (server-side,
no script, no inline style: the Content-Security-Policy refuses those).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incidentflow.store.port import ExecutionRecord, RunRecord
from incidentflow.web.run_views import attempts_of

WIDTH = 800  # the SVG's coordinate system; it scales to the page
LABEL_WIDTH = 170
ROW_HEIGHT = 28
BAR_HEIGHT = 14
AXIS_HEIGHT = 24
# Segment kinds, each a CSS class (``tl-<kind>``) and a word in the legend.
KINDS = ("queued", "waiting", "running", "retrying", "failed", "done")


@dataclass(frozen=True)
class Segment:
    kind: str
    x: float
    width: float
    title: str  # the tooltip: what this stretch was, how long, why


@dataclass(frozen=True)
class Row:
    node: str
    execution_id: str
    y: float
    segments: list[Segment]
    note: str  # "retried 2×", "slowest", ...


@dataclass(frozen=True)
class Timeline:
    rows: list[Row]
    height: float
    total_label: str
    summary: str  # the picture in words (for screen readers)
    label_width: int = LABEL_WIDTH
    width: int = WIDTH
    bar_height: int = BAR_HEIGHT


def seconds_label(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class _Scale:
    def __init__(self, start: datetime, end: datetime):
        self.start = start
        self.span = max((end - start).total_seconds(), 0.001)
        self.left, self.right = LABEL_WIDTH + 4, WIDTH - 8

    def x(self, when: datetime) -> float:
        fraction = min(max((when - self.start).total_seconds() / self.span, 0.0), 1.0)
        return round(self.left + fraction * (self.right - self.left), 1)


def build_timeline(run: RunRecord, now: datetime) -> Timeline | None:
    if not run.executions:
        return None
    end = run.finished_at or now
    for execution in run.executions:  # a clock skew must not draw bars off the axis
        for moment in (execution.finished_at, execution.next_attempt_at):
            if moment is not None and moment > end:
                end = moment
    scale = _Scale(run.created_at, end)
    durations = {e.id: _duration(e, run.finished_at or now) for e in run.executions}
    slowest = max(durations, key=lambda i: durations[i]) if len(durations) > 1 else None
    rows = []
    for index, execution in enumerate(run.executions):
        segments = _segments(execution, scale, run.finished_at or now)
        rows.append(Row(execution.node, execution.id, AXIS_HEIGHT + index * ROW_HEIGHT,
                        segments, _note(execution, slowest)))
    retried = sum(1 for e in run.executions if len(attempts_of(e)) > 1)
    summary = (f"{len(rows)} executions over {seconds_label(scale.span)}"
               + (f"; {retried} retried" if retried else "")
               + (f"; slowest: {_node_of(run, slowest)}" if slowest else ""))
    return Timeline(rows, AXIS_HEIGHT + len(rows) * ROW_HEIGHT + 4,
                    seconds_label(scale.span), summary)


def _node_of(run: RunRecord, execution_id: str | None) -> str:
    return next((e.node for e in run.executions if e.id == execution_id), "")


def _duration(execution: ExecutionRecord, end: datetime) -> float:
    return ((execution.finished_at or end) - execution.created_at).total_seconds()


def _note(execution: ExecutionRecord, slowest: str | None) -> str:
    notes = []
    tries = len(attempts_of(execution))
    if tries > 1:
        notes.append(f"{tries} attempts")
    if execution.id == slowest:
        notes.append("slowest")
    return ", ".join(notes)


def _segments(execution: ExecutionRecord, scale: _Scale, now: datetime) -> list[Segment]:
    """The stretches of one execution up to ``now`` (a wait may reach past it: the
    axis ends at the latest time any row needs)."""
    segments: list[Segment] = []
    attempts = attempts_of(execution)

    def add(kind: str, start: datetime | None, stop: datetime | None, title: str) -> None:
        if start is None or stop is None or stop < start:
            return
        x = scale.x(start)
        width = max(scale.x(stop) - x, 2.0)  # an instant still shows
        seconds = seconds_label((stop - start).total_seconds())
        segments.append(Segment(kind, x, width, f"{execution.node}: {title} ({seconds})"))

    first_start = attempts[0].started_at if attempts else None
    if first_start is None and execution.state == "queued":
        waiting = execution.next_attempt_at is not None and execution.next_attempt_at > now
        add("waiting" if waiting else "queued", execution.created_at,
            execution.next_attempt_at if waiting else now,
            "waiting until its time" if waiting else "queued")
    else:
        add("queued", execution.created_at, first_start, "queued")
    for index, attempt in enumerate(attempts):
        stop = attempt.ended_at or now
        if attempt.outcome == "succeeded":
            add("done", attempt.started_at, stop, f"attempt {attempt.attempt} succeeded")
        elif attempt.outcome == "running":
            add("running", attempt.started_at, stop, f"attempt {attempt.attempt} running")
        else:
            why = f": {attempt.error}" if attempt.error else ""
            add("failed", attempt.started_at, stop,
                f"attempt {attempt.attempt} {attempt.outcome}{why}")
        if attempt.outcome in ("retrying", "lost"):
            following = attempts[index + 1].started_at if index + 1 < len(attempts) else None
            resume = following or attempt.next_attempt_at or now
            add("retrying", attempt.ended_at, resume,
                f"waiting before attempt {attempt.attempt + 1}")
    return segments
