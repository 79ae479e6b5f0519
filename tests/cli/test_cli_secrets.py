"""``incidentflow secrets set|list|delete`` against a live server (real HTTP)."""

from __future__ import annotations

import json
from typing import Any

from .conftest import Live

try:
    from _logscan import known_secret
except ImportError:  # pragma: no cover
    def known_secret(value: str) -> None:
        pass

VALUE = "cli-secret-value-Kp42"


def test_set_from_stdin_list_and_delete(invoke: Any, live: Live) -> None:
    known_secret(VALUE)
    stored = invoke("secrets", "set", "CLI_TOKEN", "--value-stdin", input=VALUE + "\n")
    assert stored.exit_code == 0, stored.output
    assert "secret CLI_TOKEN stored" in stored.stdout and VALUE not in stored.output
    assert "{{ secrets.CLI_TOKEN }}" in stored.stdout

    listed = invoke("secrets", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [item] = [s for s in json.loads(listed.stdout) if s["name"] == "CLI_TOKEN"]
    assert set(item) == {"name", "createdAt", "updatedAt"}
    table = invoke("secrets", "list")
    assert "CLI_TOKEN" in table.stdout and VALUE not in table.stdout

    deleted = invoke("secrets", "delete", "CLI_TOKEN")
    assert deleted.exit_code == 0 and "secret CLI_TOKEN deleted" in deleted.stdout
    names = [s["name"] for s in json.loads(invoke("secrets", "list", "--json").stdout)]
    assert "CLI_TOKEN" not in names


def test_the_hidden_prompt_asks_twice(invoke: Any) -> None:
    value = "prompted-value-Qx77"
    known_secret(value)
    stored = invoke("secrets", "set", "PROMPTED", input=f"{value}\n{value}\n")
    assert stored.exit_code == 0, stored.output
    assert value not in stored.output  # hidden: never echoed
    assert "PROMPTED" in invoke("secrets", "list").stdout
    invoke("secrets", "delete", "PROMPTED")


def test_errors_are_sentences_with_exit_1(invoke: Any) -> None:
    bad = invoke("secrets", "set", "bad-name", "--value-stdin", input="whatever-value\n")
    assert bad.exit_code == 1
    assert "invalid secret name" in bad.output and "name: must start with a letter" in bad.output
    empty = invoke("secrets", "set", "EMPTY", "--value-stdin", input="\n")
    assert empty.exit_code == 1 and "cannot be empty" in empty.output
    missing = invoke("secrets", "delete", "NEVER_SET")
    assert missing.exit_code == 1 and "secret 'NEVER_SET' does not exist" in missing.output
