"""Driving the product for a figure: start `incidentflow serve`/`worker`, set up canvases
through the management API, pre-fill and inspect its database.

Every step that depends on a product feature raises ``Unavailable`` with the reason
when the feature is missing, so a figure is reported "not available" instead of
failing the whole run.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench import servers

ADMIN_TOKEN = "ifa_bench_admin_token_not_secret"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH_DB = "incidentflow_bench"


class Unavailable(RuntimeError):
    """A product feature this figure needs is not there (yet)."""


def cli_path() -> str:
    beside_python = Path(sys.executable).with_name("incidentflow")
    found = str(beside_python) if beside_python.exists() else shutil.which("incidentflow")
    if not found:
        raise Unavailable(
            "the `incidentflow` command is not installed (incidentflow/cli.py missing?)"
        )
    return found


@functools.cache
def require_command(*words: str) -> None:
    """Raise Unavailable unless `incidentflow <words> --help` works."""
    done = subprocess.run(
        [cli_path(), *words, "--help"], capture_output=True, text=True, timeout=30
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise Unavailable(f"`incidentflow {' '.join(words)}` does not work yet: {tail[0]}")


@dataclass(frozen=True)
class Database:
    url: str  # SQLAlchemy URL, as INCIDENTFLOW_DATABASE_URL takes it

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


def sqlite_database(data_dir: Path) -> Database:
    return Database(f"sqlite:///{(data_dir / 'incidentflow.db').resolve()}")


def fresh_postgres_database() -> Database:
    """Drop and recreate the bench's own database (never anyone else's)."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    except psycopg.Error as exc:
        raise Unavailable(f"PostgreSQL at 127.0.0.1:5432 not usable: {exc}") from exc
    return Database(f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_BENCH_DB}")


def product_env(data_dir: Path, database: Database, public_url: str) -> dict[str, str]:
    return {
        "INCIDENTFLOW_DATA_DIR": str(data_dir),
        "INCIDENTFLOW_DATABASE_URL": database.url,
        "INCIDENTFLOW_ADMIN_TOKEN": ADMIN_TOKEN,
        "INCIDENTFLOW_PUBLIC_URL": public_url,
    }


def start_serve(
    name: str, data_dir: Path, database: Database, log_dir: Path, extra: Sequence[str] = ()
) -> servers.Server:
    require_command("serve")
    port = servers.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [cli_path(), "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
    env = product_env(data_dir, database, url)
    return servers.start(name, argv, port, log_dir, env=env, ready_path="/healthz", timeout=60)


def start_worker(
    name: str, data_dir: Path, database: Database, log_dir: Path
) -> subprocess.Popen[bytes]:
    require_command("worker")
    log = (log_dir / f"{name}.log").open("wb")
    env = {**os.environ, **product_env(data_dir, database, "http://127.0.0.1:1")}
    return subprocess.Popen(
        [cli_path(), "worker"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )


class Api:
    """The management API calls the bench needs (bearer admin token)."""

    def __init__(self, base_url: str):
        self.client = httpx.Client(
            base_url=base_url, timeout=30, headers={"authorization": f"Bearer {ADMIN_TOKEN}"}
        )

    def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        response = self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        if response.status_code in (404, 405, 501):
            raise Unavailable(
                f"{method} {path} answered {response.status_code}: not implemented yet?"
            )
        if response.is_error:
            raise Unavailable(
                f"{method} {path} answered {response.status_code}: {response.text[:300]}"
            )
        return response

    def put_canvas(self, name: str, yaml_text: str) -> None:
        self._call(
            "PUT",
            f"/api/v1/canvases/{name}",
            content=yaml_text,
            headers={"content-type": "application/yaml"},
        )

    def webhook_path(self, canvas: str, node: str) -> str:
        """The path of the node's webhook URL, from the canvas's live node metadata."""
        found = _find_key(
            self._call("GET", f"/api/v1/canvases/{canvas}").json(), "webhookUrl", node
        )
        if not found:
            raise Unavailable(f"GET /api/v1/canvases/{canvas} has no webhookUrl for node {node!r}")
        return urlsplit(found).path

    def set_secret(self, canvas: str, node: str, secret: str) -> None:
        self._call(
            "POST",
            f"/api/v1/canvases/{canvas}/nodes/{node}/hooks/setSecret",
            json={"webhookSigningSecret": secret},
        )

    def put_integration(self, name: str, base_url: str) -> None:
        body = {"type": "incident", "configuration": {"apiKey": "bench-key", "baseUrl": base_url}}
        self._call("PUT", f"/api/v1/integrations/{name}", json=body)

    def put_secret(self, name: str, value: str) -> None:
        self._call("PUT", f"/api/v1/secrets/{name}", json={"value": value})

    def start_run(self, canvas: str, node: str, payload: dict[str, object]) -> str:
        answer = self._call("POST", f"/api/v1/canvases/{canvas}/nodes/{node}/run", json=payload)
        return str(answer.json().get("runId", ""))

    def close(self) -> None:
        self.client.close()


def _find_key(document: object, key: str, node: str) -> str | None:
    """The ``key`` value inside the node object named ``node``, wherever the API nests it."""
    for candidate in _dicts(document):
        if candidate.get("name") == node:
            for inner in _dicts(candidate):
                if isinstance(inner.get(key), str):
                    return str(inner[key])
    return None


def _dicts(document: object) -> list[dict]:
    """Every mapping in ``document``, outermost first."""
    if isinstance(document, dict):
        found = [document]
        children: list[object] = list(document.values())
    elif isinstance(document, list):
        found, children = [], list(document)
    else:
        return []
    for child in children:
        found += _dicts(child)
    return found


def wait_for(predicate: object, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise Unavailable(f"timed out after {timeout:g}s waiting for {what}")
