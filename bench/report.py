"""Results: a JSON file per run, a markdown block in bench/README.md, a console table,
and the issue-6 targets checked against what was measured."""

from __future__ import annotations

import json
import os
import platform
import re
import socket
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.context import Context, Figure

# (what, figure, "metrics"|"ratios", key, "min"|"max", threshold)
TARGETS = [
    (
        "ingest on SQLite >= 1.0x naive FULL at c=64",
        "ingest.sqlite.c64",
        "ratios",
        "rps_vs_naive_full",
        "min",
        1.0,
    ),
    (
        "ingest on PostgreSQL >= 1.0x naive FULL at c=64",
        "ingest.postgres.c64",
        "ratios",
        "rps_vs_naive_full",
        "min",
        1.0,
    ),
    ("intake on SQLite >= 1.0x naive FULL at c=64", "intake.sqlite.c64", "ratios",
     "rps_vs_naive_full", "min", 1.0),
    ("intake on SQLite >= 1.0x naive FULL at c=16", "intake.sqlite.c16", "ratios",
     "rps_vs_naive_full", "min", 1.0),
    ("stretch: intake on SQLite >= 1.0x naive NORMAL at c=64", "intake.sqlite.c64", "ratios",
     "rps_vs_naive_normal", "min", 1.0),
    ("stretch: intake on SQLite >= 1.0x naive NORMAL at c=16", "intake.sqlite.c16", "ratios",
     "rps_vs_naive_normal", "min", 1.0),
    ("sustained: finished/s >= 0.8x naive FULL acknowledgements at c=64",
     "sustained.sqlite.c64", "ratios", "finished_per_s_vs_naive_full", "min", 0.8),
    ("end to end p50 <= 10 ms", "e2e.sqlite", "metrics", "p50_ms", "max", 10.0),
    ("/healthz p99 <= 100 ms under hostile input", "hostile.sqlite", "metrics",
     "hostile_p99_ms", "max", 100.0),
    ("end to end p99 <= 50 ms", "e2e.sqlite", "metrics", "p99_ms", "max", 50.0),
    (
        "engine on SQLite >= 2000 executions/s",
        "engine.sqlite.1proc",
        "metrics",
        "executions_per_s",
        "min",
        2000.0,
    ),
    (
        "PostgreSQL 2 workers >= 1.6x 1 worker",
        "engine.postgres.2workers",
        "ratios",
        "vs_1worker",
        "min",
        1.6,
    ),
    ("idle RSS <= 120 MB", "footprint.sqlite", "metrics", "rss_idle_mb", "max", 120.0),
    ("100 nodes / 5,000 edges save < 1 s", "canvas.sqlite", "metrics", "save_large_ms",
     "max", 1000.0),
    ("100 nodes / 5,000 edges page < 2 s", "canvas.sqlite", "metrics", "page_large_ms",
     "max", 2000.0),
    ("--help <= 0.3 s", "footprint.sqlite", "metrics", "help_seconds", "max", 0.3),
]
GROWTH_TOLERANCE = 0.9  # growth figures keep >= 90 % of the empty database's req/s

SHOWN = ("rps", "p50_ms", "p99_ms")
OTHER = (
    "executions_per_s",
    "executions",
    "deliveries",
    "rss_idle_mb",
    "rss_load_mb",
    "ready_seconds",
    "help_seconds",
    "ack_p50_ms",
    "ack_p99_ms",
    "prefill_seconds",
    "save_small_ms",
    "save_large_ms",
    "page_small_ms",
    "page_large_ms",
    "page_chain_ms",
    "healthz_idle_max_ms",
    "healthz_during_large_page_max_ms",
    "healthz_during_large_save_max_ms",
    # issue 14: intake, sustained, storm
    "acknowledged",
    "stored",
    "lost",
    "nothing_lost",
    "duplicates_answered_as_such",
    "drain_seconds",
    "finished_per_s",
    "backlog_peak",
    "queue_depth_peak",
    "distinct",
    "redeliveries",
    "accepted",
    "duplicates_answered",
    "failed",
    "alerts_expected",
    "alerts_at_fake",
    "alerts_missing",
    "alerts_doubled",
    "seconds_to_all_answered",
    "seconds_to_all_finished",
    "rss_peak_mb",
    "vm_hwm_mb",
    "exact",
)


def machine() -> dict[str, object]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "host": socket.gethostname(),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
    }


def check_targets(figures: dict[str, Figure]) -> list[dict[str, object]]:
    checks: list[dict[str, object]] = []
    for what, key, kind, name, direction, threshold in TARGETS:
        figure = figures.get(key)
        if figure and not figure.unavailable:
            value = getattr(figure, kind).get(name)
            if isinstance(value, int | float):
                met = value >= threshold if direction == "min" else value <= threshold
                checks.append({"target": what, "figure": key, "value": value, "met": met})
    for key, figure in figures.items():
        value = figure.ratios.get("rps_vs_empty")
        if key.startswith("growth.") and value is not None and not figure.unavailable:
            checks.append(
                {
                    "target": f"{key} within 10 % of empty",
                    "figure": key,
                    "value": value,
                    "met": value >= GROWTH_TOLERANCE,
                }
            )
    return checks + _promise_checks(figures)


# (metric, what it promises): a True/False a figure records about the product's promise.
PROMISES = (
    ("nothing_lost", "every 2xx stored and its run finished"),
    ("duplicates_answered_as_such", "stored deliveries sent again answered as duplicates"),
    ("exact", "storm exact: accepted once, duplicates answered, one alert each"),
)


def _promise_checks(figures: dict[str, Figure]) -> list[dict[str, object]]:
    checks: list[dict[str, object]] = []
    for key, figure in figures.items():
        for metric, what in PROMISES:
            value = figure.metrics.get(metric)
            if isinstance(value, bool) and not figure.unavailable:
                checks.append({"target": f"{key}: {what}", "figure": key, "value": value,
                               "met": value})
    return checks


def results_document(ctx: Context, command: str) -> dict[str, object]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "command": command,
        "options": asdict(ctx.options),
        "figures": {key: figure.to_dict() for key, figure in ctx.figures.items()},
        "targets": check_targets(ctx.figures),
    }


def write_json(document: dict[str, object], results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    day = str(document["date"])[:10]
    host = document["machine"]["host"]  # type: ignore[index]
    target = results_dir / f"{day}-{host}.json"
    target.write_text(json.dumps(document, indent=2) + "\n")
    return target


def _number(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return str(value) if value is not None else ""


def _cell(text: str, limit: int = 240) -> str:
    """One table cell: a single line, no pipes, cut short (the JSON keeps the whole text)."""
    flat = " / ".join(line.strip() for line in text.splitlines() if line.strip())
    flat = flat.replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def table(document: dict[str, object]) -> str:
    rows = [
        "| figure | req/s | p50 ms | p99 ms | other | ratios |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for key, figure in document["figures"].items():  # type: ignore[attr-defined]
        if not figure["available"]:
            rows.append(f"| {key} | | | | not available: {_cell(figure['reason'])} | |")
            continue
        metrics, ratios = figure["metrics"], figure["ratios"]
        shown = [_number(metrics.get(name)) for name in SHOWN]
        other = ", ".join(f"{name}={_number(metrics[name])}" for name in OTHER if name in metrics)
        ratio_text = ", ".join(f"{name}={value:.2f}" for name, value in ratios.items())
        rows.append(f"| {key} | {' | '.join(shown)} | {other} | {ratio_text} |")
    return "\n".join(rows)


def markdown_block(document: dict[str, object]) -> str:
    m = document["machine"]
    lines = [
        f"### {str(document['date'])[:10]} on {m['host']} ({m['nproc']} × {m['cpu_model']})",  # type: ignore[index]
        "",
        f"Command: `{document['command']}`",
        "",
        table(document),
        "",
    ]
    targets = document["targets"]
    if targets:
        lines += ["Targets:", ""]
        for check in targets:  # type: ignore[attr-defined]
            mark = "met" if check["met"] else "NOT met"
            lines.append(f"- {check['target']}: {_number(check['value'])} — {mark}")
        lines.append("")
    return "\n".join(lines)


def update_readme(readme: Path, document: dict[str, object]) -> None:
    """Replace this day's block for this host, or append it (one block per day and host)."""
    m = document["machine"]
    marker = f"<!-- run {str(document['date'])[:10]} {m['host']} -->"  # type: ignore[index]
    block = f"{marker}\n{markdown_block(document)}<!-- end run -->\n"
    text = readme.read_text() if readme.exists() else "# Benchmarks\n\n## Results\n\n"
    pattern = re.compile(re.escape(marker) + r".*?<!-- end run -->\n", re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip("\n") + "\n\n" + block
    )
    readme.write_text(text)
