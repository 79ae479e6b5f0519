"""Running the emulator: ``run_emulator`` for the CLI, ``serve_in_thread`` for tests."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from collections.abc import Iterator, Sequence

import uvicorn
from starlette.types import ASGIApp

from incidentflow.emulator.app import DEFAULT_API_KEY, create_emulator_app
from incidentflow.emulator.faults import FAULT_STATUSES, FaultPlan
from incidentflow.emulator.state import EmulatorState
from incidentflow.emulator.webhooks import SVIX_SCHEDULE


def parse_retry_schedule(text: str) -> tuple[float, ...]:
    """``"0,0.1,0.5"`` -> seconds before each delivery attempt."""
    try:
        delays = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise ValueError(f"retry schedule must be comma-separated seconds, got {text!r}") from exc
    if not delays or any(d < 0 for d in delays):
        raise ValueError("retry schedule needs at least one non-negative delay")
    return delays


def fault_plan(fail_rate: float, fail_status: int, seed: int | None = None) -> FaultPlan:
    if not 0 <= fail_rate <= 1:
        raise ValueError("fail rate must be between 0 and 1")
    if fail_status not in FAULT_STATUSES:
        raise ValueError(f"fail status must be one of {list(FAULT_STATUSES)}")
    return FaultPlan(fail_rate=fail_rate, fail_status=fail_status, rng=random.Random(seed))


def run_emulator(
    host: str = "127.0.0.1",
    port: int = 8025,
    api_key: str = DEFAULT_API_KEY,
    endpoints: Sequence[tuple[str, str | None]] = (),
    *,
    fail_rate: float = 0.0,
    fail_status: int = 500,
    retry_schedule: Sequence[float] = SVIX_SCHEDULE,
    echo: bool = True,
    scopes: Sequence[str] = (),
) -> None:
    """Serve the emulator until interrupted (blocking). Prints the key and endpoints.
    ``scopes`` limits the key to those (e.g. to try "missing permission" paths)."""
    app = create_emulator_app(
        EmulatorState(),
        {api_key: scopes} if scopes else api_key,
        webhook_endpoints=endpoints,
        retry_schedule=retry_schedule,
        faults=fault_plan(fail_rate, fail_status),
    )
    if echo:
        print(describe(app, host, port, api_key))  # noqa: T201 - the CLI's startup banner
    uvicorn.run(app, host=host, port=port, log_level="info")


def describe(app: ASGIApp, host: str, port: int, api_key: str) -> str:
    lines = [
        f"incident.io emulator on http://{host}:{port}",
        f"  API key:   {api_key}   (send as 'Authorization: Bearer {api_key}')",
        f"  baseUrl:   http://{host}:{port}",
        f"  test hooks: http://{host}:{port}/_emulator/",
    ]
    for endpoint in app.state.emulator.endpoints.values():  # type: ignore[attr-defined]
        lines.append(f"  webhook -> {endpoint.url}  secret {endpoint.secret}")
    return "\n".join(lines)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serve_in_thread(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a background thread; yields its base URL.

    Used by end-to-end tests for both the emulator and webhook receivers.
    """
    config = uvicorn.Config(app, host=host, port=port or free_port(host), log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test-server", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("test server failed to start")
            threading.Event().wait(0.01)
        yield f"http://{host}:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
