"""Credentials through the API: signing secrets, integrations, API tokens, canvas secrets."""

from __future__ import annotations

import sys
from typing import Any

import typer

from incidentflow.cli.app import (
    JSON_OPTION,
    api_client,
    emit,
    fail,
    integrations_app,
    out,
    secret_app,
    secrets_app,
    table,
    tokens_app,
)


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
    with api_client() as client:
        from incidentflow.components.base import WebhookTrigger as Trigger

        result = client.canvases.hook(canvas, node, Trigger.SECRET_HOOK,
                                      {Trigger.SECRET_PARAM: secret})
    message = "signing secret cleared" if clear else "signing secret stored"
    emit(as_json, result, lambda: out.print(message))


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
    with api_client() as client:
        view = client.integrations.put(name, type_, configuration)

    def render() -> None:
        status = "[green]ready[/]" if view["status"] == "ready" else f"[red]{view['status']}[/]"
        reason = f": {view['reason']}" if view.get("reason") else ""
        out.print(f"{view['name']} ({view['type']}) {status}{reason}", highlight=False)

    emit(as_json, view, render)


@integrations_app.command("list")
def integrations_list(as_json: bool = JSON_OPTION) -> None:
    """Integrations and their status (secrets are never shown)."""
    with api_client() as client:
        views = client.integrations.all()

    def render() -> None:
        grid = table("name", "type", "status", "reason")
        for v in views:
            grid.add_row(v["name"], v["type"], _state_of_integration(v["status"]), v["reason"])
        out.print(grid)

    emit(as_json, views, render)


def _state_of_integration(status: str) -> str:
    return "[green]ready[/]" if status == "ready" else f"[red]{status}[/]"


@tokens_app.command("create")
def tokens_create(name: str, as_json: bool = JSON_OPTION) -> None:
    """Create an API token; it is printed once and cannot be shown again."""
    with api_client() as client:
        created = client.tokens.create(name)

    def render() -> None:
        out.print(f"token {created['id']} ({created['name']}) created. Copy it now, "
                  "it is not shown again:", highlight=False, soft_wrap=True)
        sys.stdout.write(created["token"] + "\n")

    emit(as_json, created, render)


@tokens_app.command("list")
def tokens_list(as_json: bool = JSON_OPTION) -> None:
    """API tokens (never the tokens themselves)."""
    with api_client() as client:
        listed = client.tokens.all()

    def render() -> None:
        grid = table("id", "name", "created", "last used", "state")
        for t in listed:
            state = "[red]revoked[/]" if t["revoked"] else "[green]active[/]"
            grid.add_row(t["id"], t["name"], t["createdAt"], t.get("lastUsedAt") or "", state)
        out.print(grid)

    emit(as_json, listed, render)


@tokens_app.command("revoke")
def tokens_revoke(token_id: str, as_json: bool = JSON_OPTION) -> None:
    """Revoke an API token: refused everywhere from the next request on."""
    with api_client() as client:
        record = client.tokens.revoke(token_id)
    emit(as_json, record, lambda: out.print(f"token {record['id']} ({record['name']}) revoked",
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
    with api_client() as client:
        stored = client.secrets.put(name, value)
    emit(as_json, stored, lambda: out.print(
        f"secret {stored['name']} stored; templates read it as "
        f"{{{{ secrets.{stored['name']} }}}}", highlight=False, soft_wrap=True))


@secrets_app.command("list")
def secrets_list(as_json: bool = JSON_OPTION) -> None:
    """Secrets by name, with when each was set (values are never shown)."""
    with api_client() as client:
        listed = client.secrets.all()

    def render() -> None:
        grid = table("name", "created", "updated")
        for item in listed:
            grid.add_row(item["name"], item["createdAt"], item["updatedAt"])
        out.print(grid)

    emit(as_json, listed, render)


@secrets_app.command("delete")
def secrets_delete(name: str, as_json: bool = JSON_OPTION) -> None:
    """Delete a secret: runs whose templates read it fail until it is set again."""
    with api_client() as client:
        client.secrets.delete(name)
    emit(as_json, {"name": name, "deleted": True},
          lambda: out.print(f"secret {name} deleted", highlight=False))
