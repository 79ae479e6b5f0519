"""The ``incidentflow`` Typer app, its command groups, and what every command shares:
the consoles, the output (``emit``: JSON or a table), ``fail``, the API client."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from incidentflow.client import ApiClient


def _group(help_: str) -> typer.Typer:
    return typer.Typer(help=help_, no_args_is_help=True, rich_markup_mode=None)


app = typer.Typer(help="incidentflow: event-driven workflows for incident response.",
                  no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None)
runs_app = _group("Runs of a canvas.")
canvases_app = _group("Canvases on the server.")
secret_app = _group("Webhook signing secrets of trigger nodes.")
integrations_app = _group("Connections to outside services.")
tokens_app = _group("API tokens (bearer credentials for scripts and the UI sign-in).")
secrets_app = _group("Secrets for canvases, read in templates as {{ secrets.NAME }}.")
node_app = _group("Nodes of a canvas (resume one whose rate limit tripped).")
canvas_app = _group("Stop and restart one canvas; read a webhook trigger's delivery log.")
app.add_typer(runs_app, name="runs")
app.add_typer(canvases_app, name="canvases")
app.add_typer(secret_app, name="secret")
app.add_typer(integrations_app, name="integrations")
app.add_typer(tokens_app, name="tokens")
app.add_typer(secrets_app, name="secrets")
app.add_typer(node_app, name="node")
app.add_typer(canvas_app, name="canvas")


class _LazyConsole:
    """A Rich console created on first use (importing Rich costs ~60 ms)."""

    def __init__(self, stderr: bool = False):
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return getattr(self._console, name)


out: Any = _LazyConsole()
err: Any = _LazyConsole(stderr=True)


def table(*columns: str) -> Table:
    from rich.table import Table

    return Table(*columns)

JSON_OPTION = typer.Option(False, "--json", help="Print the API's JSON (for scripts).")
DataDir = typer.Option(None, "--data-dir", help="Data directory [INCIDENTFLOW_DATA_DIR].")
DatabaseUrl = typer.Option(None, "--database-url", help="[INCIDENTFLOW_DATABASE_URL]")
LogJson = typer.Option(False, "--log-json", help="One JSON object per log line "
                       "[INCIDENTFLOW_LOG_JSON=1].")


def main() -> None:
    app()


def fail(message: str, problems: list[dict[str, Any]] | None = None) -> NoReturn:
    err.print(f"[red]error:[/] {message}", highlight=False)
    for problem in problems or []:
        where = ".".join(p for p in (problem.get("node"), problem.get("field")) if p)
        err.print(f"  - {where + ': ' if where else ''}{problem.get('message')}", highlight=False)
    raise typer.Exit(1)




@contextmanager
def api_client() -> Iterator[ApiClient]:
    from incidentflow.client import ApiClient, ApiError

    try:
        with ApiClient() as client:
            yield client
    except ApiError as exc:
        fail(str(exc), exc.problems)


def emit(as_json: bool, data: Any, render: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        render()


def coloured_state(state: str) -> str:
    colour = {"succeeded": "green", "failed": "red"}.get(state, "yellow")
    return f"[{colour}]{state}[/]"
