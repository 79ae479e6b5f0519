"""The core example canvas guards the payload fields a manual run may leave out."""

from __future__ import annotations

from pathlib import Path

import yaml

from incidentflow.expressions import EXPRESSIONS

NOTIFY = Path(__file__).parents[2] / "examples" / "notify-on-major.yaml"


def node_config(name: str) -> dict:
    canvas = yaml.safe_load(NOTIFY.read_text())
    return next(n for n in canvas["nodes"] if n["name"] == name)["configuration"]


def scope(data: dict) -> dict:
    return {"root": {"type": "start.manual", "timestamp": "ts", "data": data},
            "previous": {}, "nodes": {}, "run": {"id": "r", "canvas": "notify-on-major"}}


def test_a_payload_without_severity_is_skipped_not_failed():
    expression = node_config("Only majors")["expression"]
    assert EXPRESSIONS.condition(expression, scope({}), "Only majors", "expression") is False
    assert EXPRESSIONS.condition(expression, scope({"severity": "major"}),
                                 "Only majors", "expression") is True


def test_a_payload_without_title_still_notifies():
    body = node_config("Notify")["body"]
    assert EXPRESSIONS.render(body, scope({}), "Notify", "body") == {
        "text": "untitled incident"}
    assert EXPRESSIONS.render(body, scope({"title": "DB down"}), "Notify", "body") == {
        "text": "DB down"}
