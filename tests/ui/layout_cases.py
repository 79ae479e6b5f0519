"""Canvases whose drawing must not change when the layout learns to bound its work:
the examples people see, and seeded random graphs of a normal size."""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path
from typing import Any

import yaml

from incidentflow.web.ui.layout import layout

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "data" / "layout_golden.json"
Edges = list[tuple[str, str, str]]


def _from_yaml(path: Path) -> tuple[list[str], Edges]:
    document = yaml.safe_load(path.read_text())
    nodes = [n["name"] for n in document["nodes"]]
    edges = [(e["from"], e["to"], e.get("channel", "default")) for e in document["edges"]]
    return nodes, edges


def _random_dag(seed: int, size: int, extra: int) -> tuple[list[str], Edges]:
    """A tree plus ``extra`` forward edges (some long), with branch channels, in a
    shuffled file order."""
    rng = random.Random(seed)
    nodes = [f"n{i}" for i in range(size)]
    edges = {(f"n{rng.randrange(i)}", f"n{i}", rng.choice(["default", "true", "false"]))
             for i in range(1, size)}
    while len(edges) < size - 1 + extra:
        a, b = sorted(rng.sample(range(size), 2))
        edges.add((f"n{a}", f"n{b}", "default"))
    rng.shuffle(nodes)
    return nodes, sorted(edges)


def cases() -> dict[str, tuple[list[str], Edges]]:
    thirty = [f"n{i}" for i in range(30)]
    binary = [(f"n{i}", f"n{j}", "default") for i in range(30) for j in (2 * i + 1, 2 * i + 2)
              if j < 30] + [("n0", "n29", "true"), ("n3", "n20", "false")]
    return {
        "triage-30": _from_yaml(Path(__file__).parent / "canvases" / "triage-30.yaml"),
        "mirror-example": _from_yaml(ROOT / "incidentflow/examples/mirror-major-incidents.yaml"),
        "binary-30": (thirty, binary),
        "cycle-draft": (["A", "B", "C"], [("A", "B", "default"), ("B", "C", "default"),
                                          ("C", "A", "default")]),
        "random-20": _random_dag(1, 20, 10),
        "random-40": _random_dag(2, 40, 30),
        "random-60": _random_dag(3, 60, 40),
    }


def fingerprint(nodes: list[str], edges: Edges) -> dict[str, Any]:
    placed = layout(nodes, edges)
    return {
        "width": placed.width,
        "height": placed.height,
        "crossings": placed.crossings,
        "boxes": {name: [box.x, box.y, box.layer] for name, box in placed.boxes.items()},
        "routes": [asdict(route) for route in placed.routes],
    }
