"""The benchmark harness end to end at tiny size (`python -m bench.run --quick`), so
`make bench` keeps working: servers start, wrk loads them, figures and ratios come out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if shutil.which("wrk") is None:
        pytest.fail(
            "wrk is not installed: run `apt-get install -y wrk` (the CI script .ci/run does)"
        )
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--no-readme", "--results-dir", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    files = list(out.glob("*.json"))
    assert len(files) == 1, files
    return json.loads(files[0].read_text())


def _available(results: dict, key: str) -> dict:
    figure = results["figures"][key]
    assert figure["available"], f"{key}: {figure.get('reason')}"
    return figure


def test_baselines_have_throughput_and_latency(results: dict) -> None:
    for key in ("baseline.bare.c16", "baseline.naive_full.c16"):
        metrics = _available(results, key)["metrics"]
        assert metrics["requests"] > 0 and metrics["rps"] > 0
        assert 0 < metrics["p50_ms"] <= metrics["p99_ms"]
        assert metrics["non_2xx"] == 0, "the naive receiver rejected the bench's own signatures"


def test_naive_baseline_is_compared_with_bare(results: dict) -> None:
    ratios = _available(results, "baseline.naive_full.c16")["ratios"]
    assert ratios["rps_vs_bare"] > 0 and ratios["p99_vs_bare"] > 0


def test_product_ingest_is_measured_against_both_baselines(results: dict) -> None:
    figure = _available(results, "ingest.sqlite.c16")
    assert figure["metrics"]["rps"] > 0 and figure["metrics"]["non_2xx"] == 0
    assert set(figure["ratios"]) >= {"rps_vs_bare", "rps_vs_naive_full", "p99_vs_naive_full"}


def test_footprint_and_machine_are_recorded(results: dict) -> None:
    metrics = _available(results, "footprint.sqlite")["metrics"]
    assert (
        metrics["rss_idle_mb"] > 0 and metrics["ready_seconds"] > 0 and metrics["help_seconds"] > 0
    )
    assert results["machine"]["nproc"] >= 1 and results["command"].startswith("python -m bench.run")
