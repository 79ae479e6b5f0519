"""The geometry behind the run timeline and the canvas's 24-hour chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incidentflow.events import Event
from incidentflow.store.attempts import AttemptRecord
from incidentflow.store.port import ExecutionRecord, RunRecord
from incidentflow.store.run_list import Activity
from incidentflow.web.ui.activity_chart import build_chart
from incidentflow.web.ui.timeline import LABEL_WIDTH, WIDTH, build_timeline, seconds_label

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EVENT = Event("start.manual", {}, "2026-03-01T12:00:00Z")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def execution(node: str, state: str, created: float, finished: float | None,
              history: list[AttemptRecord], attempts: int, started: float | None = None,
              next_at: float | None = None) -> ExecutionRecord:
    return ExecutionRecord(
        id=f"x-{node}", run_id="r", node=node, state=state, attempts=attempts,  # type: ignore[arg-type]
        idempotency_key=f"if-x-{node}", input=EVENT, resolved_config=None, emitted=[],
        error=None, error_details=None, created_at=at(created),
        started_at=at(started if started is not None else created),
        finished_at=at(finished) if finished is not None else None,
        next_attempt_at=at(next_at) if next_at is not None else None,
        attempt_started_at=at(started) if started is not None else None,
        attempt_history=history,
    )


def run_of(*executions: ExecutionRecord, finished: float | None = 10) -> RunRecord:
    return RunRecord(id="r", canvas="c", canvas_version=1, trigger_node="Start",
                     state="succeeded" if finished else "running", root=EVENT,
                     created_at=T0, finished_at=T0 + timedelta(seconds=finished)
                     if finished else None, executions=list(executions))


def test_a_retried_step_shows_its_failure_its_wait_and_its_success() -> None:
    failed = AttemptRecord(1, "retrying", "HTTP 500", None, T0 + timedelta(seconds=1),
                           T0 + timedelta(seconds=2), T0 + timedelta(seconds=6))
    done = AttemptRecord(2, "succeeded", None, None, T0 + timedelta(seconds=6),
                         T0 + timedelta(seconds=10), None)
    quick = execution("Gate", "succeeded", 0, 1, [], 1, started=0)
    retried = execution("Open", "succeeded", 0, 10, [failed, done], 2, started=6)
    timeline = build_timeline(run_of(quick, retried), T0 + timedelta(seconds=30))
    assert timeline is not None
    gate, open_ = timeline.rows
    assert [s.kind for s in open_.segments] == ["queued", "failed", "retrying", "done"]
    assert open_.note == "2 attempts, slowest" and gate.note == ""
    failed_bar, wait = open_.segments[1], open_.segments[2]
    assert failed_bar.x == round(LABEL_WIDTH + 4 + 0.1 * (WIDTH - 8 - LABEL_WIDTH - 4), 1)
    assert wait.x + wait.width <= open_.segments[3].x + 0.1
    assert "HTTP 500" in failed_bar.title and "waiting before attempt 2 (4.0 s)" in wait.title
    assert timeline.summary == "2 executions over 10.0 s; 1 retried; slowest: Open"


def test_a_running_attempt_and_a_wait_reach_to_now() -> None:
    running = execution("Slow", "running", 0, None, [], 1, started=2)
    waiting = execution("Later", "queued", 1, None, [], 0, next_at=120)
    timeline = build_timeline(run_of(running, waiting, finished=None),
                              T0 + timedelta(seconds=5))
    assert timeline is not None
    slow, later = timeline.rows
    assert [s.kind for s in slow.segments] == ["queued", "running"]
    assert [s.kind for s in later.segments] == ["waiting"]
    assert max(s.x + s.width for s in later.segments) <= WIDTH - 8 + 0.1


def test_nothing_to_draw_without_executions() -> None:
    assert build_timeline(run_of(), T0) is None
    assert seconds_label(0.25) == "250 ms" and seconds_label(90) == "90.0 s"
    assert seconds_label(600) == "10.0 min"


def test_the_chart_stacks_outcomes_per_hour_and_counts_them() -> None:
    hours = [T0 + timedelta(hours=i) for i in range(3)]
    activity = Activity(hours, deliveries={"accepted": [4, 0, 2], "duplicate": [1, 0, 0],
                                           "rejected": [0, 0, 1]},
                        runs={"succeeded": [3, 0, 1], "failed": [1, 0, 0]})
    chart = build_chart(activity)
    assert chart.totals == {"accepted": 6, "ignored": 1, "rejected": 1, "succeeded": 4,
                            "running": 0, "failed": 1}
    first_hour = [b for b in chart.bars if b.x == chart.bars[0].x]
    assert [b.kind for b in first_hour] == ["accepted", "ignored", "succeeded", "failed"]
    tallest = max(b.height for b in chart.bars if b.kind in ("accepted", "ignored"))
    assert tallest == 64 * 4 / 5  # 4 of the peak hour's 5 deliveries
    assert "12:00–13:00 UTC: 1 failed runs" in [b.title for b in chart.bars]
    assert not chart.empty and build_chart(Activity(hours)).empty
