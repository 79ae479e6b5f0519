"""An integration's configuration as a caller sends it, checked: its type known, its
fields split into plain values and secrets (unknown fields refused), required fields
present, destinations allowed by the egress policy, and secrets sent again when a
destination changes (so a key is never sent somewhere new unasked). Errors are the
caller's to fix: ``InvalidInput`` (422).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from incidentflow.crypto import MASK
from incidentflow.egress import url_problem
from incidentflow.errors import InvalidInput, NotFound, Problem

if TYPE_CHECKING:
    from incidentflow.registry import Registry


def integration_type(registry: Registry, type_: str) -> Any:
    try:
        return registry.integration(type_)
    except NotFound:
        known = ", ".join(sorted(registry.integrations)) or "none"
        raise InvalidInput(
            f"unknown integration type {type_!r} (known: {known})",
            [Problem(f"unknown integration type {type_!r}", field="type")],
        ) from None


def split_config(
    integration: Any, configuration: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(plain fields, new secret values). Unknown fields are an error, not ignored."""
    by_name = {f.name: f for f in integration.fields}
    problems = [
        Problem(f"unknown field {key!r}", field=key) for key in configuration if key not in by_name
    ]
    plain: dict[str, Any] = {}
    secrets: dict[str, str] = {}
    for key, value in configuration.items():
        field = by_name.get(key)
        if field is None or value is None or value == "" or value == MASK:
            continue  # empty/masked secret means "keep what is stored"
        if field.kind == "secret":
            if not isinstance(value, str):
                problems.append(Problem("must be a string", field=key))
                continue
            secrets[key] = value
        else:
            plain[key] = value
    if problems:
        raise InvalidInput("invalid integration configuration", problems)
    return plain, secrets


def require_fields(integration: Any, plain: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
    missing = [
        Problem("is required", field=f.name)
        for f in integration.fields
        if f.required and f.name not in plain and f.name not in secrets
    ]
    if missing:
        raise InvalidInput("invalid integration configuration", missing)


def check_destinations(integration: Any, plain: Mapping[str, Any]) -> None:
    """Each destination field (e.g. baseUrl) is a URL the egress policy lets us call:
    a literal metadata address or an unusable URL is refused before anything is sent."""
    problems = []
    for name in integration.destination_fields:
        value = plain.get(name)
        if value is None:
            continue
        problem = url_problem(value) if isinstance(value, str) else "must be a URL string"
        if problem:
            problems.append(Problem(problem, field=name))
    if problems:
        raise InvalidInput("invalid integration configuration", problems)


def require_secrets_for_new_destination(
    integration: Any,
    stored: Mapping[str, Any],
    stored_secrets: Iterable[str],
    plain: Mapping[str, Any],
    secrets: Mapping[str, str],
) -> None:
    """Moving a destination field (``stored`` → ``plain``) needs every stored secret
    given again: a stored key is only ever sent where it was saved to go."""
    moved = [
        name for name in integration.destination_fields
        if _destination(integration, name, stored) != _destination(integration, name, plain)
    ]
    missing = [name for name in integration.secret_fields()
               if name in set(stored_secrets) and name not in secrets]
    if not moved or not missing:
        return
    where, again = " and ".join(moved), " and ".join(missing)
    message = (f"changing {where} needs {again} again: the stored value is only sent to "
               "the address it was saved with")
    raise InvalidInput(message, [Problem(message, field=name) for name in missing])


def _destination(integration: Any, name: str, config: Mapping[str, Any]) -> str:
    """The address a field's value points at, compared as text; empty means default."""
    default = next((f.default for f in integration.fields if f.name == name), None)
    return str(config.get(name) or default or "").strip().rstrip("/")


def field_problem(node: str | None, field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{node}.{field}: {message}" if node else message,
                        [Problem(message, node=node, field=field)])
