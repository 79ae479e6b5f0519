"""Runs at scale and recovery in Debian's chromium, against real processes, at desktop
(1280×800) and phone (390×844) sizes: watch a run and see a retry happen (the emulator
answers 500), a failed run's error first with its Retry, replay a failed run (linked
both ways), bulk replay of the failed runs with a confirmation and progress, the
canvas's 24-hour chart, and lists whose key columns stay on a phone's screen. No
console errors and no unexpected 4xx/5xx on any page.

Screenshots (named for what they prove) go to a temporary directory, or to
docs/screenshots/ with INCIDENTFLOW_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_support import SHOTS, launch, require_chromium, shot
from helpers import free_port, wait_until
from servers import cli, process
from ui_support import MAJOR

pytestmark = pytest.mark.browser
pw_sync = pytest.importorskip("playwright.sync_api")
expect = pw_sync.expect

TOKEN = "ifa_browser_runs_" + "D" * 26
EMULATOR_KEY = "emulator-browser-runs-key"
WAIT_MS = 30_000
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
RETRY_BASE_SECONDS = 3  # long enough to see the retrying attempt on the page
SECRET_CACHE_SECONDS = 5.5  # a running worker reads a changed secret after at most 5 s
CANVAS = """\
name: recover-SIZE
nodes:
  - {name: Start, type: start}
  - name: Gate
    type: filter
    configuration: {expression: "secrets.GATE_SIZE == 'open-sesame'"}
  - name: Open
    type: incident.createIncident
    integration: incident
    configuration:
      name: "Recovered: {{ root.data.incident.name }}"
      severityId: MAJOR_ID
edges:
  - {from: Start, to: Gate}
  - {from: Gate, to: Open}
""".replace("MAJOR_ID", MAJOR)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:

    require_chromium()
    logs = tmp_path_factory.mktemp("logs")
    emulator_port, port = free_port(), free_port()
    emulator, base = f"http://127.0.0.1:{emulator_port}", f"http://127.0.0.1:{port}"
    env = {
        "INCIDENTFLOW_ADMIN_TOKEN": TOKEN,
        "INCIDENTFLOW_SECRET_KEY": "browser-runs-secret-key",
        "INCIDENTFLOW_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "INCIDENTFLOW_PUBLIC_URL": base,
        "INCIDENTFLOW_RETRY_BASE_SECONDS": str(RETRY_BASE_SECONDS),
    }
    with (
        process([*cli(), "emulator", "--port", str(emulator_port), "--api-key", EMULATOR_KEY],
                f"{emulator}/_emulator/faults", {}, logs / "emulator.log"),
        process([*cli(), "serve", "--port", str(port)], f"{base}/healthz", env,
                logs / "server.log"),
    ):
        yield {"base": base, "emulator": emulator}


@pytest.fixture(scope="module")
def api(servers: dict[str, str]) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=servers["base"], timeout=10,
                          headers={"Authorization": f"Bearer {TOKEN}"})
    client.put("/api/v1/integrations/incident", json={"type": "incident", "configuration": {
        "apiKey": EMULATOR_KEY, "baseUrl": servers["emulator"]}}).raise_for_status()
    yield client
    client.close()


class Watched:
    """A page in a context that records console errors and 4xx/5xx answers."""

    def __init__(self, context: Any):
        self.problems: list[str] = []
        context.on("console", lambda m: self.problems.append(f"console: {m.text}")
                   if m.type == "error" else None)
        context.on("response", lambda r: self.problems.append(f"{r.status} {r.url}")
                   if r.status >= 400 else None)
        self.page = context.new_page()


@pytest.fixture(params=list(SIZES))
def watched(request: pytest.FixtureRequest, servers: dict[str, str]) -> Iterator[Watched]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with pw_sync.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport=SIZES[request.param], base_url=servers["base"])
        context.set_default_timeout(10_000)
        watched = Watched(context)
        watched.page.size = request.param  # type: ignore[attr-defined]
        page = watched.page
        page.goto("/signin")
        page.get_by_label("Token").fill(TOKEN)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Canvases")).to_be_visible()
        yield watched
        context.close()
        browser.close()


def failed_runs(api: httpx.Client, canvas: str, count: int) -> list[str]:
    ids = []
    for n in range(count):
        payload = {"incident": {"reference": f"INC-{700 + n}", "name": f"Checkout {n} down"}}
        answer = api.post(f"/api/v1/canvases/{canvas}/nodes/Start/run", json=payload)
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["runId"])
    wait_until(lambda: api.get(f"/api/v1/canvases/{canvas}/runs?state=failed").json()["total"]
               == count, 20, what="the runs to fail at Gate")
    return ids


def above(page: Any, first: str, second: str) -> bool:
    a, b = page.locator(first).first.bounding_box(), page.locator(second).first.bounding_box()
    return a is not None and b is not None and a["y"] + a["height"] <= b["y"]


def test_watch_retry_replay_and_bulk_replay(watched: Watched, api: httpx.Client,
                                            servers: dict[str, str]) -> None:
    page, size = watched.page, watched.page.size  # type: ignore[attr-defined]
    canvas = f"recover-{size}"
    source = CANVAS.replace("SIZE", size)
    assert api.put(f"/api/v1/canvases/{canvas}", content=source,
                   headers={"Content-Type": "application/yaml"}).status_code == 200
    ids = failed_runs(api, canvas, 3)
    api.put(f"/api/v1/secrets/GATE_{size}", json={"value": "open-sesame"}).raise_for_status()
    secret_set = time.monotonic()

    # The run list: a total, the incident on every row, key columns on screen.
    page.goto(f"/canvases/{canvas}/runs")
    expect(page.locator("#run-count")).to_have_text("Showing 3 of 3 runs.")
    expect(page.locator(".incident-cell").first).to_contain_text("INC-702")
    state_cell = page.locator(".runs-table tbody tr").first.locator("td").nth(2)
    box = state_cell.bounding_box()
    assert box is not None and box["x"] + box["width"] <= SIZES[size]["width"]
    shot(page, f"40-runs-list-incident-on-every-row-{size}")

    # A failed run: its error comes first, above the timeline and the executions.
    page.goto(f"/runs/{ids[0]}")
    expect(page.locator(".run-failure")).to_contain_text("Gate failed")
    assert above(page, ".run-failure", "#timeline-caption")
    assert above(page, ".run-failure", "h2:has-text('Executions')")
    shot(page, f"41-run-failed-error-first-{size}", full=False)

    # Replay it while incident.io answers 500 (three quick tries fail the attempt):
    # the new run shows the retrying attempt, then succeeds on the next.
    time.sleep(max(0.0, SECRET_CACHE_SECONDS - (time.monotonic() - secret_set)))
    httpx.post(f"{servers['emulator']}/_emulator/faults",
               json={"status": 500, "count": 3}).raise_for_status()
    page.get_by_role("button", name="Replay", exact=True).click()
    expect(page.locator(".notice")).to_contain_text("Replay started")
    expect(page.locator("#replay-of")).to_contain_text(ids[0])
    expect(page.locator(".attempt-retrying").first).to_be_visible(timeout=WAIT_MS)
    expect(page.locator(".tl-retrying").first).to_be_attached()
    shot(page, f"42-run-retry-happening-{size}")
    expect(page.locator("#run-state")).to_have_text("succeeded", timeout=WAIT_MS)
    open_attempts = page.locator("table.attempts").filter(has_text="Attempts of Open")
    expect(open_attempts.locator(".attempt-retrying td").first).to_have_text("1")
    expect(open_attempts.locator(".attempt-succeeded td").first).to_have_text("2")
    shot(page, f"43-run-retried-then-succeeded-timeline-{size}")
    page.goto(f"/runs/{ids[0]}")
    expect(page.locator(".replayed-as")).to_have_count(1)

    # Retry the failed execution itself from the run page.
    page.get_by_role("button", name="Retry Gate").click()
    expect(page.locator(".notice")).to_contain_text("Execution queued again")
    expect(page.locator("#run-state")).to_have_text("succeeded", timeout=WAIT_MS)
    expect(page.locator(".run-failure")).to_have_count(0)

    # Bulk: every failed run of the window, with a confirmation that says how many.
    page.goto(f"/canvases/{canvas}/runs?since=1h")
    page.get_by_role("button", name="Replay all failed in this window…").click()
    expect(page.get_by_role("heading", name=f"Replay 2 runs of {canvas}?")).to_be_visible()
    shot(page, f"44-bulk-replay-confirm-says-how-many-{size}")
    page.get_by_role("button", name="Replay 2 runs").click()
    expect(page.locator("#progress-title")).to_have_text("2 of 2 replays done", timeout=WAIT_MS)
    expect(page.locator(".progress-counts")).to_contain_text("2 succeeded")
    shot(page, f"45-bulk-replay-progress-{size}")

    # The canvas page's picture of the last 24 hours.
    page.goto(f"/canvases/{canvas}")
    expect(page.locator("#activity-totals")).to_contain_text("failed")
    expect(page.locator(".activity-svg")).to_be_visible()
    shot(page, f"46-canvas-24h-chart-{size}")

    # The canvases list keeps its Result column on screen.
    page.goto("/canvases")
    result = page.get_by_role("columnheader", name="Result").bounding_box()
    assert result is not None and result["x"] + result["width"] <= SIZES[size]["width"]
    shot(page, f"47-canvases-list-result-column-{size}", full=False)

    assert watched.problems == []
