"""The public webhook receiver: limits, rejections (fail closed), dedupe, no leaks."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from incidentflow.web.webhooks import MAX_BODY_BYTES

from .conftest import WEBHOOK_CANVAS, put_yaml, signed_headers

EXAMPLES = Path(__file__).parents[1] / "data" / "incidentio-webhook-examples"
CREATED = (EXAMPLES / "public_incident.incident_created_v2.json").read_bytes()
STATUS_UPDATED = (EXAMPLES / "public_incident.incident_status_updated_v2.json").read_bytes()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: dedupe on PostgreSQL is covered by the store's tests."""
    return f"sqlite:///{tmp_path / 'test.db'}"


def runs_of(api: TestClient, canvas: str = "hooks") -> list[dict]:
    return api.get(f"/api/v1/canvases/{canvas}/runs").json()["runs"]


def live(api: TestClient) -> dict:
    return api.get("/api/v1/canvases/hooks").json()["nodes"][0]["live"]


def test_a_signed_delivery_starts_one_run(api: TestClient, webhook: dict) -> None:
    response = api.post(webhook["path"], content=CREATED,
                        headers=signed_headers(webhook["secret"], CREATED))
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    runs = runs_of(api)
    assert len(runs) == 1 and runs[0]["eventType"] == "incident.incident.created"
    run = api.get(f"/api/v1/runs/{runs[0]['id']}").json()
    assert run["root"]["data"]["incident"]["name"]
    assert [e["node"] for e in run["executions"]] == ["Done"]
    assert live(api)["deliveries"]["accepted"] == 1
    assert live(api)["lastDeliveryAt"] is not None


def test_a_replayed_webhook_id_is_200_and_no_second_run(api: TestClient, webhook: dict) -> None:
    headers = signed_headers(webhook["secret"], CREATED, msg_id="msg_replayed")
    assert api.post(webhook["path"], content=CREATED, headers=headers).status_code == 200
    again = api.post(webhook["path"], content=CREATED, headers=headers)
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert len(runs_of(api)) == 1


def test_an_event_type_not_selected_is_acknowledged_without_a_run(api: TestClient,
                                                                  webhook: dict) -> None:
    response = api.post(webhook["path"], content=STATUS_UPDATED,
                        headers=signed_headers(webhook["secret"], STATUS_UPDATED))
    assert response.status_code == 200
    assert runs_of(api) == []


def test_no_secret_set_means_403_signing_secret_not_set(api: TestClient) -> None:
    put_yaml(api, "hooks", WEBHOOK_CANVAS)
    path = live(api)["webhookUrl"].split("example.com", 1)[1]
    from .conftest import new_signing_secret

    response = api.post(path, content=CREATED,
                        headers=signed_headers(new_signing_secret(), CREATED))
    assert response.status_code == 403
    assert response.json() == {"error": "signing secret not set"}
    assert live(api)["deliveries"]["rejected"] == 1
    assert runs_of(api) == []


def test_a_bad_signature_is_403_with_a_generic_answer(api: TestClient, webhook: dict) -> None:
    from .conftest import new_signing_secret

    response = api.post(webhook["path"], content=CREATED,
                        headers=signed_headers(new_signing_secret(), CREATED))
    assert response.status_code == 403
    assert response.json() == {"error": "forbidden"}
    unsigned = api.post(webhook["path"], content=CREATED,
                        headers={"content-type": "application/json"})
    assert unsigned.status_code == 403
    assert runs_of(api) == []


def test_a_rejection_is_logged_with_fields_for_json_logs(
    api: TestClient, webhook: dict, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="incidentflow.app_service")
    api.post(webhook["path"], content=CREATED, headers={"content-type": "application/json"})
    [entry] = [r for r in caplog.records if r.getMessage().startswith("webhook rejected")]
    endpoint_id = webhook["path"].rsplit("/", 1)[1]
    assert (entry.canvas, entry.node, entry.endpoint_id, entry.outcome) == (  # type: ignore[attr-defined]
        "hooks", "On Incident", endpoint_id, "rejected")


def test_a_stale_timestamp_is_403(api: TestClient, webhook: dict) -> None:
    stale = signed_headers(webhook["secret"], CREATED, timestamp=int(time.time()) - 3600)
    assert api.post(webhook["path"], content=CREATED, headers=stale).status_code == 403


def test_a_signed_but_malformed_body_is_400(api: TestClient, webhook: dict) -> None:
    body = b'{"event_type": '
    response = api.post(webhook["path"], content=body,
                        headers=signed_headers(webhook["secret"], body))
    assert response.status_code == 400
    assert response.json() == {"error": "bad request"}


def test_unknown_endpoints_are_404(api: TestClient) -> None:
    assert api.post("/webhooks/doesNotExist123", content=b"{}").status_code == 404
    assert api.post("/webhooks/not a valid id!", content=b"{}").status_code == 404


def test_a_body_over_512_kib_is_413(api: TestClient, webhook: dict) -> None:
    big = b"x" * (MAX_BODY_BYTES + 1)
    response = api.post(webhook["path"], content=big,
                        headers=signed_headers(webhook["secret"], big))
    assert response.status_code == 413
    assert runs_of(api) == []


def test_a_streamed_body_over_the_limit_is_413(api: TestClient, webhook: dict) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is enforced while reading
        for _ in range(9):
            yield b"y" * (64 * 1024)

    response = api.post(webhook["path"], content=chunks())
    assert response.status_code == 413


def test_exactly_the_limit_is_read(api: TestClient, webhook: dict) -> None:
    padded = json.loads(CREATED)
    padded["padding"] = ""
    raw = json.dumps(padded).encode()
    padded["padding"] = "p" * (MAX_BODY_BYTES - len(raw))
    body = json.dumps(padded).encode()
    assert len(body) == MAX_BODY_BYTES
    response = api.post(webhook["path"], content=body,
                        headers=signed_headers(webhook["secret"], body))
    assert response.status_code == 200


def test_secrets_and_signatures_never_reach_logs_or_answers(
    api: TestClient, webhook: dict, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = signed_headers(webhook["secret"], CREATED)
    forged = signed_headers(webhook["secret"], b"other body")
    answers = [
        api.post(webhook["path"], content=CREATED, headers=good),
        api.post(webhook["path"], content=CREATED, headers=forged),
        api.get("/api/v1/canvases/hooks"),
        api.get(f"/api/v1/runs/{runs_of(api)[0]['id']}"),
    ]
    key = webhook["secret"].removeprefix("whsec_")
    for text in [caplog.text, *(a.text for a in answers)]:
        assert key not in text
        for signature in (good["webhook-signature"], forged["webhook-signature"]):
            assert signature.removeprefix("v1,") not in text
    assert "webhook rejected" in caplog.text  # the reason is logged, only without secrets


def test_a_rotated_secret_works_at_once_and_the_old_one_for_a_while(api: TestClient,
                                                                    webhook: dict) -> None:
    from .conftest import new_signing_secret

    old = webhook["secret"]
    assert api.post(webhook["path"], content=CREATED,
                    headers=signed_headers(old, CREATED)).status_code == 200  # now cached
    new = new_signing_secret()
    api.post("/api/v1/canvases/hooks/nodes/On Incident/hooks/setSecret",
             json={"webhookSigningSecret": new})
    assert api.post(webhook["path"], content=CREATED,
                    headers=signed_headers(new, CREATED)).status_code == 200
    assert api.post(webhook["path"], content=CREATED,
                    headers=signed_headers(old, CREATED)).status_code == 200  # grace period
    api.post("/api/v1/canvases/hooks/nodes/On Incident/hooks/setSecret",
             json={"webhookSigningSecret": ""})
    cleared = api.post(webhook["path"], content=CREATED, headers=signed_headers(new, CREATED))
    assert cleared.status_code == 403
    assert len(runs_of(api)) == 3
