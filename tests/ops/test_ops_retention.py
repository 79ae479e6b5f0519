"""Retention: old finished runs go with their executions and events; running and
recent runs stay; delivery rows stay at least 48 h so late retries are duplicates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from ops_support import manual_canvas

from incidentflow.errors import ConfigurationError, NotFound
from incidentflow.events import Event
from incidentflow.store.port import NewExecution
from incidentflow.store.retention import Pruned, cutoffs, prune, retention_days
from incidentflow.store.schema import events, executions
from incidentflow.web.ops import Pruner

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EVENT = Event("start.manual", {"n": 1}, "2026-06-01T12:00:00Z")


def finished_run(store, at: datetime) -> str:
    """A run started and finished at ``at`` (one execution, succeeded)."""
    run_id = store.start_run("manual", "Start", EVENT, [NewExecution("Done", EVENT)], at)
    [job] = store.claim("w", at, 60, 10)
    assert store.finish(job.id, "w", None, [], at)
    return run_id


@pytest.fixture
def canvas(store):
    store.save_canvas(manual_canvas(), "", [], NOW - timedelta(days=400))


def count(store, table) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)))


def exists(store, run_id: str) -> bool:
    try:
        store.get_run(run_id)
    except NotFound:
        return False
    return True


def test_old_finished_runs_go_running_and_recent_runs_stay(store, canvas):
    old = finished_run(store, NOW - timedelta(days=40))
    recent = finished_run(store, NOW - timedelta(days=10))
    running = store.start_run("manual", "Start", EVENT, [NewExecution("Done", EVENT)],
                              NOW - timedelta(days=90))

    pruned = prune(store, NOW, days=30)

    assert pruned.runs == 1
    assert not exists(store, old)
    assert exists(store, recent) and exists(store, running)
    # the old run's execution and events went with it; the others' remain
    assert count(store, executions) == 2
    assert count(store, events) == 2


def test_zero_days_keeps_everything(store, canvas):
    old = finished_run(store, NOW - timedelta(days=4000))
    assert prune(store, NOW, days=0) == Pruned()
    assert exists(store, old)


def test_pruning_goes_in_batches_until_done(store, canvas):
    old = [finished_run(store, NOW - timedelta(days=50, minutes=i)) for i in range(5)]
    batches: list[int] = []
    pruned = prune(store, NOW, days=30, batch_size=2, between=lambda: batches.append(1))
    assert pruned.runs == 5
    assert len(batches) == 2  # 2 + 2 + 1: a pause after each full batch
    assert not any(exists(store, r) for r in old)


def delivery(store, webhook_id: str, at: datetime):
    endpoint = store.endpoint_for_node("hooked", "Hook", at)
    return store.accept_delivery(endpoint.id, webhook_id, [], at)


@pytest.fixture
def hooked(store):
    from incidentflow.canvas import Canvas, Node

    hook = Canvas(name="hooked", nodes=(Node("Hook", "incident.onIncident"),), edges=())
    store.save_canvas(hook, "", [], NOW - timedelta(days=400))


def test_a_redelivery_inside_48_hours_is_still_a_duplicate(store, hooked):
    assert delivery(store, "msg_recent", NOW - timedelta(hours=40)).outcome == "ignored"
    assert delivery(store, "msg_old", NOW - timedelta(hours=50)).outcome == "ignored"

    pruned = prune(store, NOW, days=1)  # the window is shorter than the dedupe floor

    assert pruned.deliveries == 1
    assert delivery(store, "msg_recent", NOW).outcome == "duplicate"
    assert delivery(store, "msg_old", NOW).outcome == "ignored"  # forgotten: 50 h > 48 h


def test_deliveries_follow_a_long_window() -> None:
    runs_before, deliveries_before = cutoffs(NOW, 30)
    assert runs_before == deliveries_before == NOW - timedelta(days=30)
    assert cutoffs(NOW, 0.5)[1] == NOW - timedelta(hours=48)


async def test_the_background_pruner_prunes(store, canvas):
    old = finished_run(store, NOW - timedelta(days=40))
    pruner = Pruner(store, 30, clock=lambda: NOW)
    assert (await pruner.run_once()).runs == 1
    assert not exists(store, old)


@pytest.mark.parametrize(("raw", "days"), [(None, 30), ("0", 0), (" 7 ", 7)])
def test_retention_days_setting(raw, days) -> None:
    env = {} if raw is None else {"INCIDENTFLOW_RETENTION_DAYS": raw}
    assert retention_days(env) == days


@pytest.mark.parametrize("raw", ["-1", "ten", "1.5"])
def test_bad_retention_days_is_a_clear_error(raw) -> None:
    with pytest.raises(ConfigurationError, match="INCIDENTFLOW_RETENTION_DAYS"):
        retention_days({"INCIDENTFLOW_RETENTION_DAYS": raw})


def test_expired_browser_sessions_go_api_tokens_stay(store):
    old_session = store.create_token("admin", "h1", NOW - timedelta(days=3), "session")
    new_session = store.create_token("admin", "h2", NOW - timedelta(hours=1), "session")
    old_token = store.create_token("ci", "h3", NOW - timedelta(days=300))

    pruned = prune(store, NOW, days=30)

    assert pruned.sessions == 1
    assert {t.id for t in store.list_tokens()} == {new_session.id, old_token.id}
    assert old_session.id not in {t.id for t in store.list_tokens()}
