"""The suite's toy components: small stand-ins with the shapes the real ones have (a
trigger with a webhook, filter, if, an http-like step, actions that create things), so
tests of canvases and of the engine's rules do not depend on the real catalogue.
``make_registry()`` is a catalogue of the canvas tests' toys (import as ``toys``); the
engine's toys (with behaviour: echo, flaky, broken, blocking, ...), the store's shapes and
the receiver's trigger follow, each family with its own catalogue. (A worker started as
a child process, tests/engine/worker_process.py, declares its two of its own: it runs
outside the test session's import path.)"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from incidentflow.components.base import (
    Component,
    Emission,
    ExecutionContext,
    Field,
    Option,
    RejectionCode,
    WebhookRequest,
    WebhookTrigger,
    WebhookVerdict,
)
from incidentflow.errors import PermanentError, Problem, RetryableError
from incidentflow.events import Event
from incidentflow.registry import Registry

EVENTS = ("thing.created", "thing.updated")


class Start(Component):
    type = "start"
    label = "Start"
    role = "trigger"


class OnThing(WebhookTrigger):
    type = "things.onThing"
    label = "On Thing"
    integration = "things"
    listens_for: ClassVar[frozenset[str]] = frozenset({"things.thing"})
    fields = (
        Field(
            "events",
            "multiselect",
            "Events",
            required=True,
            default=EVENTS,  # a tuple on purpose: the canvas must hold a list
            options=tuple(Option(e, e) for e in EVENTS),
        ),
        Field("allowSelfTriggered", "boolean", "Allow self-triggered"),
    )


class Filter(Component):
    type = "filter"
    label = "Filter"
    fields = (Field("expression", "condition", "Condition", required=True),)


class If(Component):
    type = "if"
    label = "If"
    fields = (Field("expression", "condition", "Condition", required=True),)
    channels = ("true", "false")


class Http(Component):
    type = "http"
    label = "HTTP"
    channels = ("success", "failure")
    fields = (
        Field("url", "template", "URL", required=True),
        Field("method", "select", "Method", default="POST",
              options=(Option("GET", "GET"), Option("POST", "POST"))),
        Field("body", "object", "Body"),
        Field("timeout", "number", "Timeout"),
        Field("followRedirects", "boolean", "Follow redirects"),
        Field("note", "text", "Note"),
    )

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        if config.get("method") == "GET" and "body" in config:
            return [Problem("a GET request has no body", node=node, field="body")]
        return []


class CreateThing(Component):
    type = "things.createThing"
    label = "Create Thing"
    integration = "things"
    creates = "things.thing"
    fields = (
        Field("name", "template", "Name", required=True),
        Field("severityId", "select", "Severity", required=True, resource="severity"),
        Field("visibility", "select", "Visibility", default="public",
              options=(Option("public", "Public"), Option("private", "Private"))),
    )


class PageSomeone(Component):
    type = "pager.page"
    label = "Page"
    creates = "pager.page"


class Note(Component):
    type = "note"
    label = "Note"


def make_registry() -> Registry:
    """Every toy, in a catalogue of its own."""
    registry = Registry()
    for component in (Start(), OnThing(), Filter(), If(), Http(), CreateThing(),
                      PageSomeone(), Note()):
        registry.add_component(component)
    return registry


# -- the engine's toys (tests/engine): behaviour the worker's rules are tested against ----


class EngineStart(Component):
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


class Call(Component):
    """Records the configuration it got and echoes it back, as a careless server would."""

    type = "t.call"
    label = "Call"
    fields = (Field("url", "template", "URL"), Field("headers", "object", "Headers"))
    seen: ClassVar[list[dict[str, Any]]] = []

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        Call.seen.append(dict(ctx.config))
        if "fail" in str(ctx.config.get("url")):
            raise RetryableError(f"GET {ctx.config['url']} timed out",
                                 {"url": ctx.config["url"]})
        return [Emission(Event("t.call", {"echo": ctx.config}))]


class CountedCreate(Component):
    """Creates a thing elsewhere (counted); fails retryably while ``failures`` last."""

    type = "t.create"
    label = "Create thing"
    creates = "t.thing"
    created: ClassVar[list[str]] = []
    failures: ClassVar[int] = 0

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        if CountedCreate.failures:
            CountedCreate.failures -= 1
            raise RetryableError("service unavailable (503)")
        CountedCreate.created.append(ctx.execution_id)
        return [Emission(Event("t.thing", {"n": len(CountedCreate.created)}))]


def engine_registry() -> Registry:
    """The engine tests' catalogue."""
    registry = Registry()
    for component in (EngineStart(), Echo(), Flaky(), Broken(), Crash(), Branch(), Block()):
        registry.add_component(component)
    return registry


# -- the store's toys (tests/store): shapes only, the store runs nothing ----------------


class Hook(WebhookTrigger):
    type = "test.hook"
    label = "Test hook"


class Manual(Component):
    type = "test.manual"
    label = "Manual"
    role = "trigger"


class Step(Component):
    type = "test.step"
    label = "Step"


def store_registry() -> Registry:
    """The store tests' catalogue: a webhook trigger, a manual trigger, a step."""
    registry = Registry()
    for component in (Hook(), Manual(), Step()):
        registry.add_component(component)
    return registry


# -- the receiver's toy (tests/receiver) ------------------------------------------------


class Toy(WebhookTrigger):
    """Accepts a body of b"ok", refuses b"bad" with a code, and breaks on b"boom"."""

    type, label = "toy", "Toy"

    def receive(self, request: WebhookRequest, secrets: list[str],
                config: Mapping[str, Any], now: datetime) -> WebhookVerdict:
        if request.body == b"boom":
            raise KeyError("a bug in the trigger")
        if request.body == b"bad":
            return WebhookVerdict.rejected(RejectionCode.BAD_SIGNATURE, "signature off")
        return WebhookVerdict(200, "ok", events=(Event("toy.received", {"n": 1}),),
                              dedupe_key=request.headers.get("x-id"))
