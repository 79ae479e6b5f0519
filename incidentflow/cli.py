"""The ``incidentflow`` command line: server processes and a client of the API.

Heavy modules (the app, the store, uvicorn, httpx, even Rich) are imported inside the
commands so ``incidentflow --help`` stays fast (tests/cli/test_cli_startup.py checks
which modules it loads). Help is Click's plain formatter (``rich_markup_mode=None``):
Typer's Rich help pulls in a Markdown parser that alone doubles the start-up time.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from incidentflow.client import ApiClient
    from incidentflow.settings import Settings
    from incidentflow.store.port import Store


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


def _table(*columns: str) -> Table:
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


# -- server processes -----------------------------------------------------------------------


def _settings(log_json: bool = False, **overrides: Any) -> Settings:
    from incidentflow.errors import ConfigurationError
    from incidentflow.logging import setup_logging
    from incidentflow.settings import Settings

    try:
        settings = Settings.from_env(**overrides, log_json=log_json or None)
    except (ConfigurationError, ValueError, OSError) as exc:
        fail(f"bad configuration: {exc}")
    setup_logging(json_lines=settings.log_json)
    return settings


def _migrated_store(settings: Settings) -> Store:
    from incidentflow.store import open_store

    try:
        store = open_store(settings.database_url)
        store.migrate()
    except Exception as exc:  # driver errors: say which database, not a traceback
        fail(f"cannot prepare the database: {type(exc).__name__}: {exc}")
    return store


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    no_workers: bool = typer.Option(False, "--no-workers", help="Do not run workers here."),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
    public_url: str | None = typer.Option(
        None, help="Base of webhook URLs [INCIDENTFLOW_PUBLIC_URL]."),
    log_json: bool = LogJson,
) -> None:
    """Run the server: API, UI, webhooks and (unless --no-workers) workers."""
    import os

    import uvicorn

    from incidentflow.web.app import create_app
    from incidentflow.web.protocol import uvicorn_options

    _require_free_port(host, port)
    settings = _settings(log_json, data_dir=data_dir, database_url=database_url,
                         public_url=public_url or _default_public_url(host, port))
    _warn_if_short_admin_token(settings)
    store = _migrated_store(settings)
    if settings.admin_token_generated:
        out.print("[bold]Admin token[/] (shown once, kept in "
                  f"{settings.data_dir / 'admin.token'}):\n{settings.admin_token}",
                  highlight=False)
    out.print(f"incidentflow on http://{host}:{port}  (webhooks: {settings.public_url}/webhooks/…)",
              highlight=False)
    web = create_app(settings, store=store, start_workers=not no_workers,
                     metrics_token=os.environ.get("INCIDENTFLOW_METRICS_TOKEN") or None,
                     retention_days=_retention_days())
    try:
        uvicorn.run(web, host=host, port=port, log_config=None, access_log=False,
                    **uvicorn_options(settings))
    finally:
        store.close()


def _require_free_port(host: str, port: int, option: str = "--port") -> None:
    from incidentflow.ports import port_in_use, port_taken_message

    try:
        taken = port_in_use(host, port)
    except OSError as exc:  # e.g. an address this machine does not have
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    if taken:
        fail(port_taken_message(host, port, option))


def _warn_if_short_admin_token(settings: Settings) -> None:
    """A short admin token can be guessed despite the sign-in throttle: say so at start
    (its length only; the token itself is never logged)."""
    import logging

    from incidentflow.settings import MIN_ADMIN_TOKEN_CHARS

    if settings.admin_token_is_short:
        logging.getLogger("incidentflow.serve").warning(
            "the admin token (INCIDENTFLOW_ADMIN_TOKEN) is %d characters; use at least %d "
            "random characters (e.g. `openssl rand -base64 32`)",
            len(settings.admin_token), MIN_ADMIN_TOKEN_CHARS)


def _default_public_url(host: str, port: int) -> str | None:
    """Without INCIDENTFLOW_PUBLIC_URL, webhook URLs point where this server listens."""
    import os

    if os.environ.get("INCIDENTFLOW_PUBLIC_URL"):
        return None
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{reachable}:{port}"


def _retention_days() -> int:
    from incidentflow.errors import ConfigurationError
    from incidentflow.retention import retention_days

    try:
        return retention_days()
    except ConfigurationError as exc:
        fail(f"bad configuration: {exc}")


@app.command()
def worker(
    data_dir: Path | None = DataDir, database_url: str | None = DatabaseUrl,
    metrics_port: int | None = typer.Option(
        None, help="Serve Prometheus metrics of this worker on this port (no HTTP API)."),
    metrics_host: str = typer.Option("127.0.0.1", help="Interface for --metrics-port."),
    log_json: bool = LogJson,
) -> None:
    """Run workers only (no HTTP), to pair with `serve --no-workers`."""
    import asyncio

    settings = _settings(log_json, data_dir=data_dir, database_url=database_url)
    store = _migrated_store(settings)
    if metrics_port is not None:
        _serve_metrics(store, metrics_host, metrics_port)
    try:
        asyncio.run(_run_workers(settings, store))
    except KeyboardInterrupt:
        pass
    finally:
        store.close()


def _serve_metrics(store: Any, host: str, port: int) -> None:
    from prometheus_client import start_http_server

    from incidentflow.events import utcnow
    from incidentflow.metrics import scrape_registry

    try:
        start_http_server(port, host, registry=scrape_registry(store, utcnow))
    except OSError as exc:
        fail(f"cannot serve metrics on {host}:{port}: {exc}")
    out.print(f"metrics on http://{host}:{port}/metrics", highlight=False)


async def _run_workers(settings: Settings, store: Any) -> None:
    import asyncio
    import signal

    from incidentflow.web.app import create_app

    web = create_app(settings, store=store, start_workers=True, retention_days=_retention_days())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The app's lifespan owns the worker pool; run it without an HTTP server.
    async with web.router.lifespan_context(web):
        out.print(f"worker running (up to {settings.worker_concurrency} executions at once); "
                  "Ctrl-C to stop.")
        await stop.wait()


@app.command()
def migrate(data_dir: Path | None = DataDir, database_url: str | None = DatabaseUrl) -> None:
    """Create or upgrade the database schema."""
    settings = _settings(data_dir=data_dir, database_url=database_url)
    _migrated_store(settings).close()
    out.print("database is up to date")


@app.command()
def prune(
    older_than: float | None = typer.Option(
        None, "--older-than", min=0, help="Days to keep [INCIDENTFLOW_RETENTION_DAYS, 30]; "
        "0 keeps everything."),
    data_dir: Path | None = DataDir, database_url: str | None = DatabaseUrl,
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete finished runs (executions, events) and deliveries older than the window.

    Delivery rows younger than 48 h always stay: they catch incident.io's retries."""
    from incidentflow.events import utcnow
    from incidentflow.retention import prune as prune_rows

    days = _retention_days() if older_than is None else older_than
    settings = _settings(data_dir=data_dir, database_url=database_url)
    store = _migrated_store(settings)
    try:
        pruned = prune_rows(store, utcnow(), days)
    finally:
        store.close()
    summary = {"runs": pruned.runs, "deliveries": pruned.deliveries, "olderThanDays": days}
    _emit(as_json, summary, lambda: out.print(
        "retention is 0: nothing pruned" if days <= 0 else
        f"pruned {pruned.runs} runs and {pruned.deliveries} deliveries "
        f"older than {days:g} days", highlight=False))


@app.command()
def emulator(
    host: str = typer.Option("127.0.0.1"),
    port: int = typer.Option(8025),
    api_key: str = typer.Option("emulator-key", "--api-key", help="Bearer key it accepts."),
    endpoint: list[str] = typer.Option(
        [], "--endpoint", help="Webhook receiver, URL or URL,whsec_secret (repeatable)."),
    fail_rate: float = typer.Option(0.0, help="Share of API calls answered with an error."),
    fail_status: int = typer.Option(500, help="Status of injected errors."),
    retry_schedule: str | None = typer.Option(None, help="Seconds before each webhook attempt, "
                                              "comma-separated."),
) -> None:
    """Run the local incident.io stand-in (API + signed webhooks)."""
    from incidentflow.emulator.server import parse_retry_schedule, run_emulator

    options: dict[str, Any] = {"fail_rate": fail_rate, "fail_status": fail_status}
    try:
        if retry_schedule:
            options["retry_schedule"] = parse_retry_schedule(retry_schedule)
        run_emulator(host, port, api_key, [_endpoint_arg(e) for e in endpoint], **options)
    except ValueError as exc:
        fail(str(exc))


def _endpoint_arg(value: str) -> tuple[str, str | None]:
    url, sep, secret = value.rpartition(",")
    if sep and secret.startswith("whsec_"):
        return url, secret
    return value, None


@app.command()
def demo(
    port: int = typer.Option(8000), emulator_port: int = typer.Option(8025),
    keep: bool = typer.Option(False, help="Keep both running after the demo, to look at "
                              "the canvas and its run in the UI (Ctrl-C stops them)."),
) -> None:
    """The whole flow against the bundled emulator, no account needed."""
    from incidentflow.demo import run_demo

    # Checked first: the demo would otherwise talk to whatever holds the port (e.g. the
    # server of `make run`) and fail with a 401 and an empty log.
    _require_free_port("127.0.0.1", port)
    _require_free_port("127.0.0.1", emulator_port, "--emulator-port")
    raise typer.Exit(run_demo(port, emulator_port, keep, out))


# -- client commands ------------------------------------------------------------------------


@contextmanager
def _client() -> Iterator[ApiClient]:
    from incidentflow.client import ApiClient, ApiError

    try:
        with ApiClient() as client:
            yield client
    except ApiError as exc:
        fail(str(exc), exc.problems)


def _emit(as_json: bool, data: Any, render: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        render()


@app.command()
def apply(
    file: Path = typer.Argument(..., help="Canvas file (.yaml, .yml or .json)."),
    name: str | None = typer.Option(None, help="Canvas name when the file has none."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create or update a canvas from a file."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {exc}")
    canvas_name = name or _name_in(text) or file.stem
    content_type = "application/json" if file.suffix.lower() == ".json" else "application/yaml"
    with _client() as client:
        saved = client.apply(canvas_name, text, content_type)

    def render() -> None:
        verb = "saved as version" if saved["created"] else "unchanged, still version"
        out.print(f"[green]{saved['name']}[/] {verb} {saved['version']}", highlight=False)
        for warning in saved.get("warnings", []):
            where = ".".join(p for p in (warning.get("node"), warning.get("field")) if p)
            out.print(f"[yellow]warning:[/] {where}: {warning.get('message')}", highlight=False)

    _emit(as_json, saved, render)


def _name_in(text: str) -> str | None:
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return None  # the server explains the syntax error
    name = document.get("name") if isinstance(document, dict) else None
    return name if isinstance(name, str) and name else None


@app.command("run")
def run_node(
    canvas: str, node: str,
    payload: str = typer.Option("{}", help="JSON object the start node emits."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start a run from a start node."""
    try:
        data = json.loads(payload)
    except json.JSONDecodeError as exc:
        fail(f"--payload is not valid JSON: {exc}")
    with _client() as client:
        run_id = client.run(canvas, node, data)
    _emit(as_json, {"runId": run_id}, lambda: out.print(f"run {run_id} queued", highlight=False))


@runs_app.command("list")
def runs_list(canvas: str, limit: int = typer.Option(20, min=1, max=500),
              as_json: bool = JSON_OPTION) -> None:
    """Recent runs of a canvas, newest first."""
    with _client() as client:
        runs = client.runs(canvas, limit)

    def render() -> None:
        table = _table("run", "state", "trigger", "event", "started", "finished")
        for r in runs:
            table.add_row(r["id"], _state(r["state"]), r["triggerNode"], r.get("eventType", ""),
                          r.get("createdAt") or "", r.get("finishedAt") or "")
        out.print(table)

    _emit(as_json, runs, render)


@runs_app.command("show")
def runs_show(run_id: str, as_json: bool = JSON_OPTION) -> None:
    """A run with each execution."""
    with _client() as client:
        run = client.get_run(run_id)

    def render() -> None:
        out.print(f"run {run['id']}  canvas {run['canvas']} v{run['canvasVersion']}  "
                  f"{_state(run['state'])}", highlight=False)
        table = _table("node", "state", "attempts", "emitted", "error")
        for e in run["executions"]:
            channels = ", ".join(str(x.get("channel")) for x in e.get("emitted") or [])
            table.add_row(e["node"], _state(e["state"]), str(e["attempts"]), channels,
                          e.get("error") or "")
        out.print(table)

    _emit(as_json, run, render)


@runs_app.command("replay")
def runs_replay(run_id: str, as_json: bool = JSON_OPTION) -> None:
    """Run a run's trigger event again, as a new run on the canvas's current version."""
    with _client() as client:
        new_id = client.replay(run_id)
    _emit(as_json, {"runId": new_id, "replayOf": run_id},
          lambda: out.print(f"run {new_id} queued (replay of {run_id})", highlight=False,
                            soft_wrap=True))


def _state(state: str) -> str:
    colour = {"succeeded": "green", "failed": "red"}.get(state, "yellow")
    return f"[{colour}]{state}[/]"


@canvases_app.command("list")
def canvases_list(as_json: bool = JSON_OPTION) -> None:
    """Every canvas with its version and last run."""
    with _client() as client:
        canvases = client.canvases()

    def render() -> None:
        table = _table("canvas", "version", "triggers", "last run", "updated", "tripped")
        for c in canvases:
            last = f"{c['lastRunId']} {_state(c['lastRunState'])}" if c.get("lastRunId") else ""
            name = f"{c['name']} [yellow](paused)[/]" if c.get("paused") else c["name"]
            table.add_row(name, str(c["version"]), ", ".join(c.get("triggers", [])),
                          last, c.get("updatedAt") or "", _tripped(c.get("trippedNodes")))
        out.print(table)

    _emit(as_json, canvases, render)


def _tripped(nodes: list[dict[str, Any]] | None) -> str:
    return ", ".join(f"[red]{n['node']}[/] ({n['held']} held)" for n in nodes or [])


@canvases_app.command("show")
def canvases_show(name: str, as_json: bool = JSON_OPTION) -> None:
    """A canvas's nodes with live webhook metadata."""
    with _client() as client:
        view = client.canvas(name)

    def render() -> None:
        out.print(f"{view['name']} v{view['version']}", highlight=False)
        table = _table("node", "type", "webhook URL", "operational")
        for n in view["nodes"]:
            live = n.get("live") or {}
            ok = "" if not live else ("yes" if live["operational"] else f"no: {live['reason']}")
            table.add_row(n["name"], n["type"], live.get("webhookUrl", ""), ok)
        out.print(table)
        if view.get("trippedNodes"):
            out.print(f"tripped: {_tripped(view['trippedNodes'])}; resume with "
                      f"incidentflow node resume {view['name']} NODE --release|--discard",
                      highlight=False)

    _emit(as_json, view, render)


@node_app.command("resume")
def node_resume(
    canvas: str, node: str,
    release: bool = typer.Option(False, "--release", help="Run what the node holds "
                                 "(released executions do not count against the limit)."),
    discard: bool = typer.Option(False, "--discard", help="Drop what the node holds "
                                 "(they end as discarded; their runs finish)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Resume a node whose rate limit tripped: --release or --discard what it holds."""
    if release == discard:
        fail("say what to do with the held executions: --release or --discard (one of them)")
    with _client() as client:
        result = client.resume_node(canvas, node, "release" if release else "discard")
    done = (f"{result['released']} released" if release
            else f"{result['discarded']} discarded")
    _emit(as_json, result,
          lambda: out.print(f"{canvas}/{node} resumed: {done}", highlight=False))


# -- canvas pause / resume / deliveries (docs/runaway.md) ------------------------------------


@canvas_app.command("pause")
def canvas_pause(name: str, as_json: bool = JSON_OPTION) -> None:
    """Pause a canvas: deliveries are acknowledged and kept, nothing starts."""
    with _client() as client:
        result = client.pause(name)
    held = result.get("pendingDeliveries", 0)
    _emit(as_json, result, lambda: out.print(
        f"canvas {name} paused since {result['pausedAt']} ({held} deliveries held)",
        highlight=False, soft_wrap=True))


@canvas_app.command("resume")
def canvas_resume(
    name: str,
    run_pending: bool | None = typer.Option(
        None, "--run-pending/--discard-pending",
        help="Run, or discard, what arrived while paused (needed when anything did)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Resume a paused canvas."""
    pending = None if run_pending is None else ("run" if run_pending else "discard")
    with _client() as client:
        result = client.resume(name, pending)

    def render() -> None:
        out.print(f"canvas {name} resumed: {len(result['runIds'])} runs started from held "
                  f"deliveries, {result['discarded']} discarded", highlight=False,
                  soft_wrap=True)

    _emit(as_json, result, render)


@canvas_app.command("deliveries")
def canvas_deliveries(canvas: str, node: str,
                      limit: int = typer.Option(20, min=1, max=500),
                      as_json: bool = JSON_OPTION) -> None:
    """A webhook trigger's delivery log, newest first."""
    with _client() as client:
        found = client.deliveries(canvas, node, limit)

    def render() -> None:
        table = _table("received", "webhook id", "outcome", "reason", "run")
        for d in found:
            table.add_row(d["receivedAt"], d.get("webhookId") or "", d["outcome"],
                          d.get("reason") or "", d.get("runId") or "")
        out.print(table)

    _emit(as_json, found, render)


@secret_app.command("set")
def secret_set(
    canvas: str, node: str,
    clear: bool = typer.Option(False, "--clear", help="Remove the secret (deliveries refused)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Store a trigger's signing secret (prompted, or read from stdin)."""
    secret = "" if clear else _read_secret("Signing secret (whsec_…)")
    if not clear and not secret:
        fail("no secret given (use --clear to remove it)")
    with _client() as client:
        result = client.hook(canvas, node, "setSecret", {"webhookSigningSecret": secret})
    message = "signing secret cleared" if clear else "signing secret stored"
    _emit(as_json, result, lambda: out.print(message))


def _read_secret(prompt: str) -> str:
    if sys.stdin.isatty():
        return str(typer.prompt(prompt, hide_input=True)).strip()
    return sys.stdin.read().strip()


@integrations_app.command("set")
def integrations_set(
    name: str,
    type_: str = typer.Option(..., "--type", help="Integration type, e.g. incident."),
    api_key_stdin: bool = typer.Option(False, "--api-key-stdin", help="Read apiKey from stdin."),
    base_url: str | None = typer.Option(None, "--base-url", help="Service URL (e.g. emulator)."),
    option: list[str] = typer.Option([], "--set", help="Other field as key=value (repeatable)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create or update an integration; the key is validated and stored encrypted."""
    configuration: dict[str, Any] = {}
    for item in option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--set expects key=value, got {item!r}")
        configuration[key] = value
    if base_url:
        configuration["baseUrl"] = base_url
    if api_key_stdin:
        configuration["apiKey"] = sys.stdin.read().strip()
    with _client() as client:
        view = client.put_integration(name, type_, configuration)

    def render() -> None:
        status = "[green]ready[/]" if view["status"] == "ready" else f"[red]{view['status']}[/]"
        reason = f": {view['reason']}" if view.get("reason") else ""
        out.print(f"{view['name']} ({view['type']}) {status}{reason}", highlight=False)

    _emit(as_json, view, render)


@integrations_app.command("list")
def integrations_list(as_json: bool = JSON_OPTION) -> None:
    """Integrations and their status (secrets are never shown)."""
    with _client() as client:
        views = client.integrations()

    def render() -> None:
        table = _table("name", "type", "status", "reason")
        for v in views:
            table.add_row(v["name"], v["type"], _state_of_integration(v["status"]), v["reason"])
        out.print(table)

    _emit(as_json, views, render)


def _state_of_integration(status: str) -> str:
    return "[green]ready[/]" if status == "ready" else f"[red]{status}[/]"


@tokens_app.command("create")
def tokens_create(name: str, as_json: bool = JSON_OPTION) -> None:
    """Create an API token; it is printed once and cannot be shown again."""
    with _client() as client:
        created = client.create_token(name)

    def render() -> None:
        out.print(f"token {created['id']} ({created['name']}) created. Copy it now, "
                  "it is not shown again:", highlight=False, soft_wrap=True)
        sys.stdout.write(created["token"] + "\n")

    _emit(as_json, created, render)


@tokens_app.command("list")
def tokens_list(as_json: bool = JSON_OPTION) -> None:
    """API tokens (never the tokens themselves)."""
    with _client() as client:
        listed = client.tokens()

    def render() -> None:
        table = _table("id", "name", "created", "last used", "state")
        for t in listed:
            state = "[red]revoked[/]" if t["revoked"] else "[green]active[/]"
            table.add_row(t["id"], t["name"], t["createdAt"], t.get("lastUsedAt") or "", state)
        out.print(table)

    _emit(as_json, listed, render)


@tokens_app.command("revoke")
def tokens_revoke(token_id: str, as_json: bool = JSON_OPTION) -> None:
    """Revoke an API token: refused everywhere from the next request on."""
    with _client() as client:
        record = client.revoke_token(token_id)
    _emit(as_json, record, lambda: out.print(f"token {record['id']} ({record['name']}) revoked",
                                             highlight=False, soft_wrap=True))


@secrets_app.command("set")
def secrets_set(
    name: str,
    value_stdin: bool = typer.Option(False, "--value-stdin",
                                     help="Read the value from stdin (for scripts)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Set or replace a secret; the value is asked for (hidden) or read from stdin."""
    if value_stdin:
        value = sys.stdin.read().rstrip("\r\n")  # the newline `echo` adds is not part of it
    else:
        value = str(typer.prompt(f"Value of {name}", hide_input=True,
                                 confirmation_prompt=True))
    if not value:
        fail("no value given: a secret cannot be empty")
    with _client() as client:
        stored = client.put_secret(name, value)
    _emit(as_json, stored, lambda: out.print(
        f"secret {stored['name']} stored; templates read it as "
        f"{{{{ secrets.{stored['name']} }}}}", highlight=False, soft_wrap=True))


@secrets_app.command("list")
def secrets_list(as_json: bool = JSON_OPTION) -> None:
    """Secrets by name, with when each was set (values are never shown)."""
    with _client() as client:
        listed = client.secrets()

    def render() -> None:
        table = _table("name", "created", "updated")
        for item in listed:
            table.add_row(item["name"], item["createdAt"], item["updatedAt"])
        out.print(table)

    _emit(as_json, listed, render)


@secrets_app.command("delete")
def secrets_delete(name: str, as_json: bool = JSON_OPTION) -> None:
    """Delete a secret: runs whose templates read it fail until it is set again."""
    with _client() as client:
        client.delete_secret(name)
    _emit(as_json, {"name": name, "deleted": True},
          lambda: out.print(f"secret {name} deleted", highlight=False))
