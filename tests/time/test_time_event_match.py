"""The index rule of waitForEvent's match (pure), and that an arriving event is offered
only to the waits its key finds (real store, SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from test_time_wait_for_event import save, send, waiting, waiting_canvas
from time_fixtures import make_worker, running, until

from incidentflow.engine.wakeup import Wakeup
from incidentflow.event_match import KEYLESS, event_key, key_of, rule_of


@pytest.mark.parametrize(("match", "path", "other"), [
    ("event.data.incident.id == root.data.incident.id and event.data.x == 'y'",
     ("data", "incident", "id"), "root.data.incident.id"),
    ('root.data["incident"].id == event.data["incident"]["id"]',
     ("data", "incident", "id"), 'root.data["incident"].id'),
    ("event.data.a != root.data.a and event.data.items.0 == previous.data.k | lower",
     ("data", "items", 0), "previous.data.k | lower"),
    ("event.data.tags == [root.data.tag, 'x'] and event.type == 'a'",
     ("data", "tags"), "[root.data.tag, 'x']"),
    ("(event.data.a == root.data.a) and event.data.b", ("data", "a"), "root.data.a"),
    ("event.data.b and ((event.data.a == root.data.a))", ("data", "a"), "root.data.a"),
])
def test_the_first_equality_between_an_event_path_and_the_run_is_the_index(match, path, other):
    rule = rule_of(match)
    assert (rule.path, rule.other_side) == (path, other)


@pytest.mark.parametrize("match", [
    "event.data.x == root.data.x or event.data.y == 1",  # an or at the top
    "not event.data.x == root.data.x",  # negated
    "event.data.x == root.data.x if root.data.k else false",  # a conditional
    "event.data.a == event.data.b",  # both sides read the event
    "event.data[root.data.field] == 1",  # not a constant path
    "event.data.x in [root.data.x]",  # no equality
    "event.data.x == root.data.x == 1",  # a chain
    "(event.data.x == root.data.x or event.data.y) and event.data.z",  # an or inside
])
def test_a_match_without_a_usable_equality_is_keyless(match):
    rule = rule_of(match)
    assert rule.path is None and rule.stored_path == KEYLESS


def test_keys_compare_as_the_values_do():
    assert key_of(3.0) == key_of(3) != key_of("3")
    assert key_of({"b": 1, "a": 2}) == key_of({"a": 2, "b": 1})
    assert key_of("x" * 1000).startswith("sha256:")
    assert key_of(float("nan")) is None
    path = rule_of("event.data.incident.id == root.data.id").stored_path
    assert event_key({"data": {"incident": {"id": "INC-1"}}}, path) == key_of("INC-1")
    assert event_key({"data": {"incident": None}}, path) is None
    assert event_key({"data": {}}, path) is None


async def test_an_event_is_offered_only_to_the_waits_its_key_finds(store, tmp_path):
    save(store, waiting_canvas())
    wakeup = Wakeup()
    async with running(make_worker(store, tmp_path, wakeup=wakeup)):
        runs = {incident: send(store, incident, "open", wakeup)
                for incident in ("INC-1", "INC-2", "INC-3")}
        waits = {incident: (await until(lambda r=run_id: waiting(store, r)))[0]
                 for incident, run_id in runs.items()}
    send(store, "INC-2", "closed")  # no worker runs: the offers stay to be read
    send(store, "INC-2", "updated")
    offered = {incident: store.event_offers(wait.execution_id, 10)
               for incident, wait in waits.items()}
    assert offered["INC-1"] == [] and offered["INC-3"] == []
    assert [o.event.data["status"] for o in offered["INC-2"]] == ["closed", "updated"]
