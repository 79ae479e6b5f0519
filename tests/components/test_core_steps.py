"""start, noop, filter, if: declarations and routing."""

from __future__ import annotations

import pytest

from incidentflow.components.core import all_components
from incidentflow.errors import PermanentError


def by_type(type_: str):
    return next(c for c in all_components() if c.type == type_)


def test_catalogue_has_every_core_step_once():
    types = [c.type for c in all_components()]
    assert sorted(types) == ["approval", "filter", "http", "if", "noop", "schedule", "start",
                             "wait", "waitForEvent", "webhook"]


def test_start_is_a_manual_trigger_with_optional_example():
    start = by_type("start")
    assert start.role == "trigger"
    assert start.label == "Start"
    example = start.field("example")
    assert example.kind == "object" and not example.required
    assert start.example_output["type"] == "start.manual"


async def test_noop_passes_the_input_through_on_default(context_factory):
    ctx = context_factory({})
    [emission] = await by_type("noop").execute(ctx)
    assert emission.event is ctx.input
    assert emission.channel == "default"


@pytest.mark.parametrize("type_", ["filter", "if"])
def test_condition_field_is_required_condition(type_):
    field = by_type(type_).field("expression")
    assert field.kind == "condition" and field.required


async def test_filter_passes_when_true(context_factory):
    ctx = context_factory({"expression": True})
    emissions = await by_type("filter").execute(ctx)
    assert [(e.event, e.channel) for e in emissions] == [(ctx.input, "default")]


async def test_filter_drops_when_false(context_factory):
    assert await by_type("filter").execute(context_factory({"expression": False})) == []


@pytest.mark.parametrize("value, channel", [(True, "true"), (False, "false")])
async def test_if_routes_to_the_matching_branch(context_factory, value, channel):
    ctx = context_factory({"expression": value})
    [emission] = await by_type("if").execute(ctx)
    assert emission.channel == channel
    assert emission.event is ctx.input


def test_if_declares_true_and_false_channels():
    assert by_type("if").channels == ("true", "false")


@pytest.mark.parametrize("type_", ["filter", "if"])
@pytest.mark.parametrize("value", ["true", 1, None])
async def test_unevaluated_condition_is_an_error_not_a_guess(context_factory, type_, value):
    with pytest.raises(PermanentError, match="true/false"):
        await by_type(type_).execute(context_factory({"expression": value}))
