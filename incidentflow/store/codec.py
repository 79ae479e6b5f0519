"""How domain objects become rows: ids, canvas JSON and its content hash, events."""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from typing import Any

from incidentflow.canvas import Canvas, Edge, Node
from incidentflow.rate_limit import RateLimit

_last_ms = 0
_sequence = 0
_id_lock = threading.Lock()


def new_id() -> str:
    """Sortable unique id: milliseconds (12 hex), a per-process sequence within the same
    millisecond (4 hex, so ids made here sort in creation order), then 64 random bits.

    The random part only keeps processes apart (ids are not secrets: every read
    needs a token), so it comes from ``random``, reseeded from the OS in every
    process and after every fork, not from a system call per id (``os.urandom``)."""
    global _last_ms, _sequence
    with _id_lock:
        ms = max(int(time.time() * 1000), _last_ms)
        _sequence = _sequence + 1 if ms == _last_ms else 0
        _last_ms = ms
        sequence = _sequence & 0xFFFF
    return f"{ms:012x}{sequence:04x}{random.getrandbits(64):016x}"


def canvas_to_spec(canvas: Canvas) -> dict[str, Any]:
    """Every field of the canvas, so a stored version loads back exactly."""
    return {
        "name": canvas.name,
        "description": canvas.description,
        "nodes": [_node_spec(n) for n in canvas.nodes],
        "edges": [{"from": e.source, "to": e.target, "channel": e.channel} for e in canvas.edges],
    }


def canvas_from_spec(spec: dict[str, Any]) -> Canvas:
    return Canvas(
        name=spec["name"],
        description=spec.get("description", ""),
        nodes=tuple(
            Node(
                name=n["name"],
                type=n["type"],
                configuration=n.get("configuration") or {},
                integration=n.get("integration"),
                concurrency_key=n.get("concurrency_key"),
                rate_limit=_rate_limit(n.get("rate_limit")),
            )
            for n in spec["nodes"]
        ),
        edges=tuple(
            Edge(source=e["from"], target=e["to"], channel=e.get("channel", "default"))
            for e in spec.get("edges", ())
        ),
    )


def _node_spec(node: Node) -> dict[str, Any]:
    spec = {
        "name": node.name,
        "type": node.type,
        "configuration": node.configuration,
        "integration": node.integration,
        "concurrency_key": node.concurrency_key,
    }
    # Only when set: a stored version without one keeps its content hash.
    if node.rate_limit is not None:
        spec["rate_limit"] = {"max": node.rate_limit.max, "per": node.rate_limit.per}
    return spec


def _rate_limit(spec: dict[str, Any] | None) -> RateLimit | None:
    return RateLimit(int(spec["max"]), float(spec["per"])) if spec else None


def spec_hash(spec: dict[str, Any]) -> str:
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
