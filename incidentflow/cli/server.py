"""Server processes: serve, worker, migrate, prune, the emulator and the demo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from incidentflow.cli.app import (
    JSON_OPTION,
    DatabaseUrl,
    DataDir,
    LogJson,
    app,
    emit,
    err,
    fail,
    out,
)

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from incidentflow.settings import Settings
    from incidentflow.store.port import Store
    from incidentflow.worker_process import WorkerProcess


def settings_from_env(log_json: bool = False, **overrides: Any) -> Settings:
    from incidentflow.errors import ConfigurationError
    from incidentflow.log_setup import setup_logging
    from incidentflow.settings import Settings

    try:
        settings = Settings.from_env(**overrides, log_json=log_json or None)
    except (ConfigurationError, ValueError, OSError) as exc:
        fail(f"bad configuration: {exc}")
    setup_logging(json_lines=settings.log_json)
    return settings


def migrated_store(settings: Settings) -> Store:
    try:
        store = _open_store(settings)
        store.migrate()
    except Exception as exc:  # driver errors: say which database, not a traceback
        fail(f"cannot prepare the database: {type(exc).__name__}: {exc}")
    return store


def store_migrated_apart(settings: Settings) -> Store:
    """``migrated_store``, the migration run in a child process that exits: the long
    running processes (serve, worker) never load Alembic and the migration scripts."""
    import os
    import sys

    pid = os.fork()
    if pid == 0:  # the child: report as migrated_store would, then leave at once
        code = 0
        try:
            migrated_store(settings).close()
        except typer.Exit as stop:
            code = stop.exit_code
        except BaseException as exc:
            err.print(f"[red]error:[/] cannot prepare the database: {exc}", highlight=False)
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise typer.Exit(1)  # the child said why
    return _open_store(settings)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    no_workers: bool = typer.Option(False, "--no-workers", help="Do not run workers here."),
    workers_in_process: bool = typer.Option(
        False, "--workers-in-process",
        help="Run the workers in this process instead of a child process of their own "
             "(one core instead of two; always so for an in-memory database)."),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
    public_url: str | None = typer.Option(
        None, help="Base of webhook URLs [INCIDENTFLOW_PUBLIC_URL]."),
    log_json: bool = LogJson,
) -> None:
    """Run the server: API, UI, webhooks and (unless --no-workers) workers, which run in
    a child process unless --workers-in-process."""
    import os

    import uvicorn

    from incidentflow.store import shared_between_processes
    from incidentflow.web.app import create_app
    from incidentflow.web.protocol import uvicorn_options

    require_free_port(host, port)
    settings = settings_from_env(log_json, data_dir=data_dir, database_url=database_url,
                         public_url=public_url or _default_public_url(host, port))
    _warn_if_short_admin_token(settings)
    store = store_migrated_apart(settings)
    if settings.admin_token_generated:
        out.print("[bold]Admin token[/] (shown once, kept in "
                  f"{settings.data_dir / 'admin.token'}):\n{settings.admin_token}",
                  highlight=False)
    out.print(f"incidentflow on http://{host}:{port}  (webhooks: {settings.public_url}/webhooks/…)",
              highlight=False)
    retention = retention_days_setting()
    separate = not (no_workers or workers_in_process) and shared_between_processes(
        settings.database_url)
    web = create_app(settings, store=store, start_workers=not no_workers and not separate,
                     metrics_token=os.environ.get("INCIDENTFLOW_METRICS_TOKEN") or None,
                     retention_days=retention)
    child = _start_worker_process(settings, web, retention) if separate else None
    try:
        uvicorn.run(web, host=host, port=port, log_config=None, access_log=False,
                    **uvicorn_options(settings))
    finally:
        store.close()  # no more commits, so no more wakes
        if child is not None:
            child.stop()


def _open_store(settings: Settings) -> Store:
    from incidentflow.registry import default_registry
    from incidentflow.store import open_store

    return open_store(settings.database_url, default_registry())


def _start_worker_process(settings: Settings, web: Starlette,
                          retention: int) -> WorkerProcess:
    """The workers of ``web`` in a forked child (worker_process.py), woken by every
    commit of this process that makes work due."""
    from incidentflow import metrics
    from incidentflow.worker_process import WorkerProcess

    child = WorkerProcess(settings, retention)
    child.start(web)
    web.state.host.wakeup.relay(child.wake)
    metrics.count_other_process(child.link.ask_metrics)  # one scrape sees the engine too
    return child


def require_free_port(host: str, port: int, option: str = "--port") -> None:
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


def retention_days_setting() -> int:
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
    wake_fd: int | None = typer.Option(
        None, "--wake-fd", hidden=True,
        help="serve's pipe: a byte wakes the workers, its end stops them."),
) -> None:
    """Run workers only (no HTTP), to pair with `serve --no-workers`."""
    import asyncio

    from incidentflow.web.app import create_app
    from incidentflow.worker_process import run_workers

    settings = settings_from_env(log_json, data_dir=data_dir, database_url=database_url)
    store = store_migrated_apart(settings)
    if metrics_port is not None:
        _serve_metrics(store, metrics_host, metrics_port)

    def announce() -> None:
        out.print(f"worker running (up to {settings.worker_concurrency} executions at once); "
                  "Ctrl-C to stop.")

    try:
        web = create_app(settings, store=store, start_workers=True,
                         retention_days=retention_days_setting())
        asyncio.run(run_workers(web, wake_fd=wake_fd, announce=announce))
    except KeyboardInterrupt:
        pass
    finally:
        store.close()


def _serve_metrics(store: Store, host: str, port: int) -> None:
    from prometheus_client import start_http_server

    from incidentflow.events import utcnow
    from incidentflow.metrics import scrape_registry

    try:
        start_http_server(port, host, registry=scrape_registry(store, utcnow))
    except OSError as exc:
        fail(f"cannot serve metrics on {host}:{port}: {exc}")
    out.print(f"metrics on http://{host}:{port}/metrics", highlight=False)


@app.command()
def migrate(data_dir: Path | None = DataDir, database_url: str | None = DatabaseUrl) -> None:
    """Create or upgrade the database schema."""
    settings = settings_from_env(data_dir=data_dir, database_url=database_url)
    migrated_store(settings).close()
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

    days = retention_days_setting() if older_than is None else older_than
    settings = settings_from_env(data_dir=data_dir, database_url=database_url)
    store = migrated_store(settings)
    try:
        pruned = prune_rows(store, utcnow(), days)
    finally:
        store.close()
    summary = {"runs": pruned.runs, "deliveries": pruned.deliveries, "olderThanDays": days}
    emit(as_json, summary, lambda: out.print(
        "retention is 0: nothing pruned" if days <= 0 else
        f"pruned {pruned.runs} runs and {pruned.deliveries} deliveries "
        f"older than {days:g} days", highlight=False))


# The emulator's default key (emulator.app.DEFAULT_API_KEY), spelt here so that
# ``--help`` does not import the emulator; tests/emulator/test_server.py keeps them equal.
EMULATOR_KEY = "emulator-key"


@app.command()
def emulator(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8025, help="Port to listen on."),
    api_key: str = typer.Option(EMULATOR_KEY, "--api-key",
                                help="Bearer key the emulated API accepts."),
    webhook: list[str] = typer.Option(
        [], "--webhook", help="Deliver webhooks to URL, signed with whsec_SECRET: "
        "'URL=whsec_SECRET' (repeatable; a bare URL gets a generated secret, printed at start)."),
    endpoint: list[str] = typer.Option(
        [], "--endpoint", help="The older spelling of --webhook: URL or 'URL,whsec_SECRET'."),
    fail_rate: float = typer.Option(0.0, help="Fraction of API calls (0-1) that fail."),
    fail_status: int = typer.Option(500, help="Status of those failures (429, 500, 502-504)."),
    retry_schedule: str | None = typer.Option(
        None, help="Seconds before each webhook attempt, comma-separated "
        "[incident.io's: 0,5,300,1800,7200,18000,36000,36000]."),
    scopes: str = typer.Option(
        "", help="Limit the API key to these scopes, comma-separated (e.g. "
        "'incidents.view,severities.view'); default: every scope."),
) -> None:
    """Run the local incident.io stand-in (API + signed webhooks)."""
    from incidentflow.emulator.endpoints import parse_webhook_flag
    from incidentflow.emulator.server import parse_retry_schedule, run_emulator

    options: dict[str, Any] = {
        "fail_rate": fail_rate, "fail_status": fail_status,
        "scopes": [scope.strip() for scope in scopes.split(",") if scope.strip()],
    }
    try:
        if retry_schedule:
            options["retry_schedule"] = parse_retry_schedule(retry_schedule)
        targets = [parse_webhook_flag(w) for w in webhook]
        targets += [parse_webhook_flag(_endpoint_as_webhook(e)) for e in endpoint]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    run_emulator(host, port, api_key, targets, **options)


def _endpoint_as_webhook(value: str) -> str:
    url, sep, secret = value.rpartition(",")
    return f"{url}={secret}" if sep and secret.startswith("whsec_") else value


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
    require_free_port("127.0.0.1", port)
    require_free_port("127.0.0.1", emulator_port, "--emulator-port")
    raise typer.Exit(run_demo(port, emulator_port, keep, out))
