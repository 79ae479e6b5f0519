"""Server-side commands that need no running server."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from helpers import server_process
from typer.testing import CliRunner

from incidentflow.cli import app


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(app, ["migrate", "--data-dir", str(data_dir)], env={
        "INCIDENTFLOW_DATABASE_URL": "", "INCIDENTFLOW_DATA_DIR": ""})
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stdout
    engine = sa.create_engine(f"sqlite:///{data_dir / 'incidentflow.db'}")
    try:
        assert "canvases" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_migrate_with_an_unusable_database_url_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["migrate", "--data-dir", str(tmp_path),
                                      "--database-url", "nosuchdb://x"])
    assert result.exit_code == 1
    assert "cannot prepare the database" in result.stderr
    assert "Traceback" not in result.output


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "worker", "migrate", "emulator", "apply", "run", "runs",
                    "canvases", "secret", "integrations"):
        assert command in result.stdout


def test_webhook_urls_follow_the_port_when_no_public_url_is_set(tmp_path: Path) -> None:
    with server_process(tmp_path / "data", env={"INCIDENTFLOW_PUBLIC_URL": ""}) as server:
        assert f"(webhooks: {server.url}/webhooks/" in server.log().replace("\n", "")
