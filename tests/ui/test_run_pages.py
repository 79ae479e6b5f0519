"""The run pages at scale and recovery, through the UI as a person uses it: paging
with a total, filters, the incident on every row, distinct ids, a retry seen while it
happens, error first, Retry, Replay (linked both ways), bulk replay with its
confirmation and progress, the canvas's 24-hour chart."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from helpers import GATED_CANVAS as GATED
from ui_support import ADMIN_TOKEN, EMULATOR_URL, MANUAL, Browser, apply, drain

from incidentflow.crypto import SecretBox
from incidentflow.engine.worker import Worker
from incidentflow.events import Event, utcnow
from incidentflow.settings import Settings
from incidentflow.web.ui.run_display import short_ids

RETRY_SECONDS = 30.0  # the page is read between the attempts; a later clock runs the next


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A retry waits RETRY_SECONDS (at most): ``drain_later`` runs it."""
    return replace(settings, retry_base_seconds=RETRY_SECONDS)


def drain_later(browser: Browser, app: Any, seconds: float) -> int:
    """Run what is due ``seconds`` from now, as a worker would then."""
    host = app.state.host
    worker = Worker(host.store, host.registry, SecretBox(host.settings.secret_key), host.http,
                    host.settings, clock=lambda: utcnow() + timedelta(seconds=seconds))
    assert browser.client.portal is not None
    return browser.client.portal.call(worker.drain)


def run_start(browser: Browser, canvas: str, payload: dict[str, Any]) -> str:
    browser.get(f"/canvases/{canvas}/nodes/Start")
    answer = browser.submit(f"/canvases/{canvas}/nodes/Start/run",
                            {"payload": json.dumps(payload)})
    found = re.search(r"/runs/([0-9a-f]{32})", str(answer.url))
    assert found, answer.url
    return found.group(1)


def set_gate(browser: Browser, value: str) -> None:
    answer = browser.client.put("/api/v1/secrets/GATE", json={"value": value},
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert answer.status_code == 200, answer.text


def incident(n: int) -> dict[str, Any]:
    return {"incident": {"reference": f"INC-{n}", "name": f"Payments {n} slow"}}


@pytest.fixture
def gated(browser: Browser) -> Browser:
    assert apply(browser, GATED).status_code == 200
    return browser


def test_the_run_list_pages_with_a_total_and_names_each_incident(gated: Browser,
                                                                  store: Any) -> None:
    now = utcnow()
    ids = [store.start_run("gated", "Start", Event("start.manual", incident(n),
                                                    "2026-03-01T12:00:00Z"), [], now)
           for n in range(55)]
    page = gated.get("/canvases/gated/runs").text
    assert "Showing 50 of 55 runs." in page
    assert "INC-54" in page and "Payments 54 slow" in page and "INC-4<" not in page
    labels = re.findall(r'class="run-id"><code>([^<]+)</code>', page)
    assert len(labels) == 50 and len(set(labels)) == 50  # ids never collide on screen
    assert all(full.endswith(label.lstrip("…")) for full, label in
               zip(ids[::-1], labels, strict=False))
    older = re.search(r'href="([^"]+)" id="older-runs"', page)
    assert older
    second = gated.get(older.group(1).replace("&amp;", "&")).text
    assert "Showing 5 of 55 runs (older page)." in second and "INC-4<" in second
    assert 'id="older-runs"' not in second
    none_failed = gated.get("/canvases/gated/runs?state=failed&since=1h").text
    assert "No matching runs." in none_failed
    bad = gated.get("/canvases/gated/runs?since=yesterday")
    assert bad.status_code == 422 and "Filter not applied:" in bad.text


def test_short_ids_grow_until_they_differ() -> None:
    same_ms = ["01a23bdb479b0000aaaa1111bbbb2222", "01a23bdb479b0001aaaa1111bbbb2222"]
    labels = short_ids(same_ms)
    assert len(set(labels.values())) == 2
    assert labels[same_ms[0]] == "…" + same_ms[0][-17:]
    assert short_ids(["abc"]) == {"abc": "abc"}


def test_a_retry_is_seen_while_it_happens_and_afterwards(with_integration: Browser, app: Any,
                                                         emulator_http: Any) -> None:
    browser = with_integration
    apply(browser, MANUAL)
    run_id = run_start(browser, "manual", {"title": "DB down"})
    # incident.io answers 500 to the client's three quick tries: the attempt fails
    assert browser.client.portal is not None
    added = browser.client.portal.call(partial(
        emulator_http.post, f"{EMULATOR_URL}/_emulator/faults", json={"status": 500, "count": 3}))
    assert added.status_code == 201
    drain(browser, app)  # the first attempt gets the 500
    page = browser.get(f"/runs/{run_id}").text
    assert 'id="run-state">running' in page and "data-live-refresh" in page
    attempts = page[page.index('class="compact attempts"'):]
    assert re.search(r'attempt-retrying"><td>1</td>', attempts)
    assert "500" in attempts and "next at" in attempts
    assert 'class="tl-failed"' in page and 'class="tl-retrying"' in page
    drain_later(browser, app, RETRY_SECONDS + 1)  # the retry is due then
    page = browser.get(f"/runs/{run_id}").text
    assert 'id="run-state">succeeded' in page
    assert re.search(r'attempt-succeeded"><td>2</td>', page)
    assert re.search(r'attempt-retrying"><td>1</td>', page)  # the failed try stays
    assert "2 attempts" in page  # the timeline's note on the retried step


def test_a_failed_run_shows_its_error_first_and_retries_from_the_page(gated: Browser,
                                                                      app: Any) -> None:
    run_id = run_start(gated, "gated", incident(1))
    drain(gated, app)
    page = gated.get(f"/runs/{run_id}").text
    assert 'id="run-state">failed' in page
    assert page.index("run-failure") < page.index("Trigger event") < page.index("Executions")
    assert "Gate failed</strong>: Gate.expression: secret &#39;GATE&#39; is not set" in page
    assert "INC-1" in page and "Payments 1 slow" in page
    set_gate(gated, "open-sesame")
    retried = gated.submit(re.search(r'action="(/runs/[^"]+/retry)"', page).group(1), {})
    assert "Execution queued again with the same idempotency key" in retried.text
    assert 'id="run-state">running' in retried.text
    drain(gated, app)
    page = gated.get(f"/runs/{run_id}").text
    assert 'id="run-state">succeeded' in page and "run-failure" not in page
    assert re.search(r'attempt-failed"><td>1</td>', page)


def test_a_filtered_run_says_where_it_stopped_and_a_replay_links_both_ways(
    gated: Browser, app: Any,
) -> None:
    set_gate(gated, "closed-shut")
    run_id = run_start(gated, "gated", incident(2))
    drain(gated, app)
    page = gated.get(f"/runs/{run_id}").text
    assert "Stopped at Gate:</strong> its condition was false" in page
    set_gate(gated, "open-sesame")
    replayed = gated.submit(f"/runs/{run_id}/replay", {})
    assert "Replay started" in replayed.text
    assert f'id="replay-of"><code>{run_id}</code>' in replayed.text
    new_id = re.search(r"/runs/([0-9a-f]{32})\?notice=replayed$", str(replayed.url)).group(1)
    drain(gated, app)
    original = gated.get(f"/runs/{run_id}").text
    assert f'class="replayed-as"><code>{new_id}</code>' in original
    assert "Stopped at" not in gated.get(f"/runs/{new_id}").text


def test_bulk_replay_confirms_how_many_then_shows_progress(gated: Browser, app: Any) -> None:
    failed = [run_start(gated, "gated", incident(n)) for n in range(3)]
    drain(gated, app)
    gated.get("/canvases/gated/runs?state=failed&since=1h")
    confirm = gated.submit("/canvases/gated/runs/replay",
                           {"scope": "filter", "state": "failed", "since": "1h"})
    assert "Replay 3 runs of gated?" in confirm.text
    assert len(gated.get("/canvases/gated/runs").text.split('class="run-id"')) == 4  # none yet
    gated.page = confirm.text
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">',
                             confirm.text))
    progress = gated.submit("/canvases/gated/runs/replay", {**fields, "confirmed": "yes"})
    assert "/canvases/gated/replays/" in str(progress.url)
    assert "0 of 3 replays done" in progress.text and 'value="0"' in progress.text
    set_gate(gated, "open-sesame")
    drain(gated, app)
    done = gated.get(str(progress.url)).text
    assert "3 of 3 replays done" in done and "3 succeeded" in done
    assert "data-live-refresh" not in done
    gated.get("/canvases/gated/runs")
    picked = gated.submit("/canvases/gated/runs/replay", {"scope": "ids", "ids": failed[:2]})
    assert "Replay 2 runs of gated?" in picked.text
    nothing = gated.submit("/canvases/gated/runs/replay", {"scope": "ids"})
    assert nothing.status_code == 422 and "tick the runs" in nothing.text


def test_the_canvas_page_draws_the_last_24_hours(gated: Browser, app: Any, store: Any) -> None:
    set_gate(gated, "closed-shut")
    run_start(gated, "gated", {})
    store.start_run("gated", "Start", Event("start.manual", {}, "2026-03-01T12:00:00Z"), [],
                    utcnow() - timedelta(hours=30))  # older than the chart
    drain(gated, app)
    page = gated.get("/canvases/gated").text
    assert "Runs: 1 succeeded, 0 running, 0 failed" in page
    assert page.count('class="ch-succeeded"') == 1
