"""The ``incidentflow emulator`` command, as a Typer-friendly function.

The main CLI registers it with ``app.command("emulator")(emulator_command)``.
"""

from __future__ import annotations

import typer

from incidentflow.emulator.app import DEFAULT_API_KEY
from incidentflow.emulator.endpoints import parse_webhook_flag
from incidentflow.emulator.server import parse_retry_schedule, run_emulator
from incidentflow.emulator.webhooks import SVIX_SCHEDULE

SVIX_SCHEDULE_TEXT = ",".join(f"{d:g}" for d in SVIX_SCHEDULE)


def emulator_command(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8025, help="Port to listen on."),
    api_key: str = typer.Option(DEFAULT_API_KEY, help="Bearer key the emulated API accepts."),
    webhook: list[str] = typer.Option(
        [],
        help="Deliver webhooks to URL, signed with whsec_SECRET: 'URL=whsec_SECRET' "
        "(repeatable; a bare URL gets a generated secret, printed at start).",
    ),
    fail_rate: float = typer.Option(0.0, help="Fraction of API calls (0-1) that fail."),
    fail_status: int = typer.Option(500, help="Status of those failures (429, 500, 502-504)."),
    retry_schedule: str = typer.Option(
        SVIX_SCHEDULE_TEXT, help="Seconds before each webhook attempt, comma-separated."
    ),
    scopes: str = typer.Option(
        "", help="Limit the API key to these scopes, comma-separated (e.g. "
        "'incidents.view,severities.view'); default: every scope."
    ),
) -> None:
    """Run a local incident.io stand-in (API + signed webhooks)."""
    try:
        endpoints = [parse_webhook_flag(value) for value in webhook]
        schedule = parse_retry_schedule(retry_schedule)
        run_emulator(
            host, port, api_key, endpoints,
            fail_rate=fail_rate, fail_status=fail_status, retry_schedule=schedule,
            scopes=[scope.strip() for scope in scopes.split(",") if scope.strip()],
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
