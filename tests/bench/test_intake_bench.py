"""Issue 14's figures at tiny size against real servers (`python -m bench.run --figures
intake,sustained,storm`): the product's promise is checked by the bench itself (every
2xx stored and finished, replays answered as duplicates, the storm exact at the fake),
and the figures carry what the report needs. No figure's speed is checked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = [
    "--figures", "intake,sustained,storm", "--databases", "sqlite", "--concurrency", "8",
    "--seconds", "1", "--warmup", "0", "--pool", "3000", "--sustained-seconds", "1",
    "--sustained-connections", "8", "--storm-deliveries", "200", "--storm-seconds", "1",
]


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed: run `apt-get install -y wrk`")
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", *TINY, "--no-readme", "--results-dir", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads(next(out.glob("*.json")).read_text())
    return document["figures"]


def _metrics(figures: dict, key: str) -> dict:
    figure = figures[key]
    assert figure["available"], f"{key}: {figure.get('reason')}"
    return figure["metrics"]


@pytest.mark.slow
def test_intake_stores_every_acknowledged_delivery_and_answers_replays_as_duplicates(
    figures: dict,
) -> None:
    metrics = _metrics(figures, "intake.sqlite.c8")
    assert metrics["acknowledged"] > 0 and metrics["stored"] >= metrics["acknowledged"]
    assert metrics["nothing_lost"] is True, figures["intake.sqlite.c8"]["notes"]
    assert metrics["replays_answered_duplicate"] == 5
    assert set(figures["intake.sqlite.c8"]["ratios"]) >= {
        "rps_vs_naive_full", "rps_vs_naive_normal"}


@pytest.mark.slow
def test_sustained_reports_both_rates_the_drain_and_the_backlog(figures: dict) -> None:
    metrics = _metrics(figures, "sustained.sqlite.c8")
    assert metrics["nothing_lost"] is True
    assert metrics["finished"] == metrics["stored"] >= metrics["acknowledged"] > 0
    assert metrics["finished_per_s"] > 0 and metrics["drain_seconds"] >= 0
    assert metrics["backlog_samples"] > 0 and metrics["backlog_peak"] >= 0
    assert "finished_per_s_vs_naive_full" in figures["sustained.sqlite.c8"]["ratios"]


@pytest.mark.slow
def test_the_storm_is_exact_at_the_fake(figures: dict) -> None:
    metrics = _metrics(figures, "storm.sqlite")
    assert metrics["deliveries"] == 200
    assert metrics["accepted"] == metrics["distinct"] == metrics["runs"]
    assert metrics["duplicates_answered"] == metrics["redeliveries"] > 0
    assert metrics["alerts_at_fake"] == metrics["alerts_expected"] > 0
    assert metrics["alerts_expected"] == metrics["distinct"] - metrics["filtered_out"]
    assert metrics["alerts_doubled"] == metrics["alerts_missing"] == 0
    assert metrics["exact"] is True and metrics["vm_hwm_mb"] > 0
    assert metrics["seconds_to_all_answered"] > 0 and metrics["backlog_peak"] >= 0
