"""Saving a canvas checks the wait step's and the schedule trigger's fields, naming node
and field."""

from __future__ import annotations

import pytest

from incidentflow.canvas import parse_canvas
from incidentflow.errors import CanvasError, Problem
from incidentflow.registry import default_registry


def wait_canvas(configuration: dict) -> dict:
    return {
        "name": "c",
        "nodes": [
            {"name": "Start", "type": "start"},
            {"name": "Pause", "type": "wait", "configuration": configuration},
            {"name": "Then", "type": "noop"},
        ],
        "edges": [{"from": "Start", "to": "Pause"}, {"from": "Pause", "to": "Then"}],
    }


def only_problem(source: dict) -> Problem:
    with pytest.raises(CanvasError) as caught:
        parse_canvas(source, default_registry())
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


@pytest.mark.parametrize("configuration", [
    {"seconds": 2}, {"seconds": "2.5"}, {"seconds": "{{ previous.data.delay }}"},
    {"until": "2026-01-19T12:00:00Z"}, {"until": "2026-01-19T12:00:00+02:00"},
    {"until": "{{ previous.data.at }}"},
])
def test_a_wait_with_one_good_field_is_accepted(configuration):
    canvas = parse_canvas(wait_canvas(configuration), default_registry())
    assert canvas.node("Pause").configuration == configuration


def test_a_wait_with_neither_field_names_the_node():
    problem = only_problem(wait_canvas({}))
    assert (problem.node, problem.field) == ("Pause", "configuration.seconds")
    assert "seconds or until" in problem.message


def test_a_wait_with_both_fields_names_the_node():
    problem = only_problem(wait_canvas({"seconds": 2, "until": "2026-01-19T12:00:00Z"}))
    assert (problem.node, problem.field) == ("Pause", "configuration.until")
    assert "not both" in problem.message


@pytest.mark.parametrize(("configuration", "field", "words"), [
    ({"seconds": "soon"}, "seconds", "must be a number"),
    ({"seconds": -1}, "seconds", "between 0 and"),
    ({"seconds": {"a": 1}}, "seconds", "must be a number"),
    ({"until": "tomorrow at noon"}, "until", "ISO 8601"),
])
def test_a_bad_wait_value_names_node_and_field(configuration, field, words):
    problem = only_problem(wait_canvas(configuration))
    assert (problem.node, problem.field) == ("Pause", f"configuration.{field}")
    assert words in problem.message


def schedule_canvas(configuration: dict) -> dict:
    return {
        "name": "c",
        "nodes": [{"name": "Every", "type": "schedule", "configuration": configuration},
                  {"name": "Then", "type": "noop"}],
        "edges": [{"from": "Every", "to": "Then"}],
    }


def test_a_good_schedule_is_accepted_with_utc_and_no_catch_up_by_default():
    canvas = parse_canvas(schedule_canvas({"cron": "*/15 9-17 * * 1-5"}), default_registry())
    assert canvas.node("Every").configuration == {
        "cron": "*/15 9-17 * * 1-5", "timezone": "UTC", "catchUpMinutes": 0}


@pytest.mark.parametrize(("configuration", "field", "words"), [
    ({"cron": "61 * * * *"}, "cron", "not a valid cron expression"),
    ({"cron": "* * * *"}, "cron", "five-field"),
    ({"cron": "0 0 * * * *"}, "cron", "five-field"),
    ({"cron": "every day"}, "cron", "five-field"),
    ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
    ({"cron": "* * * * *", "catchUpMinutes": -5}, "catchUpMinutes", "0 or more"),
])
def test_a_bad_schedule_names_node_and_field(configuration, field, words):
    problem = only_problem(schedule_canvas(configuration))
    assert (problem.node, problem.field) == ("Every", f"configuration.{field}")
    assert words in problem.message


def test_a_schedule_without_cron_is_refused():
    problem = only_problem(schedule_canvas({}))
    assert (problem.node, problem.field, problem.message) == (
        "Every", "configuration.cron", "is required")
