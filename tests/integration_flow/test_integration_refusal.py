"""``AppService.put_integration(refuse_if_not_ready=True)`` (what the UI uses): a key the
service refuses, or cannot check, is not stored; the API's default stores it with its
status. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from flow_support import EMULATOR_KEY, EMULATOR_URL, Flow

from incidentflow.errors import IncidentflowError, NotFound


async def test_a_rejected_key_is_not_stored_when_asked(flow: Flow) -> None:
    with pytest.raises(IncidentflowError) as refused:
        await flow.host.integrations.put_integration(
            "incident", "incident", {"apiKey": "wrong-key", "baseUrl": EMULATOR_URL},
            refuse_if_not_ready=True)
    [problem] = refused.value.problems
    assert problem.field == "apiKey" and problem.message.startswith("not saved: API key")
    with pytest.raises(NotFound):
        flow.host.store.get_integration("incident")


async def test_an_unreachable_service_is_not_stored_when_asked(flow: Flow) -> None:
    flow.network.down = True
    with pytest.raises(IncidentflowError) as refused:
        await flow.host.integrations.put_integration(
            "incident", "incident", {"apiKey": EMULATOR_KEY, "baseUrl": EMULATOR_URL},
            refuse_if_not_ready=True)
    assert "unreachable" in refused.value.problems[0].message
    with pytest.raises(NotFound):
        flow.host.store.get_integration("incident")


async def test_a_rejected_replacement_keeps_the_stored_key(flow: Flow) -> None:
    assert (await flow.connect_integration())["status"] == "ready"
    before = flow.host.store.get_integration("incident").secrets_encrypted
    with pytest.raises(IncidentflowError):
        await flow.host.integrations.put_integration(
            "incident", "incident", {"apiKey": "wrong-key", "baseUrl": EMULATOR_URL},
            refuse_if_not_ready=True)
    after = flow.host.store.get_integration("incident")
    assert after.secrets_encrypted == before and after.status == "ready"


async def test_by_default_the_status_is_stored_either_way(flow: Flow) -> None:
    view = await flow.host.integrations.put_integration(
        "incident", "incident", {"apiKey": "wrong-key", "baseUrl": EMULATOR_URL})
    assert view["status"] == "error"
    assert flow.host.store.get_integration("incident").status == "error"
