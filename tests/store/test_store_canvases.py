"""Canvas versions, endpoints kept across edits, secret rotation, integrations."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from store_fixtures import NOW, make_canvas

from incidentflow.canvas import Node
from incidentflow.errors import NotFound


def test_save_creates_versions_and_unchanged_content_makes_none(store):
    first = store.save_canvas(make_canvas(), "v1 text", [], NOW)
    again = store.save_canvas(make_canvas(), "v1 text, new comment", [], NOW)
    changed = store.save_canvas(make_canvas(extra=1), "v2 text", [{"message": "w"}], NOW)
    assert (first.version, first.created) == (1, True)
    assert (again.version, again.created) == (1, False)
    assert (changed.version, changed.created) == (2, True)
    record = store.get_canvas("demo")
    assert record.version == 2 and record.source == "v2 text"
    assert record.warnings == [{"message": "w"}]
    assert record.canvas == make_canvas(extra=1)
    assert store.get_canvas("demo", 1).canvas == make_canvas()


def test_missing_canvas_and_version_are_not_found(store):
    with pytest.raises(NotFound, match="nope"):
        store.get_canvas("nope")
    store.save_canvas(make_canvas(), "", [], NOW)
    with pytest.raises(NotFound, match="version 7"):
        store.get_canvas("demo", 7)


def test_list_canvases_names_triggers(store):
    store.save_canvas(make_canvas("b"), "", [], NOW)
    store.save_canvas(make_canvas("a"), "", [], NOW)
    summaries = store.list_canvases()
    assert [s.name for s in summaries] == ["a", "b"]
    assert summaries[0].triggers == ["Hook"] and summaries[0].last_run_id is None


def test_endpoint_survives_configuration_change(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    before = store.endpoint_for_node("demo", "Hook", NOW)
    store.set_endpoint_secret("demo", "Hook", "enc-1", NOW)
    store.save_canvas(make_canvas(hook_config={"events": ["updated"]}), "", [], NOW)
    after = store.endpoint_for_node("demo", "Hook", NOW)
    assert after.id == before.id and len(after.id) >= 24
    assert after.secrets_encrypted == ("enc-1",)


def test_endpoint_removed_with_its_node_and_created_for_new_ones(store):
    canvas = make_canvas()
    store.save_canvas(canvas, "", [], NOW)
    old = store.endpoint_for_node("demo", "Hook", NOW)
    renamed = replace(canvas, nodes=(Node("Hook 2", "test.hook"),) + canvas.nodes[1:], edges=())
    store.save_canvas(renamed, "", [], NOW)
    with pytest.raises(NotFound):
        store.get_endpoint(old.id, NOW)
    new = store.endpoint_for_node("demo", "Hook 2", NOW)
    assert new.id != old.id and not new.secret_configured


def test_secret_rotation_keeps_previous_for_a_day(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    store.set_endpoint_secret("demo", "Hook", "old", NOW)
    rotated = store.set_endpoint_secret("demo", "Hook", "new", NOW)
    assert rotated.secrets_encrypted == ("new", "old")
    later = store.get_endpoint(rotated.id, NOW + timedelta(hours=23))
    assert later.secrets_encrypted == ("new", "old")
    expired = store.get_endpoint(rotated.id, NOW + timedelta(hours=24, seconds=1))
    assert expired.secrets_encrypted == ("new",)


def test_clearing_the_secret_drops_both(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    store.set_endpoint_secret("demo", "Hook", "old", NOW)
    store.set_endpoint_secret("demo", "Hook", "new", NOW)
    cleared = store.set_endpoint_secret("demo", "Hook", None, NOW)
    assert cleared.secrets_encrypted == () and not cleared.secret_configured


def test_delete_canvas_removes_everything(store):
    store.save_canvas(make_canvas(), "", [], NOW)
    endpoint = store.endpoint_for_node("demo", "Hook", NOW)
    store.delete_canvas("demo")
    with pytest.raises(NotFound):
        store.get_endpoint(endpoint.id, NOW)
    with pytest.raises(NotFound):
        store.delete_canvas("demo")


def test_integrations_round_trip(store):
    store.put_integration("inc", "incident", {"baseUrl": "x"}, {"apiKey": "e"}, "unknown", "", NOW)
    later = NOW + timedelta(minutes=1)
    updated = store.put_integration("inc", "incident", {}, {"apiKey": "enc2"}, "ready", "", later)
    assert updated.created_at == NOW and updated.updated_at == later
    assert updated.secrets_encrypted == {"apiKey": "enc2"} and updated.status == "ready"
    assert [i.name for i in store.list_integrations()] == ["inc"]
    store.delete_integration("inc")
    with pytest.raises(NotFound):
        store.get_integration("inc")
