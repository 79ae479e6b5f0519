"""incident.io misbehaving: rate limits, lost answers, refusals, outages at save time."""

from __future__ import annotations

import json
from typing import Any

from flow_support import CREATED, MAJOR, Flow, canvas_yaml, new_secret

INCIDENT = {"id": "01FSOURCE", "name": "Checkout is down", "reference": "INC-9",
            "severity": {"id": MAJOR, "name": "Major"}}
BODY = json.dumps({"event_type": CREATED, CREATED: INCIDENT}).encode()


async def delivered(flow: Flow) -> None:
    """Connected, applied, secret set, one major incident delivered and accepted."""
    assert (await flow.connect_integration())["status"] == "ready"
    assert (await flow.apply(canvas_yaml())).status_code == 200
    secret = new_secret()
    await flow.set_secret(secret)
    assert (await flow.deliver(secret, BODY)).json() == {"status": "accepted"}


async def action_of(flow: Flow) -> Any:
    run = await flow.only_run()
    return next(e for e in run.executions if e.node == "Open follow-up")


async def test_a_short_429_is_waited_out_then_succeeds(flow: Flow) -> None:
    await delivered(flow)
    await flow.fault(status=429, retry_after=2)
    await flow.work()
    assert flow.sleeps == [2.0]  # the Retry-After, honoured
    action = await action_of(flow)
    assert action.state == "succeeded"
    calls = await flow.create_calls()
    assert [c["status"] for c in calls] == [429, 200]
    assert len(flow.incidents()) == 1


async def test_a_long_429_goes_back_to_the_engine_until_retry_after(flow: Flow) -> None:
    await delivered(flow)
    await flow.fault(status=429, retry_after=60)
    await flow.work()
    action = await action_of(flow)
    assert action.state != "succeeded" and "429" in (action.error or "")
    assert (action.next_attempt_at - flow.clock.now).total_seconds() == 60
    flow.clock.advance(seconds=59)
    assert await flow.work() == 0  # not due yet
    flow.clock.advance(seconds=1)
    assert await flow.work() == 1
    action = await action_of(flow)
    assert action.state == "succeeded" and action.attempts == 2
    assert len(flow.incidents()) == 1


async def test_a_lost_5xx_answer_is_retried_with_the_same_key_and_one_incident(
    flow: Flow,
) -> None:
    await delivered(flow)
    # "after": incident.io opens the incident, then the answer is lost (500) three times,
    # so the client gives up and the engine retries the execution later.
    await flow.fault(status=500, count=3, when="after")
    await flow.work()
    action = await action_of(flow)
    assert action.state != "succeeded" and action.next_attempt_at is not None
    flow.clock.advance(seconds=600)
    await flow.work()
    action = await action_of(flow)
    assert action.state == "succeeded" and action.attempts == 2

    calls = await flow.create_calls()
    assert [c["status"] for c in calls] == [500, 500, 500, 200]
    assert {c["body"]["idempotency_key"] for c in calls} == {action.idempotency_key}
    [incident] = flow.incidents()
    assert action.emitted[0]["event"]["data"] == incident


async def test_a_422_is_shown_with_its_message_and_request_id(flow: Flow) -> None:
    await delivered(flow)
    # Someone deletes the severity in incident.io after the canvas was saved.
    flow.emulator_state.severities[:] = [
        s for s in flow.emulator_state.severities if s["id"] != MAJOR]
    await flow.work()
    action = await action_of(flow)
    assert action.state == "failed" and action.attempts == 1
    [call] = await flow.create_calls()
    request_id = action.error_details["request_id"]
    assert request_id and action.error_details["status"] == 422
    assert "422" in action.error and f"request_id {request_id}" in action.error
    assert f"No severity exists with id '{MAJOR}'" in action.error
    assert flow.incidents() == []
    assert (await flow.only_run()).state == "failed"


async def test_an_unknown_severity_is_refused_at_save(flow: Flow) -> None:
    await flow.connect_integration()
    response = await flow.apply(canvas_yaml(severity="01NOSUCHSEVERITY"))
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["node"] == "Open follow-up" and problem["field"] == "configuration.severityId"
    assert "01NOSUCHSEVERITY" in problem["message"] and "Major" in problem["message"]
    assert (await flow.web.get("/api/v1/canvases/mirror")).status_code == 404


async def test_an_outage_at_save_warns_and_later_deliveries_still_run(flow: Flow) -> None:
    await flow.connect_integration()
    flow.network.down = True
    response = await flow.apply(canvas_yaml())
    assert response.status_code == 200
    # The severity could not be checked; and the canvas can feed itself (docs/rate-limits.md).
    warnings = {(w["node"], w["field"]) for w in response.json()["warnings"]}
    assert warnings == {("Open follow-up", "configuration.severityId"), ("Open follow-up", None)}

    secret = new_secret()
    await flow.set_secret(secret)
    assert (await flow.deliver(secret, BODY)).json() == {"status": "accepted"}
    await flow.work()
    action = await action_of(flow)
    assert action.state != "failed" and "unreachable" in (action.error or "")
    assert action.next_attempt_at is not None

    flow.network.down = False
    flow.clock.advance(seconds=600)
    await flow.work()
    action = await action_of(flow)
    assert action.state == "succeeded" and action.attempts == 2
    assert len(flow.incidents()) == 1
