"""JSON log lines: one object per line, extra fields kept, secrets always masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from incidentflow.cli import server as cli_server
from incidentflow.crypto import MASK
from incidentflow.log_setup import JsonFormatter, SecretMaskingFilter, register_secret


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("incidentflow.engine", logging.WARNING, __file__, 1, message, args,
                            None)
    rec.__dict__.update(extra)
    return rec


def line(rec: logging.LogRecord) -> dict:
    SecretMaskingFilter().filter(rec)
    text = JsonFormatter().format(rec)
    assert "\n" not in text
    return json.loads(text)


def test_a_line_has_the_standard_fields_and_the_extras():
    entry = line(record("execution %s failed", "e1", canvas="c", node="Open", run_id="r1",
                        execution_id="e1", endpoint_id="ep", outcome="failed", attempt=2))
    assert entry["level"] == "WARNING" and entry["logger"] == "incidentflow.engine"
    assert entry["message"] == "execution e1 failed"
    assert entry["time"].endswith("Z")
    assert {k: entry[k] for k in ("canvas", "node", "run_id", "execution_id", "endpoint_id",
                                  "outcome", "attempt")} == {
        "canvas": "c", "node": "Open", "run_id": "r1", "execution_id": "e1",
        "endpoint_id": "ep", "outcome": "failed", "attempt": 2}
    assert "args" not in entry and "msg" not in entry


def test_secrets_are_masked_in_message_extras_and_exceptions():
    register_secret("registered-secret-value")
    api_token = "ift_" + "Z" * 43
    try:
        raise RuntimeError(f"boom with {api_token}")
    except RuntimeError:
        import sys

        rec = record("key %s and whsec_abcdefgh", "registered-secret-value",
                     header="Bearer abc.def", token=api_token)
        rec.exc_info = sys.exc_info()
    text = json.dumps(line(rec))
    for secret in ("registered-secret-value", api_token, "whsec_abcdefgh", "abc.def"):
        assert secret not in text
    assert json.dumps(MASK)[1:-1] in text


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize(("flag", "env"), [(True, {}), (False, {"INCIDENTFLOW_LOG_JSON": "1"})])
def test_log_json_flag_or_env_switches_the_format(tmp_path: Path, root_logging, monkeypatch,
                                                  flag, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = cli_server.settings_from_env(flag, data_dir=tmp_path)
    assert settings.log_json
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_incidentflow", False)]
    assert ours and all(isinstance(h.formatter, JsonFormatter) for h in ours)
