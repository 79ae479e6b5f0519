"""Incident payload validation and the IncidentV2 records the emulator keeps.

Pure functions over plain dicts: a validated payload in, an incident dict out. Rules that
the OpenAPI document states (required ``idempotency_key``/``visibility``, enums) are
enforced; so is incident.io's documented "A severity is required to open an incident".
"""

from __future__ import annotations

import re
from typing import Any

from incidentflow.emulator import catalog
from incidentflow.emulator.incident_details import (
    IncidentDetails,
    Organisation,
    check_detail_payloads,
    custom_field_entries,
)
from incidentflow.emulator.problems import validation_error

VISIBILITIES = ("public", "private")
MODES = ("standard", "retrospective", "test", "tutorial")
EDITABLE_TEXT = ("name", "summary", "call_url")


def require_object(body: Any, what: str = "request body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise validation_error("invalid_type", f"The {what} must be a JSON object")
    return body


def _optional_string(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if value is not None and not isinstance(value, str):
        raise validation_error("invalid_type", f"{name} must be a string", name)
    return value


def _required_string(payload: dict[str, Any], name: str, message: str) -> str:
    value = _optional_string(payload, name)
    if value is None or not value.strip():
        raise validation_error("is_required", message, name)
    return value


def _choice(payload: dict[str, Any], name: str, allowed: tuple[str, ...], default: str | None):
    value = payload.get(name, default)
    if value is None:
        raise validation_error("is_required", f"{name} is required", name)
    if value not in allowed:
        listed = ", ".join(allowed)
        raise validation_error("invalid_value", f"{name} must be one of: {listed}", name)
    return value


def _lookup(items: list[dict[str, Any]], item_id: str, field: str, what: str) -> dict:
    for item in items:
        if item["id"] == item_id:
            return item
    raise validation_error("not_found", f"No {what} exists with id {item_id!r}", field)


def check_create_payload(payload: dict[str, Any], require_idempotency_key: bool = True) -> None:
    """Field-level checks for POST /v2/incidents that need no organisation data."""
    if require_idempotency_key:
        _required_string(payload, "idempotency_key", "An idempotency key is required")
    _choice(payload, "visibility", VISIBILITIES, None)
    _choice(payload, "mode", MODES, "standard")
    _required_string(payload, "name", "A name is required to open an incident")
    _optional_string(payload, "summary")
    for name in ("severity_id", "incident_status_id", "incident_type_id"):
        _optional_string(payload, name)
    check_detail_payloads(payload)


def resolve_severity(severities: list[dict[str, Any]], severity_id: str | None) -> dict:
    if not severity_id:
        raise validation_error(
            "is_required", "A severity is required to open an incident", "severity_id"
        )
    return _lookup(severities, severity_id, "severity_id", "severity")


def resolve_status(statuses: list[dict[str, Any]], status_id: str | None) -> dict:
    if status_id is None:
        return next(s for s in statuses if s["name"] == catalog.DEFAULT_STATUS_NAME)
    return _lookup(statuses, status_id, "incident_status_id", "incident status")


def slack_channel_name(number: int, name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return f"inc-{number}-{slug}" if slug else f"inc-{number}"


def build_incident(
    *,
    details: IncidentDetails,
    incident_id: str,
    number: int,
    payload: dict[str, Any],
    severity: dict[str, Any],
    status: dict[str, Any],
    creator: dict[str, Any],
    permalink: str,
    timestamp: str,
) -> dict[str, Any]:
    """A full IncidentV2 (every required field, plus the usual optional ones)."""
    incident: dict[str, Any] = {
        "id": incident_id,
        "reference": f"INC-{number}",
        "name": payload["name"],
        "permalink": permalink,
        "visibility": payload["visibility"],
        "mode": payload.get("mode", "standard"),
        "severity": dict(severity),
        "incident_status": dict(status),
        "incident_type": details.incident_type,
        "creator": creator,
        "incident_role_assignments": details.role_assignments or [{"role": catalog.lead_role()}],
        "custom_field_entries": details.custom_field_entries,
        "incident_timestamp_values": [],
        "duration_metrics": [],
        "has_debrief": False,
        "slack_team_id": catalog.SLACK_TEAM_ID,
        "slack_channel_id": "C" + incident_id[-10:],
        "slack_channel_name": slack_channel_name(number, payload["name"]),
        "created_at": timestamp,
        "updated_at": timestamp,
    }
    if payload.get("summary") is not None:
        incident["summary"] = payload["summary"]
    return incident


def check_edit_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Validate ``{incident: {...}, notify_incident_channel}``; return the inner changes."""
    if "incident" not in payload:
        raise validation_error("is_required", "incident is required", "incident")
    if not isinstance(payload.get("notify_incident_channel"), bool):
        raise validation_error(
            "is_required", "notify_incident_channel must be true or false",
            "notify_incident_channel",
        )
    changes = require_object(payload["incident"], "incident")
    for name in (*EDITABLE_TEXT, "severity_id", "incident_status_id"):
        _optional_string(changes, name)
    check_detail_payloads({"custom_field_entries": changes.get("custom_field_entries")})
    if "name" in changes and not (changes["name"] or "").strip():
        raise validation_error("is_required", "The incident name cannot be blank", "name")
    return changes


def apply_edit(incident: dict[str, Any], changes: dict[str, Any], org: Organisation) -> bool:
    """Apply only the provided fields (as incident.io does); True if anything changed.

    References are resolved before anything is written, so a rejected edit changes nothing.
    """
    updates: dict[str, Any] = {
        name: changes[name] for name in EDITABLE_TEXT if changes.get(name) is not None
    }
    if changes.get("severity_id") is not None:
        updates["severity"] = dict(resolve_severity(org.severities, changes["severity_id"]))
    if changes.get("incident_status_id") is not None:
        updates["incident_status"] = dict(
            resolve_status(org.statuses, changes["incident_status_id"]))
    if changes.get("custom_field_entries") is not None:
        updates["custom_field_entries"] = _merged_entries(
            incident["custom_field_entries"], changes["custom_field_entries"], org)
    changed = any(incident.get(name) != value for name, value in updates.items())
    incident.update(updates)
    return changed


def _merged_entries(current: list[dict[str, Any]], given: list[dict[str, Any]],
                    org: Organisation) -> list[dict[str, Any]]:
    """The fields named in an edit take their new values (an empty list unsets one);
    the others keep theirs."""
    named = {entry["custom_field_id"] for entry in given}
    kept = [entry for entry in current if entry["custom_field"]["id"] not in named]
    return kept + custom_field_entries(org, {"custom_field_entries": given})
