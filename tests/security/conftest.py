"""A live stack for the security proofs, shared by the package (starting it costs
seconds): the proof emulator and ``incidentflow serve`` (SQLite) as processes, with an
integration connected, a canvas applied and its trigger's signing secret set, so the
API's paths hit real objects.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from helpers import ServerProcess, server_process
from reliability.canvases import (
    LOAD_CANVAS,
    MINOR,
    MIRROR_CANVAS,
    Webhook,
    api,
    apply_with_webhook,
    connect_incident_io,
)
from reliability.processes import Emulator, proof_emulator


@dataclass
class Stack:
    server: ServerProcess
    emulator: Emulator
    api_key: str
    webhook: Webhook  # of canvas "mirror", node "On Incident"
    sink_webhook: Webhook  # of canvas "load" (its http node points nowhere useful)

    @property
    def secrets(self) -> list[str]:
        """Every secret value this stack knows; none may ever be served back."""
        return [self.api_key, self.webhook.secret, self.sink_webhook.secret,
                self.server.token, (self.server.data_dir / "secret.key").read_text().strip()]

    def client(self, token: str | None = None) -> httpx.Client:
        return api(self.server.url, token or self.server.token)


@contextlib.contextmanager
def live_stack(work: Path) -> Iterator[Stack]:
    key = "security-key-" + secrets.token_hex(8)
    with proof_emulator(work, key) as emulator, server_process(work / "data") as server:
        with api(server.url, server.token) as client:
            connect_incident_io(client, emulator.url, key)
            mirror = apply_with_webhook(client, "mirror",
                                        MIRROR_CANVAS.replace("SEVERITY_ID", MINOR))
            load = apply_with_webhook(client, "load",
                                      LOAD_CANVAS.replace("SINK", "http://127.0.0.1:9"))
        yield Stack(server, emulator, key, mirror, load)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with live_stack(tmp_path_factory.mktemp("security")) as running:
        yield running
