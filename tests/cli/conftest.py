"""A live server (uvicorn on a thread, real HTTP on 127.0.0.1) for the CLI's client
commands, and the incident.io emulator next to it. One of each per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner

from incidentflow.cli import app
from incidentflow.emulator import create_emulator_app, serve_in_thread
from incidentflow.registry import default_registry
from incidentflow.settings import Settings
from incidentflow.store.sql import SqlStore
from incidentflow.web.app import create_app

ADMIN_TOKEN = "ifa_cli_test_" + "B" * 30
EMULATOR_KEY = "cli-emulator-key"


@dataclass
class Live:
    url: str
    emulator_url: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("cli") / "data"
    settings = Settings.from_env({}, data_dir=data_dir, admin_token=ADMIN_TOKEN)
    store = SqlStore(settings.database_url, default_registry())
    store.migrate()
    with serve_in_thread(create_emulator_app(api_keys=EMULATOR_KEY)) as emulator_url, \
         serve_in_thread(create_app(settings, store=store)) as url:
        yield Live(url, emulator_url, {"INCIDENTFLOW_URL": url,
                                       "INCIDENTFLOW_TOKEN": ADMIN_TOKEN})
    store.close()


@pytest.fixture
def invoke(live: Live) -> Any:
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:
        return runner.invoke(app, list(args), input=input, env={**live.env, **(env or {})})

    return run
