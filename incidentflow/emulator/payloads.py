"""Request bodies checked against the OpenAPI document's rules: required fields, types
and enums, each refusal a 422 naming the field (incident.io's error format)."""

from __future__ import annotations

from typing import Any

from incidentflow.emulator.problems import validation_error


def required_text(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise validation_error("is_required", f"{name} is required", name)
    return value


def optional_text(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise validation_error("invalid_type", f"{name} must be a string", name)
    return value


def choice(payload: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = payload.get(name)
    if value not in allowed:
        raise validation_error(
            "invalid_value" if value is not None else "is_required",
            f"{name} must be one of: {', '.join(allowed)}", name)
    return str(value)


def optional_list_of_text(payload: dict[str, Any], name: str) -> list[str]:
    value = payload.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise validation_error("invalid_type", f"{name} must be a list of strings", name)
    return value


def optional_object(payload: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, dict):
        raise validation_error("invalid_type", f"{name} must be an object", name)
    return value


def lookup(items: list[dict[str, Any]], item_id: str, field: str, what: str) -> dict:
    for item in items:
        if item["id"] == item_id:
            return item
    raise validation_error("not_found", f"No {what} exists with id {item_id!r}", field)
