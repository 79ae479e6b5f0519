"""store.json_codec: stored JSON is written by orjson, yet every value the standard
library could store before is stored and read back the same, on SQLite and PostgreSQL
(integers beyond 64 bits, NaN and infinities, keys that are not strings), and text
the standard library wrote earlier is still read."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from incidentflow.store import json_codec
from incidentflow.store.schema import canvases, events, runs

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


@pytest.fixture
def store(sql_store):
    return sql_store


def test_compact_text_that_the_standard_library_reads_alike():
    value = {"a": [1, 2.5, "ü", None, True], "b": {"c": {}}}
    text = json_codec.dumps(value)
    assert text == '{"a":[1,2.5,"ü",null,true],"b":{"c":{}}}'
    assert json.loads(text) == value == json_codec.loads(text)


@pytest.mark.parametrize("value", [
    {"big": 2**70},                        # orjson refuses integers beyond 64 bits
    {"nan": math.inf, "list": [1.0, -math.inf]},  # orjson would write null
    {1: "one"},                           # orjson refuses keys that are not strings
])
def test_what_orjson_refuses_or_changes_is_encoded_as_before(value):
    assert json_codec.dumps(value) == json.dumps(value)


def test_a_null_that_is_really_null_stays_compact():
    assert json_codec.dumps({"x": None, "y": 1.5}) == '{"x":null,"y":1.5}'


def test_text_written_by_the_standard_library_is_read():
    assert json_codec.loads(json.dumps({"a": 1, "b": [2]})) == {"a": 1, "b": [2]}
    assert math.isnan(json_codec.loads('{"x": NaN}')["x"])
    assert json_codec.loads('{"n": 123456789012345678901234567890}') == {
        "n": 123456789012345678901234567890}


@pytest.mark.parametrize("data", [
    {"incident": {"id": "01H", "name": "db is sad", "tags": ["ü", None]}},
    {"big": 2**70, "list": [1, 2]},
    [1, "two", {"three": 3.0}],
])
def test_stored_and_read_back_through_the_engine(store, data):
    with store._db.engine.begin() as conn:
        conn.execute(canvases.insert().values(name="c", current_version=1, created_at=NOW,
                                              updated_at=NOW))
        conn.execute(runs.insert().values(id="r", canvas="c", canvas_version=1,
                                          trigger_node="T", root_event_id="e", state="running",
                                          pending=0, created_at=NOW))
        conn.execute(events.insert().values(id="e", run_id="r", node="T", channel="default",
                                            type="t", timestamp="2026-12-03T18:00:00Z",
                                            data=data, created_at=NOW))
    with store._db.engine.connect() as conn:
        assert conn.scalar(sa.select(events.c.data).where(events.c.id == "e")) == data


@pytest.mark.parametrize("number", [2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30])
def test_integers_read_back_exactly_whatever_their_size(number):
    assert json_codec.loads(json_codec.dumps({"n": number})) == {"n": number}
    assert type(json_codec.loads(json_codec.dumps(number))) is int


def test_bytes_are_read_like_text():
    assert json_codec.loads(b'{"n": 123456789012345678901234567890, "a": [1]}') == {
        "n": 123456789012345678901234567890, "a": [1]}
    assert json_codec.loads(b'{"a": "\xc3\xbc"}') == {"a": "ü"}
