"""Tiny components, a canvas builder, a settable clock and a worker factory."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import httpx

from incidentflow.canvas import Canvas, Edge, Node
from incidentflow.components.base import Component, Emission, ExecutionContext, Field
from incidentflow.crypto import SecretBox
from incidentflow.engine.retry import RetryPolicy
from incidentflow.engine.wakeup import Wakeup
from incidentflow.engine.worker import Worker
from incidentflow.errors import PermanentError, RetryableError
from incidentflow.events import Event
from incidentflow.registry import Registry
from incidentflow.settings import Settings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BOX = SecretBox("test key")


class Start(Component):
    type = "t.start"
    label = "Start"
    role = "trigger"


class Echo(Component):
    """Emits its rendered message, the attempt and the idempotency key it saw."""

    type = "t.echo"
    label = "Echo"
    fields = (
        Field("message", "template", "Message"),
        Field("token", "secret", "Token"),
    )

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        data = {"message": ctx.config.get("message"), "integration": ctx.integration}
        return [Emission(Event("t.echo", data))]


class Flaky(Component):
    """Fails with RetryableError until attempt ``succeed_on``; records every key seen."""

    type = "t.flaky"
    label = "Flaky"
    fields = (Field("succeed_on", "number", "Succeed on"),)
    seen: ClassVar[list[tuple[int, str]]] = []

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        Flaky.seen.append((ctx.attempt, ctx.idempotency_key))
        if ctx.attempt < ctx.config["succeed_on"]:
            raise RetryableError("service unavailable (503)", {"status": 503})
        return [Emission(Event("t.flaky", {"attempt": ctx.attempt}))]


class Broken(Component):
    type = "t.broken"
    label = "Broken"

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        raise PermanentError("severity 'sev_x' does not exist", {"status": 422})


class Crash(Component):
    type = "t.crash"
    label = "Crash"

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        raise ValueError("boom")


class Block(Component):
    """Runs until ``release`` is set (a slow incident.io call, say)."""

    type = "t.block"
    label = "Block"
    started: ClassVar[list[str]] = []
    release: ClassVar[asyncio.Event | None] = None

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        Block.started.append(ctx.execution_id)
        assert Block.release is not None
        await Block.release.wait()
        return []


class Branch(Component):
    """An ``if``: emits its input on channel true/false."""

    type = "t.if"
    label = "If"
    channels = ("true", "false")
    fields = (Field("expression", "condition", "Condition"),)

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        return [Emission(ctx.input, "true" if ctx.config["expression"] else "false")]


def registry() -> Registry:
    registry = Registry()
    for component in (Start(), Echo(), Flaky(), Broken(), Crash(), Branch(), Block()):
        registry.add_component(component)
    return registry


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
