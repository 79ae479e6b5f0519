"""Canvases and helpers shared by the operations tests."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from incidentflow.canvas import Canvas, Edge, Node

ADMIN_TOKEN = "ifa_ops_test_" + "C" * 32

MANUAL_YAML = """
name: manual
nodes:
  - {name: Start, type: start}
  - {name: Done, type: noop}
edges:
  - {from: Start, to: Done}
"""


def manual_canvas(name: str = "manual") -> Canvas:
    return Canvas(name=name, nodes=(Node("Start", "start"), Node("Done", "noop")),
                  edges=(Edge("Start", "Done"),))


def apply_manual(client: TestClient, text: str = MANUAL_YAML) -> Any:
    response = client.put("/api/v1/canvases/manual", content=text,
                          headers={"Content-Type": "application/yaml"})
    assert response.status_code == 200, response.text
    return response.json()
