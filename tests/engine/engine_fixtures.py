"""The engine's toys (re-exported from tests/toys.py), a canvas builder, a settable
clock and a worker factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from toys import (  # the engine's toys live in the one catalogue, tests/toys.py
    Block,
    Branch,
    Broken,
    Crash,
    Echo,
    Flaky,
    engine_registry,
)
from toys import EngineStart as Start

from incidentflow.canvas import Canvas, Edge, Node
from incidentflow.crypto import SecretBox
from incidentflow.engine.retry import RetryPolicy
from incidentflow.engine.wakeup import Wakeup
from incidentflow.engine.worker import Worker
from incidentflow.registry import Registry
from incidentflow.settings import Settings

__all__ = ["BOX", "NOW", "Block", "Branch", "Broken", "Clock", "Crash", "Echo", "Flaky",
           "Start", "Workers", "chain", "registry"]

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BOX = SecretBox("test key")


def registry() -> Registry:
    return engine_registry()


def chain(name: str, *steps: Node, edges: tuple[Edge, ...] | None = None) -> Canvas:
    """Start -> steps[0] -> steps[1] ... unless ``edges`` are given."""
    names = ["Start"] + [s.name for s in steps]
    if edges is None:
        edges = tuple(Edge(a, b) for a, b in zip(names, names[1:], strict=False))
    return Canvas(name=name, nodes=(Node("Start", "t.start"),) + steps, edges=edges)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Workers:
    """Builds workers that share a store and a clock."""

    store: object
    tmp_path: object
    clock: Clock = field(default_factory=Clock)
    lease_seconds: float = 60

    def settings(self) -> Settings:
        return Settings(
            data_dir=self.tmp_path,
            database_url="unused",
            public_url="http://test",  # type: ignore[arg-type]
            secret_key="k",
            admin_token="t",
            lease_seconds=self.lease_seconds,
            worker_concurrency=4,
        )

    def make(self, worker_id: str = "w1", wakeup: Wakeup | None = None) -> Worker:
        http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
        policy = RetryPolicy(limit=5, random=lambda: 0.0)
        return Worker(
            self.store,
            registry(),
            BOX,
            http,
            self.settings(),  # type: ignore[arg-type]
            wakeup,
            worker_id=worker_id,
            clock=self.clock,
            policy=policy,
        )
