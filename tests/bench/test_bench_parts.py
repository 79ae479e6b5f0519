"""The bench's own pieces: signer, deliveries, percentile, the results table."""

from __future__ import annotations

import json
from pathlib import Path

from bench import deliveries, report, signing
from bench.context import Context, Figure, Options
from bench.openloop import percentile

# The Standard Webhooks project's published test vector ("official" sign_vector,
# standard-webhooks/standard-webhooks libraries/python/tests/test_webhooks.py); the same
# vectors are in tests/data/standard-webhooks-test-vectors.json.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WEBHOOK_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = "1614265330"
BODY = b'{"test": 2432232314}'
EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signer_matches_the_standard_webhooks_vector() -> None:
    assert signing.sign(signing.secret_key(SECRET), WEBHOOK_ID, TIMESTAMP, BODY) == EXPECTED


def test_checker_accepts_the_vector_among_decoys_and_rejects_stale_or_altered() -> None:
    key = signing.secret_key(SECRET)
    header = f"v2,abc= {EXPECTED} v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    now = int(TIMESTAMP)
    assert signing.is_valid(key, WEBHOOK_ID, TIMESTAMP, header, BODY, now)
    assert not signing.is_valid(key, WEBHOOK_ID, TIMESTAMP, EXPECTED, BODY + b" ", now)
    assert not signing.is_valid(key, WEBHOOK_ID, TIMESTAMP, EXPECTED, BODY, now + 301)


def test_deliveries_are_unique_realistic_and_verifiable() -> None:
    batch = list(deliveries.signed_deliveries("/webhooks/x", SECRET, 3, "t"))
    assert len({d.webhook_id for d in batch}) == 3 and len({d.incident_name for d in batch}) == 3
    key = signing.secret_key(SECRET)
    for d in batch:
        payload = json.loads(d.body)
        assert payload[deliveries.EVENT_TYPE]["name"] == d.incident_name
        assert 1000 <= len(d.body) <= 1500
        assert signing.is_valid(
            key, d.webhook_id, str(d.timestamp), d.signature, d.body, d.timestamp
        )


def test_pool_lines_keep_body_intact_for_the_lua_reader(tmp_path: Path) -> None:
    target = tmp_path / "pool.tsv"
    written = deliveries.write_pool(
        deliveries.signed_deliveries("/webhooks/x", SECRET, 2, "p"), target
    )
    lines = target.read_bytes().splitlines()
    assert written == 2 and len(lines) == 2
    fields = lines[0].split(b"\t", 4)
    assert (
        fields[3] == b"/webhooks/x" and json.loads(fields[4])["event_type"] == deliveries.EVENT_TYPE
    )


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0


def _document(tmp_path: Path, rps: float) -> dict:
    options = Options(("baselines",), ("sqlite",), (64,), 1, 0, 10, 50, 1, 1, (0,), (1,), 64, True)
    ctx = Context(options, tmp_path)
    ctx.figures["ingest.sqlite.c64"] = Figure(
        metrics={"rps": rps}, ratios={"rps_vs_naive_full": rps / 100}
    )
    ctx.figures["e2e.sqlite"] = Figure(unavailable="boom\nsecond | line")
    return report.results_document(ctx, "python -m bench.run")


def test_readme_block_is_replaced_for_the_same_day_and_host(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Benchmarks\n\nintro\n")
    report.update_readme(readme, _document(tmp_path, 50.0))
    report.update_readme(readme, _document(tmp_path, 150.0))
    text = readme.read_text()
    assert text.startswith("# Benchmarks\n\nintro\n") and text.count("<!-- run ") == 1
    assert "rps_vs_naive_full=1.50" in text  # the second write is the one kept
    assert "rps_vs_naive_full=0.50" not in text
    assert "not available: boom / second \\| line" in text


def test_targets_report_met_and_missed(tmp_path: Path) -> None:
    checks = {c["target"]: c["met"] for c in _document(tmp_path, 50.0)["targets"]}
    assert checks == {"ingest on SQLite >= 1.0x naive FULL at c=64": False}
