"""The one JSON decoder of every ingress (``incidentflow.jsontext``), on its own."""

from __future__ import annotations

import json
import math

import pytest

from incidentflow.jsontext import MAX_DEPTH, JsonRejected, NotJson, decode, displayable


@pytest.mark.parametrize("text", [
    '{"a": [1, -2.5, 1e300, true, null, "x"], "b": {"c": "\\u00e9\\ud83d\\ude00"}}',
    "[]", '"text"', "0", '{"deep": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}",
    '{"n": ' + "9" * 100 + "}",
])
def test_valid_json_decodes_as_json_loads_does(text: str) -> None:
    assert decode(text) == json.loads(text)
    assert decode(text.encode()) == json.loads(text)


@pytest.mark.parametrize("text", ["{", "", "{'a': 1}", "[1,]", '{"a": 1} x'])
def test_syntax_errors_are_not_json(text: str) -> None:
    with pytest.raises(NotJson, match="line 1"):
        decode(text)


def test_a_lone_surrogate_handed_over_as_str_is_refused_too() -> None:
    with pytest.raises(JsonRejected, match="lone surrogate"):
        decode('{"a": "x\ud800"}')
    with pytest.raises(JsonRejected, match="not UTF-8"):
        decode(b'{"a": "\xed\xa0\x80"}')  # a surrogate encoded as UTF-8 bytes


def test_duplicate_keys_can_be_let_through_where_asked() -> None:
    with pytest.raises(JsonRejected, match="key 'a' appears twice"):
        decode('{"a": 1, "a": 2}')
    assert decode('{"a": 1, "a": 2}', unique_keys=False) == {"a": 2}
    with pytest.raises(JsonRejected, match="NaN"):  # the other rules still hold
        decode('{"a": NaN}', unique_keys=False)


def test_errors_are_value_errors_with_short_messages() -> None:
    with pytest.raises(ValueError) as caught:
        decode('{"' + "k" * 10_000 + '": 1, "' + "k" * 10_000 + '": 2}')
    assert len(str(caught.value)) < 200


def test_displayable_makes_stored_values_showable() -> None:
    stored = {"n": math.nan, "i": [math.inf, -math.inf], "s": "a\udfffb", "ok": 1.5}
    shown = displayable(stored)
    assert shown == {"n": "NaN", "i": ["Infinity", "-Infinity"], "s": "a\ufffdb", "ok": 1.5}
    json.dumps(shown, allow_nan=False).encode("utf-8")  # what JSONResponse does
