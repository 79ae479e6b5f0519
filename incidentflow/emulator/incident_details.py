"""An incident's incident type, custom field entries and role assignments: the payload
parts checked as incident.io's OpenAPI document describes them, and turned into the
shapes an IncidentV2 carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from incidentflow.emulator import catalog
from incidentflow.emulator.problems import validation_error

SELECT_TYPES = ("single_select", "multi_select")
# CustomFieldValuePayloadV2 keys and the CustomFieldValueV2 key each fills.
VALUE_KEYS = {"value_text": "value_text", "value_link": "value_link",
              "value_numeric": "value_numeric"}


@dataclass(frozen=True)
class Organisation:
    severities: list[dict[str, Any]]
    statuses: list[dict[str, Any]]
    custom_fields: list[dict[str, Any]]
    custom_field_options: list[dict[str, Any]]
    users: list[dict[str, Any]]


@dataclass(frozen=True)
class IncidentDetails:
    incident_type: dict[str, Any]
    custom_field_entries: list[dict[str, Any]] = field(default_factory=list)
    role_assignments: list[dict[str, Any]] = field(default_factory=list)


def check_detail_payloads(payload: dict[str, Any]) -> None:
    """Shapes of ``custom_field_entries`` and ``incident_role_assignments``."""
    entries = payload.get("custom_field_entries")
    if entries is not None:
        _list_of_objects(entries, "custom_field_entries")
        for index, entry in enumerate(entries):
            where = f"custom_field_entries[{index}]"
            if not isinstance(entry.get("custom_field_id"), str):
                raise validation_error("is_required", "custom_field_id is required",
                                       f"{where}.custom_field_id")
            _list_of_objects(entry.get("values"), f"{where}.values")
    roles = payload.get("incident_role_assignments")
    if roles is not None:
        _list_of_objects(roles, "incident_role_assignments")
        for index, role in enumerate(roles):
            if not isinstance(role.get("incident_role_id"), str):
                raise validation_error("is_required", "incident_role_id is required",
                                       f"incident_role_assignments[{index}].incident_role_id")


def _list_of_objects(value: Any, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise validation_error("invalid_type", f"{where} must be a list of objects", where)


def resolve_incident_type(types: list[dict[str, Any]], type_id: str | None) -> dict[str, Any]:
    if type_id is None:
        return next(t for t in types if t.get("is_default"))
    for incident_type in types:
        if incident_type["id"] == type_id:
            return dict(incident_type)
    raise validation_error("not_found", f"No incident type exists with id {type_id!r}",
                           "incident_type_id")


def custom_field_entries(org: Organisation, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """CustomFieldEntryV2 for every entry in the payload (an empty ``values`` unsets)."""
    entries = []
    for index, entry in enumerate(payload.get("custom_field_entries") or []):
        where = f"custom_field_entries[{index}]"
        custom_field = _custom_field(org, entry["custom_field_id"], where)
        values = [_value(org, custom_field, value, f"{where}.values[{position}]")
                  for position, value in enumerate(entry["values"])]
        if values:
            entries.append({"custom_field": custom_field, "values": values})
    return entries


def _custom_field(org: Organisation, field_id: str, where: str) -> dict[str, Any]:
    for custom_field in org.custom_fields:
        if custom_field["id"] == field_id:
            options = [o for o in org.custom_field_options if o["custom_field_id"] == field_id]
            return {key: custom_field[key] for key in ("id", "name", "description",
                                                       "field_type")} | {"options": options}
    raise validation_error("not_found", f"No custom field exists with id {field_id!r}",
                           f"{where}.custom_field_id")


def _value(org: Organisation, custom_field: dict[str, Any], value: dict[str, Any],
           where: str) -> dict[str, Any]:
    if custom_field["field_type"] in SELECT_TYPES:
        option_id = value.get("value_option_id")
        for option in custom_field["options"]:
            if option["id"] == option_id:
                return {"value_option": option}
        raise validation_error(
            "not_found", f"No option {option_id!r} of custom field {custom_field['name']!r}",
            f"{where}.value_option_id")
    for key, shown in VALUE_KEYS.items():
        if isinstance(value.get(key), str):
            return {shown: value[key]}
    raise validation_error("invalid_value", f"a {custom_field['field_type']} custom field "
                           "takes value_text, value_link or value_numeric", where)


def role_assignments(users: list[dict[str, Any]], payload: dict[str, Any]) -> list[dict]:
    """IncidentRoleAssignmentV2 for the lead role; other roles are not emulated."""
    assigned: dict[str, Any] = {}
    for index, role in enumerate(payload.get("incident_role_assignments") or []):
        where = f"incident_role_assignments[{index}]"
        if role["incident_role_id"] != catalog.lead_role()["id"]:
            raise validation_error("not_found", "No incident role exists with id "
                                   f"{role['incident_role_id']!r}", f"{where}.incident_role_id")
        assigned = _user(users, role.get("assignee") or {}, f"{where}.assignee")
    lead: dict[str, Any] = {"role": catalog.lead_role()}
    if assigned:
        lead["assignee"] = assigned
    return [lead]


def _user(users: list[dict[str, Any]], reference: dict[str, Any], where: str) -> dict:
    for user in users:
        if any(reference.get(key) and reference.get(key) == user.get(key)
               for key in ("id", "email", "slack_user_id")):
            return dict(user)
    raise validation_error("not_found", "No user matches the assignee", where)
