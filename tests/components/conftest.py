"""Builds ExecutionContexts for component tests; HTTP goes to an httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from incidentflow.components.base import ExecutionContext
from incidentflow.events import Event

NOW = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)
INPUT = Event(type="start.manual", data={"hello": "world"}, timestamp="2026-01-19T11:59:00Z")


def make_context(
    config: dict[str, Any],
    handler: Callable[[httpx.Request], httpx.Response] | None = None,
    **overrides: Any,
) -> ExecutionContext:
    transport = httpx.MockTransport(handler or (lambda request: httpx.Response(204)))
    values: dict[str, Any] = {
        "canvas": "demo",
        "node": "Step",
        "run_id": "run-1",
        "execution_id": "exec-1",
        "idempotency_key": "if-exec-1",
        "attempt": 1,
        "input": INPUT,
        "config": config,
        "http": httpx.AsyncClient(transport=transport),
        "now": NOW,
    }
    values.update(overrides)
    return ExecutionContext(**values)


@pytest.fixture
def context_factory() -> Callable[..., ExecutionContext]:
    return make_context
