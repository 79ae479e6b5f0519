"""The rules and the masking of secrets for canvases (pure functions, no store)."""

from __future__ import annotations

import pytest

from incidentflow.canvas import parse_canvas
from incidentflow.components.base import Emission
from incidentflow.crypto import MASK, SecretBox
from incidentflow.errors import InvalidInput
from incidentflow.events import Event
from incidentflow.log_setup import mask_secrets
from incidentflow.registry import default_registry
from incidentflow.secrets_service import (
    SecretValues,
    check_name,
    check_value,
    masked_emissions,
    missing_secret_warnings,
    reads_secrets,
    referenced_secrets,
    register_values,
    value_in,
)

REGISTRY = default_registry()
BOX = SecretBox("service-test-key")

CANVAS = """
name: paging
nodes:
  - {name: Start, type: start}
  - name: Page
    type: http
    configuration:
      url: "https://pager.example/v1?token={{ secrets.PAGER_TOKEN }}"
      headers: {Authorization: "Bearer {{ secrets['PAGER_TOKEN'] }}", X-Team: "{{ secrets.TEAM }}"}
  - name: Only majors
    type: filter
    configuration: {expression: "root.data.key == secrets.GATE"}
  - name: Plain
    type: http
    configuration: {url: "https://example.com/{{ root.data.id }}"}
edges:
  - {from: Start, to: Page}
  - {from: Start, to: Only majors}
  - {from: Start, to: Plain}
"""


@pytest.mark.parametrize("name", ["PAGER_TOKEN", "_x", "a", "A" * 100, "token2"])
def test_valid_names(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "2FA", "with-dash", "dot.ted", "A" * 101, "sp ace",
                                  "ü", None, 7])
def test_invalid_names_are_refused_naming_the_field(name: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_name(name)
    assert caught.value.problems[0].field == "name"
    assert "letter or _" in caught.value.problems[0].message


@pytest.mark.parametrize(("value", "message"), [
    (None, "must be a string"), (12, "must be a string"), ("", "must not be empty"),
    ("abc12", "at least 6 characters"), ("x" * 70_000, "longer than"),
])
def test_invalid_values_are_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_value(value)
    assert caught.value.problems[0].field == "value"
    assert message in caught.value.problems[0].message


def test_a_request_body_with_other_keys_is_refused_naming_them() -> None:
    assert value_in({"value": "v" * 6}) == "v" * 6
    with pytest.raises(InvalidInput) as caught:
        value_in({"value": "v" * 6, "valeu": "w"})
    assert [p.field for p in caught.value.problems] == ["valeu"]


def test_masking_covers_strings_inside_dicts_lists_and_url_encodings() -> None:
    values = SecretValues.of({"T": "tok en/+=&1", "SHORT": "ab"})
    masked = values.mask({
        "url": "https://x/?token=tok%20en%2F%2B%3D%261&plus=tok+en%2F%2B%3D%261",
        "headers": {"Authorization": "Bearer tok en/+=&1"},
        "list": ["tok en/+=&1", 3, None],
        "tok en/+=&1": "key too",
    })
    assert masked == {
        "url": f"https://x/?token={MASK}&plus={MASK}",
        "headers": {"Authorization": f"Bearer {MASK}"},
        "list": [MASK, 3, None],
        MASK: "key too",
    }
    assert "ab" not in values.mask("ab-cd").replace(MASK, "")
    assert "tok" not in repr(values)


def test_a_value_that_contains_another_is_masked_whole() -> None:
    values = SecretValues.of({"A": "abcdef", "B": "abcdef-longer"})
    assert values.mask("x abcdef-longer y") == f"x {MASK} y"


def test_emitted_events_are_masked() -> None:
    values = SecretValues.of({"T": "echoed-secret-1"})
    emitted = [Emission(Event("http.response", {"body": {"got": "Bearer echoed-secret-1"}},
                              "2026-01-01T00:00:00Z"), "success")]
    (only,) = masked_emissions(emitted, values)
    assert only.channel == "success" and only.event.timestamp == "2026-01-01T00:00:00Z"
    assert only.event.data == {"body": {"got": f"Bearer {MASK}"}}


def test_registered_values_are_masked_in_logs_in_their_url_forms_too() -> None:
    register_values("log value/with space")
    line = mask_secrets("GET https://x/?t=log%20value%2Fwith%20space and log value/with space")
    assert "log" not in line.replace("GET https://x/?t=", "")


def test_references_name_node_field_and_secret() -> None:
    canvas = parse_canvas(CANVAS, REGISTRY)
    assert referenced_secrets(canvas, REGISTRY) == [
        ("Page", "url", "PAGER_TOKEN"),
        ("Page", "headers.Authorization", "PAGER_TOKEN"),
        ("Page", "headers.X-Team", "TEAM"),
        ("Only majors", "expression", "GATE"),
    ]


def test_missing_secrets_are_warnings_naming_node_and_field() -> None:
    canvas = parse_canvas(CANVAS, REGISTRY)
    warnings = missing_secret_warnings(canvas, REGISTRY, {"PAGER_TOKEN"})
    assert [(w.node, w.field) for w in warnings] == [
        ("Page", "headers.X-Team"), ("Only majors", "expression")]
    assert "'TEAM'" in warnings[0].message and "not set" in warnings[0].message
    assert missing_secret_warnings(canvas, REGISTRY, {"PAGER_TOKEN", "TEAM", "GATE"}) == []


def test_only_nodes_whose_expressions_read_secrets_need_them() -> None:
    canvas = parse_canvas(CANVAS, REGISTRY)
    reads = {n.name: reads_secrets(n, REGISTRY.component(n.type)) for n in canvas.nodes}
    assert reads == {"Start": False, "Page": True, "Only majors": True, "Plain": False}


async def test_the_cache_reads_once_for_concurrent_executions_then_again_when_stale() -> None:
    import asyncio

    from incidentflow.secrets_service import SecretCache

    loads = []

    class Store:
        def secrets_encrypted(self) -> dict[str, str]:
            loads.append(1)
            return {"T": BOX.encrypt("cached-value-1")}

    cache = SecretCache(seconds=60)

    async def load() -> SecretValues:
        await asyncio.sleep(0.01)  # a read in a thread takes a while
        return cache.load(Store().secrets_encrypted(), BOX)

    got = await asyncio.gather(*(cache.get(load) for _ in range(8)))
    assert loads == [1] and {g.by_name["T"] for g in got} == {"cached-value-1"}
    assert (await cache.get(load)).by_name == {"T": "cached-value-1"} and loads == [1]
    cache.seconds, cache._expires = 0.0, 0.0  # stale
    await cache.get(load)
    assert loads == [1, 1]


async def test_a_secret_the_cached_copy_lacks_is_read_again_at_once() -> None:
    """Set a moment after the cache was filled, it must not fail a run as 'not set'."""
    from incidentflow.secrets_service import SecretCache

    stored = {"OLD": BOX.encrypt("old-value-1")}
    loads = []

    class Store:
        def secrets_encrypted(self) -> dict[str, str]:
            loads.append(1)
            return dict(stored)

    cache = SecretCache(seconds=60)

    async def load() -> SecretValues:
        return cache.load(Store().secrets_encrypted(), BOX)

    await cache.get(load, frozenset({"OLD"}))
    stored["NEW"] = BOX.encrypt("new-value-1")
    assert (await cache.get(load, frozenset({"OLD"}))).by_name.keys() == {"OLD"}
    assert loads == [1]  # still fresh, and it has what is wanted
    got = await cache.get(load, frozenset({"NEW"}))
    assert got.by_name["NEW"] == "new-value-1" and loads == [1, 1]


def test_named_secrets_lists_the_names_a_node_spells_out() -> None:
    from incidentflow.secrets_service import named_secrets

    registry = default_registry()
    canvas = parse_canvas({"name": "c", "nodes": [{"name": "Post", "type": "http",
        "configuration": {"url": "https://x.test/{{ secrets.A }}",
                          "headers": {"Authorization": "Bearer {{ secrets['B'] }}"}}}],
        "edges": []}, registry)
    node = canvas.node("Post")
    assert named_secrets(node, registry.component("http")) == {"A", "B"}
