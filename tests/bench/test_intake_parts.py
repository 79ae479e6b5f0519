"""Issue 14's bench pieces that need no server: the loss check, the backlog's reading of
``/metrics``, the storm's plan and its count at the fake, the results' promises."""

from __future__ import annotations

import json
from pathlib import Path

from bench import deliveries, report, signing, storm
from bench.backlog import ACCEPTED, QUEUE_DEPTH, Sample, sample_value
from bench.canvases import STORM_FILTERED_SEVERITY
from bench.context import Context, Figure, Options
from bench.intake_figures import MAX_POOL, pool_size
from bench.losscheck import LossCheck, acknowledged_by_wrk, wait_until_settled
from bench.productdb import Stored

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


# -- the loss check -------------------------------------------------------------------------


def test_every_acknowledged_delivery_stored_and_finished_passes() -> None:
    check = LossCheck(acknowledged=100, stored=100, finished=100, in_flight=16)
    assert check.ok and check.lost == 0 and check.problem() is None


def test_a_stored_delivery_fewer_than_acknowledged_is_a_loss() -> None:
    check = LossCheck(acknowledged=100, stored=99, finished=99, in_flight=16)
    assert not check.ok and check.lost == 1
    assert "1 lost" in str(check.problem())


def test_requests_cut_off_at_the_end_of_the_load_may_be_stored_but_no_more() -> None:
    assert LossCheck(100, 116, 116, in_flight=16).ok
    beyond = LossCheck(100, 117, 117, in_flight=16)
    assert not beyond.ok and beyond.unexplained == 1


def test_a_run_not_finished_fails_the_check() -> None:
    check = LossCheck(100, 100, 98, in_flight=16)
    assert not check.ok and check.unfinished == 2
    assert check.metrics()["nothing_lost"] is False


def test_wrk_acknowledgements_are_its_answers_without_the_error_statuses() -> None:
    assert acknowledged_by_wrk(requests=1000, non_2xx=3) == 997


def test_settling_polls_until_the_backlog_has_drained() -> None:
    readings = iter([Stored(90, 10), Stored(100, 60), Stored(100, 100), Stored(0, 0)])
    check = wait_until_settled(lambda: next(readings), 100, in_flight=8, timeout=60, interval=0)
    assert (check.stored, check.finished) == (100, 100) and check.ok


def test_settling_gives_up_at_its_deadline_with_the_loss_in_the_check() -> None:
    check = wait_until_settled(lambda: Stored(95, 95), 100, in_flight=8, timeout=0)
    assert check.lost == 5 and not check.ok


def test_the_pool_is_sized_from_the_rate_with_a_margin_and_bounds() -> None:
    assert pool_size(rate=1000, seconds=30, floor=40_000) == 46_000  # 1.5 x 30,000 + 1,000
    assert pool_size(rate=100, seconds=10, floor=40_000) == 40_000
    assert pool_size(rate=1e6, seconds=30, floor=40_000) == MAX_POOL


def test_a_pool_read_back_is_the_deliveries_written(tmp_path: Path) -> None:
    written = list(deliveries.signed_deliveries("/webhooks/x", SECRET, 3, "rb"))
    deliveries.write_pool(iter(written), tmp_path / "pool.tsv")
    assert deliveries.read_pool(tmp_path / "pool.tsv", 2) == written[:2]


# -- the backlog ----------------------------------------------------------------------------

METRICS_PAGE = """\
# HELP incidentflow_webhook_deliveries_total Webhook deliveries by outcome.
# TYPE incidentflow_webhook_deliveries_total counter
incidentflow_webhook_deliveries_total{outcome="accepted",reason=""} 120.0
incidentflow_webhook_deliveries_total{outcome="accepted",reason="other"} 5.0
incidentflow_webhook_deliveries_total{outcome="duplicate",reason=""} 7.0
# HELP incidentflow_queue_depth Executions due now and not running (all processes).
# TYPE incidentflow_queue_depth gauge
incidentflow_queue_depth 42.0
"""


def test_the_accepted_counter_sums_its_series_and_ignores_other_outcomes() -> None:
    assert sample_value(METRICS_PAGE, *ACCEPTED) == 125.0
    assert sample_value(METRICS_PAGE, *QUEUE_DEPTH) == 42.0
    assert sample_value(METRICS_PAGE, "incidentflow_missing_total", {}) is None


def test_the_backlog_is_work_acknowledged_and_not_finished() -> None:
    assert Sample(accepted=125, queue_depth=42, finished_runs=100).backlog == 25
    assert Sample(accepted=125, queue_depth=0, finished_runs=130).backlog == 0


# -- the storm ------------------------------------------------------------------------------


def test_a_storm_has_the_size_asked_with_redeliveries_sent_after_their_first() -> None:
    plan = storm.plan("/webhooks/s", SECRET, total=400, tag="t", now=1_700_000_000)
    assert len(plan.deliveries) == 400
    assert plan.redeliveries == 400 // storm.DUPLICATE_EVERY
    assert plan.distinct == len({d.webhook_id for d in plan.deliveries}) == 380
    first_seen: dict[str, int] = {}
    for position, delivery in enumerate(plan.deliveries):
        if delivery.webhook_id in first_seen:
            assert position - first_seen[delivery.webhook_id] > 1  # a redelivery, later
        first_seen.setdefault(delivery.webhook_id, position)


def test_the_storm_expects_one_alert_per_delivery_the_filter_lets_through() -> None:
    plan = storm.plan("/webhooks/s", SECRET, total=400, tag="t", now=1_700_000_000)
    bodies = {json.loads(d.body)["key"]: json.loads(d.body) for d in plan.deliveries}
    passing = {k for k, b in bodies.items() if b["severity"] != STORM_FILTERED_SEVERITY}
    assert plan.passing_keys == passing and 0 < plan.filtered < plan.distinct
    key = signing.secret_key(SECRET)
    assert all(
        signing.is_valid(key, d.webhook_id, str(d.timestamp), d.signature, d.body, d.timestamp)
        for d in plan.deliveries
    )


def test_the_count_at_the_fake_names_missing_doubled_and_unexpected_alerts() -> None:
    expected = frozenset({"a", "b", "c"})
    assert storm.count_at_fake(expected, {"a": 1, "b": 1, "c": 1}).ok
    count = storm.count_at_fake(expected, {"a": 1, "b": 2, "info-1": 1})
    assert (count.missing, count.doubled, count.unexpected, count.received) == (1, 1, 1, 4)
    assert not count.ok


# -- the results ----------------------------------------------------------------------------


def test_the_report_checks_the_intake_targets_and_promises(tmp_path: Path) -> None:
    options = Options(("intake",), ("sqlite",), (64,), 1, 0, 10, 50, 1, 1, (0,), (1,), 64, True)
    ctx = Context(options, tmp_path)
    ctx.figures["intake.sqlite.c64"] = Figure(
        metrics={"rps": 900.0, "nothing_lost": True, "duplicates_answered_as_such": False},
        ratios={"rps_vs_naive_full": 1.2, "rps_vs_naive_normal": 0.4},
    )
    ctx.figures["sustained.sqlite.c64"] = Figure(
        metrics={"finished_per_s": 500.0}, ratios={"finished_per_s_vs_naive_full": 0.6}
    )
    document = report.results_document(ctx, "python -m bench.run")
    checks = {c["target"]: c["met"] for c in document["targets"]}
    assert checks["intake on SQLite >= 1.0x naive FULL at c=64"] is True
    assert checks["stretch: intake on SQLite >= 1.0x naive NORMAL at c=64"] is False
    assert checks["sustained: finished/s >= 0.8x naive FULL acknowledgements at c=64"] is False
    assert checks["intake.sqlite.c64: every 2xx stored and its run finished"] is True
    assert checks["intake.sqlite.c64: stored deliveries sent again answered as duplicates"] is False
    assert "duplicates_answered_as_such=NO" in report.table(document)
