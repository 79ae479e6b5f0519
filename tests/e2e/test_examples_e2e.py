"""The example canvases in ``examples/`` end to end, over real HTTP between real
processes, on SQLite and on PostgreSQL: ``incidentflow serve`` applies each YAML file as
shipped (only its placeholders replaced), ``incidentflow emulator`` plays incident.io
(its signed webhooks in, its API out), and the test asserts what reached the emulator
or the chat sink, and that nothing ran twice (redeliveries included)."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import (
    ServerProcess,
    Sink,
    cli_command,
    postgres_base_url,
    server_process,
    wait_until,
)

from e2e.test_incident_e2e import EMULATOR_KEY, MAJOR, ok
from e2e.test_incident_e2e import emulator as emulator  # noqa: F401 - the fixture
from e2e.test_webhook_trigger_e2e import _schema_url
from incidentflow.emulator import catalog

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CRITICAL = "01FCNDV6P870EA6S7TK1DSYDG2"  # the emulator's "Critical" severity
STATUS = {s["name"]: s["id"] for s in catalog.default_statuses()}
ESCALATION_PATH = catalog.default_escalation_paths()[0]["id"]
AUTH = {"Authorization": f"Bearer {EMULATOR_KEY}"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module",
                params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server per backend (this module's own: conftest's is SQLite only)."""
    data_dir = tmp_path_factory.mktemp("examples") / "data"
    if request.param == "sqlite":
        with server_process(data_dir) as running:
            yield running
        return
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL half skipped: set CI=1 or INCIDENTFLOW_TEST_DATABASE_URL")
    for url in _schema_url(base):
        with server_process(data_dir, "--database-url", url) as running:
            yield running


class Stage:
    """The server's API and the emulator, set up the way a team would: integration
    connected, the example applied, its trigger subscribed in incident.io."""

    def __init__(self, server: ServerProcess, emulator: str, tmp: Path) -> None:
        self.server, self.tmp = server, tmp
        self.api = httpx.Client(base_url=server.url, timeout=15,
                                headers={"Authorization": f"Bearer {server.token}"})
        self.incidentio = httpx.Client(base_url=emulator, timeout=15)
        self.incidentio.post("/_emulator/reset").raise_for_status()
        assert ok(self.api.put("/api/v1/integrations/incident", json={
            "type": "incident", "configuration": {"apiKey": EMULATOR_KEY,
                                                  "baseUrl": emulator}}))["status"] == "ready"

    def apply(self, file: str, **placeholders: str) -> str:
        """``incidentflow apply`` of the example as shipped, with only its placeholders
        replaced (a copy: tests never modify tracked files); the canvas's name."""
        text = (EXAMPLES / file).read_text()
        for placeholder, value in placeholders.items():
            assert placeholder in text, placeholder
            text = text.replace(placeholder, value)
        copy = self.tmp / file
        copy.write_text(text)
        applied = subprocess.run(cli_command("apply", str(copy)), env=self.server.client_env(),
                                 capture_output=True, text=True, timeout=60)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        return file.removesuffix(".yaml")

    def set_trigger_secret(self, canvas: str, node: str, secret: str) -> str:
        hooked = ok(self.api.post(f"/api/v1/canvases/{canvas}/nodes/{node}/hooks/setSecret",
                                  json={"webhookSigningSecret": secret}))
        assert hooked["live"]["operational"] is True
        return str(hooked["live"]["webhookUrl"])

    def subscribe(self, canvas: str, node: str) -> None:
        """An incident.io endpoint for the node, subscribed to every event type: what
        the node does not take must be acknowledged and start nothing."""
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        url = self.set_trigger_secret(canvas, node, secret)
        ok(self.incidentio.post("/_emulator/webhook-endpoints",
                                json={"url": url, "secret": secret}))

    def edit_status(self, incident: dict, status: str) -> None:
        ok(self.incidentio.post(f"/v2/incidents/{incident['id']}/actions/edit", headers=AUTH,
                                json={"incident": {"incident_status_id": STATUS[status]},
                                      "notify_incident_channel": False}))

    def drain(self) -> list[dict]:
        drained = ok(self.incidentio.post("/_emulator/deliveries/drain", params={"timeout": 30}))
        assert drained["settled"] is True
        return list(drained["deliveries"])

    def calls(self, method: str, path_start: str) -> list[dict]:
        return [c for c in ok(self.incidentio.get("/_emulator/requests"))["requests"]
                if c["method"] == method and c["path"].startswith(path_start)]

    def runs(self, canvas: str) -> list[dict]:
        summaries = ok(self.api.get(f"/api/v1/canvases/{canvas}/runs"))["runs"]
        return [ok(self.api.get(f"/api/v1/runs/{s['id']}")) for s in summaries]

    def finished_runs(self, canvas: str, count: int) -> list[dict]:
        def check() -> list[dict] | None:
            runs = self.runs(canvas)
            if len(runs) < count or any(r["state"] in ("running", "pending") for r in runs):
                return None
            return runs
        runs = wait_until(check, 60, what=f"{count} finished runs of {canvas}")
        assert len(runs) == count, [r["root"] for r in runs]
        failed = [(e["node"], e.get("error")) for r in runs if r["state"] != "succeeded"
                  for e in r["executions"]]
        assert not failed, failed
        return runs

    def replay(self, delivery: dict) -> None:
        """incident.io's retry of a delivery: the same webhook-id, again."""
        ok(self.incidentio.post(f"/_emulator/deliveries/{delivery['id']}/replay"))


def steps(run: dict) -> set[str]:
    return {e["node"] for e in run["executions"]}


def moved_to(delivery: dict) -> tuple[str, str] | None:
    """(incident id, new status name) of a status update delivery."""
    event_type = delivery["event_type"]
    if not event_type.endswith("incident_status_updated_v2"):
        return None
    change = json.loads(delivery["payload"])[event_type]
    return change["incident"]["id"], change["new_status"]["name"]


def test_a_critical_incident_pages_and_its_resolution_files_one_post_mortem(
        server: ServerProcess, emulator: str, tmp_path: Path) -> None:
    stage = Stage(server, emulator, tmp_path)
    canvas = stage.apply("page-critical-then-postmortem.yaml",
                         CRITICAL_SEVERITY_ID=CRITICAL, ESCALATION_PATH_ID=ESCALATION_PATH)
    stage.subscribe(canvas, "On critical incident")

    critical = ok(stage.incidentio.post("/_emulator/incidents", json={
        "name": "Payments are failing", "severity_id": CRITICAL}))["incident"]
    major = ok(stage.incidentio.post("/_emulator/incidents", json={
        "name": "Search is slow", "severity_id": MAJOR}))["incident"]
    for status in ("Monitoring", "Documenting", "Closed"):  # live, learning, closed
        stage.edit_status(critical, status)
    stage.edit_status(major, "Documenting")  # resolved, but filtered out by severity
    deliveries = stage.drain()

    # The critical incident's creation and its three status moves: the major one's and
    # every plain "updated" delivery start nothing.
    runs = stage.finished_runs(canvas, 4)
    assert all(r["root"]["data"]["incident"]["id"] == critical["id"] for r in runs)
    by_move = {(r["root"]["data"].get("new_status") or {}).get("name"): r for r in runs}
    assert "Page on-call" in steps(by_move[None]) and "Resolved" not in steps(by_move[None])
    assert "File the post-mortem" in steps(by_move["Documenting"])
    assert "File the post-mortem" not in steps(by_move["Monitoring"]) | steps(by_move["Closed"])

    [page] = stage.calls("POST", "/v2/escalations")
    assert page["body"]["escalation_path_id"] == ESCALATION_PATH
    assert page["body"]["incident_id"] == critical["id"]
    assert page["body"]["title"] == f"{critical['reference']}: Payments are failing"
    assert page["status"] == 201
    [follow_up] = stage.calls("POST", "/v2/follow_ups")
    assert follow_up["body"]["incident_id"] == critical["id"]
    assert follow_up["body"]["title"] == "Write the post-mortem"
    assert "as Documenting" in follow_up["body"]["description"]

    # incident.io retries the resolution's delivery: acknowledged, nothing runs again.
    [resolved] = [d for d in deliveries if moved_to(d) == (critical["id"], "Documenting")]
    stage.replay(resolved)
    stage.drain()
    stage.finished_runs(canvas, 4)
    assert len(stage.calls("POST", "/v2/follow_ups")) == 1
    assert len(stage.calls("POST", "/v2/escalations")) == 1


def alert(fingerprint: str | None, status: str, **more: object) -> dict:
    body: dict = {"status": status, "labels": {"alertname": "HighErrorRate",
                                                "service": "checkout"},
                  "annotations": {"summary": "5xx above 5%"}, **more}
    if fingerprint is not None:
        body["fingerprint"] = fingerprint
    return body


def test_alerts_become_one_incident_io_alert_per_key_resolved_by_the_source(
        server: ServerProcess, emulator: str, sink: Sink, tmp_path: Path) -> None:
    stage = Stage(server, emulator, tmp_path)
    ok(stage.api.put("/api/v1/secrets/ALERT_TOKEN", json={"value": catalog.ALERT_SOURCE_TOKEN}))
    canvas = stage.apply("alerts-to-incident-io.yaml",
                         ALERT_SOURCE_CONFIG_ID=catalog.ALERT_SOURCE_ID)
    bearer = secrets.token_urlsafe(24)
    url = stage.set_trigger_secret(canvas, "Alert received", bearer)
    # Where incident.io would tell us about the alerts it opened and resolved.
    ok(stage.incidentio.post("/_emulator/webhook-endpoints", json={
        "url": sink.url, "secret": "whsec_" + base64.b64encode(b"x" * 24).decode(),
        "event_types": ["public_alert.alert_created_v1", "public_alert.alert_resolved_v1"]}))

    sent = [alert("fp-a", "firing", startsAt="12:00"),
            alert("fp-b", "firing", startsAt="12:01"),
            alert("fp-a", "firing", startsAt="12:00", generatorURL="https://grafana/a"),
            alert("fp-a", "resolved", endsAt="12:05"),
            alert(None, "firing")]  # no fingerprint: skipped by the filter
    for count, body in enumerate(sent, start=1):
        # One at a time: the source's order (firing before resolved) is what it means.
        answer = httpx.post(url, content=json.dumps(body), headers={
            "authorization": f"Bearer {bearer}", "content-type": "application/json"})
        assert answer.json() == {"status": "accepted"}, answer.text
        stage.finished_runs(canvas, count)
    again = httpx.post(url, content=json.dumps(sent[0]), headers={
        "authorization": f"Bearer {bearer}", "content-type": "application/json"})
    assert again.json() == {"status": "duplicate"}  # the source's retry starts nothing

    events = stage.calls("POST", f"/v2/alert_events/http/{catalog.ALERT_SOURCE_ID}")
    assert [(e["body"]["deduplication_key"], e["body"]["status"]) for e in events] == [
        ("fp-a", "firing"), ("fp-b", "firing"), ("fp-a", "firing"), ("fp-a", "resolved")]
    assert all(e["status"] == 202 for e in events)
    assert {e["headers"]["authorization"] for e in events} == {
        f"Bearer {catalog.ALERT_SOURCE_TOKEN}"}  # the source's token, never the API key
    assert events[0]["body"]["title"] == "HighErrorRate: 5xx above 5%"
    assert events[0]["body"]["metadata"] == {"labels": {"alertname": "HighErrorRate",
                                                        "service": "checkout"}}
    assert events[2]["body"]["source_url"] == "https://grafana/a"

    # In incident.io: one alert per key, the resolved one resolved once.
    stage.drain()
    told = Counter((d["event_type"], json.loads(d["payload"])[d["event_type"]][
        "deduplication_key"]) for d in ok(stage.incidentio.get("/_emulator/deliveries"))[
        "deliveries"])
    assert told == Counter({("public_alert.alert_created_v1", "fp-a"): 1,
                            ("public_alert.alert_created_v1", "fp-b"): 1,
                            ("public_alert.alert_resolved_v1", "fp-a"): 1})
    runs = stage.runs(canvas)
    assert catalog.ALERT_SOURCE_TOKEN not in json.dumps(runs)
    assert bearer not in json.dumps(runs)


def test_a_status_change_posts_to_the_chat_with_the_token(
        server: ServerProcess, emulator: str, sink: Sink, tmp_path: Path) -> None:
    stage = Stage(server, emulator, tmp_path)
    token = secrets.token_urlsafe(24)
    ok(stage.api.put("/api/v1/secrets/CHAT_TOKEN", json={"value": token}))
    canvas = stage.apply("status-to-chat.yaml", **{
        "https://chat.example.com/hooks/incidents": f"{sink.url}/hooks/incidents"})
    stage.subscribe(canvas, "On status change")

    incident = ok(stage.incidentio.post("/_emulator/incidents", json={
        "name": "Checkout is down"}))["incident"]
    stage.edit_status(incident, "Monitoring")
    ok(stage.incidentio.post(f"/v2/incidents/{incident['id']}/actions/edit", headers=AUTH,
                             json={"incident": {"name": "Checkout is down (EU)"},
                                   "notify_incident_channel": False}))  # no status move
    stage.edit_status(incident, "Closed")
    deliveries = stage.drain()
    stage.finished_runs(canvas, 2)

    posts = [r for r in sink.requests if r["path"] == "/hooks/incidents"]
    assert len(posts) == 2
    assert {p["method"] for p in posts} == {"POST"}
    assert {p["headers"]["authorization"] for p in posts} == {f"Bearer {token}"}
    texts = sorted(json.loads(p["body"])["text"] for p in posts)
    reference = incident["reference"]
    assert texts == sorted([f"{reference} Checkout is down: Investigating → Monitoring",
                            f"{reference} Checkout is down (EU): Monitoring → Closed"])
    assert {json.loads(p["body"])["link"] for p in posts} == {incident["permalink"]}

    # A retried delivery posts nothing more; the token never shows in a run.
    status_updates = [d for d in deliveries if moved_to(d)]
    assert len(status_updates) == 2
    stage.replay(status_updates[0])
    stage.drain()
    stage.finished_runs(canvas, 2)
    assert len([r for r in sink.requests if r["path"] == "/hooks/incidents"]) == 2
    assert token not in json.dumps(stage.runs(canvas))
