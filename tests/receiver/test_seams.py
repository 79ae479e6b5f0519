"""The seams the receiver sits on: the store knows no components, the host no
integration, and a webhook trigger declares its own secret hook and checks its secret."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from incidentflow.components.base import (
    Component,
    RejectionCode,
    WebhookTrigger,
    WebhookVerdict,
    rejection_answer,
)
from incidentflow.integrations.incidentio.trigger import OnIncident
from incidentflow.registry import default_registry

PACKAGE = Path(__file__).parents[2] / "incidentflow"


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "store").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_store_imports_nothing_from_the_catalogue(path: Path) -> None:
    banned = ("incidentflow.registry", "incidentflow.components", "incidentflow.integrations")
    assert [m for m in imported_modules(path) if m.startswith(banned)] == []


def test_the_app_service_and_the_receiver_name_no_integration() -> None:
    for name in ("app_service.py", "receiver.py", "web/webhooks.py"):
        text = (PACKAGE / name).read_text(encoding="utf-8")
        for word in ("incident.io", "incidentio", "onIncident", "setSecret",
                     "webhookSigningSecret", "whsec_"):
            assert word not in text, (name, word)


def test_every_webhook_trigger_offers_the_secret_hook_it_declares() -> None:
    triggers = [c for c in default_registry().components.values()
                if isinstance(c, WebhookTrigger)]
    assert triggers
    for trigger in triggers:
        hook = next(h for h in trigger.hooks if h.name == trigger.SECRET_HOOK)
        assert [(f.name, f.kind) for f in hook.fields] == [(trigger.SECRET_PARAM, "secret")]
        assert hook.fields[0].description  # the docs and the UI explain where it comes from


def test_the_default_secret_check_is_standard_webhooks() -> None:
    class Plain(WebhookTrigger):
        type, label = "plain", "Plain"

    assert Plain().secret_problem("whsec_" + "QUJD", {}) is None
    assert Plain().secret_problem("whsec_", {}) is not None
    assert Plain().secret_problem("not-a-secret", {}) is not None
    assert "incident.io" in (OnIncident().secret_problem("nope", {}) or "")


def test_a_rejection_carries_its_code_status_and_generic_answer() -> None:
    verdict = WebhookVerdict.rejected(RejectionCode.STALE_TIMESTAMP, "timestamp too old")
    assert (verdict.status, verdict.public, verdict.code) == (403, "forbidden",
                                                              RejectionCode.STALE_TIMESTAMP)
    assert not verdict.accepted
    assert WebhookVerdict(400, "bad request").rejection_code is RejectionCode.OTHER
    assert rejection_answer(RejectionCode.NO_SECRET) == (403, "signing secret not set")


def test_every_code_has_an_answer() -> None:
    for code in RejectionCode:
        status, public = rejection_answer(code)
        assert 400 <= status < 500 and public


def test_a_component_that_is_not_a_webhook_trigger_has_no_secret_hook() -> None:
    assert not hasattr(Component, "SECRET_HOOK")
