"""What the incident.io actions share: reading resolved fields, emitting, turning
custom field values into incident.io's entries, and the save-time check of every id a
node names (a severity, a status, a custom field, a user, ...).

The check at save asks incident.io for the lists (through the short cache of
``resources``), so saving six nodes that name one severity sends one request; an
unreachable incident.io only warns (docs/design-rules.md, "Outage at save time").
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from incidentflow.components.base import (
    Component,
    Emission,
    ExecutionContext,
    Field,
    Option,
    RemoteCheck,
)
from incidentflow.errors import PermanentError, Problem
from incidentflow.events import Event, iso
from incidentflow.integrations.incidentio import resources
from incidentflow.integrations.incidentio.client import (
    IncidentIOClient,
    Sleep,
    reference_number,
)

INCIDENT_EVENT = "incident.incident"
VALID_LISTED = 10  # ids named in an "unknown id" message
_EXPRESSION = re.compile(r"{{|{%")


def incident_field(description: str = "", *, required: bool = True) -> Field:
    return Field(
        "incident", "template", "Incident", required=required,
        description=description or "The incident's id, or its reference such as INC-123 "
        "(supports expressions, e.g. {{ root.data.incident.id }})",
    )


def notify_field() -> Field:
    return Field("notifyIncidentChannel", "boolean", "Notify the incident channel",
                 default=False,
                 description="Post the change in the incident's Slack channel")


def custom_fields_field() -> Field:
    return Field(
        "customFields", "object", "Custom fields", resource="custom_field",
        description="{custom field id: value}; a select field takes an option's id or "
        "name, a multi-select a list; an empty value unsets the field (expressions in "
        "every value)",
    )


def mode_options() -> tuple[Option, ...]:
    return (Option("standard", "Standard"), Option("retrospective", "Retrospective"),
            Option("test", "Test (for dry runs)"), Option("tutorial", "Tutorial"))


def text(value: Any) -> str:
    """A rendered field as trimmed text (a whole-field expression may yield a number)."""
    return "" if value is None else str(value).strip()


def required_text(config: Mapping[str, Any], name: str, label: str) -> str:
    value = text(config.get(name))
    if not value:
        raise PermanentError(
            f"{name} resolved to an empty string: check the expression in the {label} field")
    return value


def client_for(ctx: ExecutionContext, sleep: Sleep) -> IncidentIOClient:
    return IncidentIOClient.from_config(ctx.integration, ctx.http, sleep=sleep)


def emit(ctx: ExecutionContext, event_type: str, data: dict[str, Any]) -> list[Emission]:
    """One event with ``data`` whole, as incident.io returned it (a contract)."""
    return [Emission(Event(type=event_type, data=data, timestamp=iso(ctx.now)))]


def id_of(event: Event) -> str | None:
    found = event.data.get("id") if isinstance(event.data, dict) else None
    return found if isinstance(found, str) and found else None


async def incident_id(client: IncidentIOClient, incident: str) -> str:
    """A reference (``INC-123``) turned into the incident's id, which the follow-up
    and escalation payloads need; an id is used as given."""
    if reference_number(incident) is not None:
        return str((await client.get_incident(incident))["id"])
    return incident


# -- custom fields ----------------------------------------------------------------------


async def custom_field_entries(
    ctx: ExecutionContext, values: Any
) -> list[dict[str, Any]] | None:
    """``{field id: value}`` as incident.io's ``custom_field_entries``; None when empty."""
    if values in (None, "", {}):
        return None
    if not isinstance(values, dict):
        raise PermanentError("customFields must be an object {custom field id: value}")
    fields = await resources.list_raw(ctx.integration, "custom_field", ctx.http)
    by_id = {f.get("id"): f for f in fields}
    entries = []
    for field_id, value in values.items():
        field = by_id.get(field_id)
        if field is None:
            raise PermanentError(f"customFields.{field_id}: no such custom field in incident.io")
        entries.append({"custom_field_id": field_id,
                        "values": _field_values(field, value, f"customFields.{field_id}")})
    return entries


def _field_values(field: Mapping[str, Any], value: Any, where: str) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    items = [item for item in items if text(item)]
    kind = field.get("field_type")
    if kind in resources.SELECT_FIELD_TYPES:
        return [{"value_option_id": _option_id(field, text(item), where)} for item in items]
    key = {"numeric": "value_numeric", "link": "value_link"}.get(str(kind), "value_text")
    if field.get("catalog_type_id"):
        key = "value_catalog_entry_id"
    return [{key: text(item)} for item in items]


def _option_id(field: Mapping[str, Any], value: str, where: str) -> str:
    for option in field.get("options") or []:
        if value in (option.get("id"), option.get("value")):
            return str(option["id"])
    names = ", ".join(str(o.get("value")) for o in field.get("options") or []) or "none"
    raise PermanentError(f"{where}: {value!r} is not an option of {field.get('name')!r}; "
                         f"options: {names}")


# -- save-time checks -------------------------------------------------------------------


def named_ids(field: Field, value: Any) -> Iterator[tuple[str, str]]:
    """(field path, id) for every literal id a resource field names; expressions are
    left for run time."""
    if isinstance(value, str) and value.strip() and not _EXPRESSION.search(value):
        yield field.name, value.strip()
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip() and not _EXPRESSION.search(item):
                yield f"{field.name}[{index}]", item.strip()
    elif isinstance(value, dict):
        for key in value:
            yield f"{field.name}.{key}", str(key)


async def check_named_resources(
    component: Component,
    node: str,
    config: Mapping[str, Any],
    integration: Mapping[str, Any] | None,
    http: httpx.AsyncClient,
) -> RemoteCheck:
    """Every literal id in a field with a ``resource`` must exist in incident.io."""
    if not integration:
        return RemoteCheck()  # the static checks already report a missing integration
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for field in component.fields:
        named = list(named_ids(field, config.get(field.name))) if field.resource else []
        if not named or field.resource is None:
            continue
        try:
            # One attempt: a save must not stall on retries.
            listed = await resources.list_raw(integration, field.resource, http, max_attempts=1)
        except Exception as exc:  # never refuse a save over an outage or a bad key
            what = field.resource.replace("_", " ")
            warnings.append(Problem(
                f"could not check the {what} with incident.io: {exc}", node, field.name))
            continue
        errors.extend(_unknown(node, field.resource, named, listed))
        if field.resource == "custom_field":
            errors.extend(_bad_options(node, config.get(field.name), listed))
    return RemoteCheck(errors=errors, warnings=warnings)


def _unknown(node: str, resource_type: str, named: list[tuple[str, str]],
             listed: list[dict[str, Any]]) -> list[Problem]:
    if resource_type == "user" and len(listed) >= resources.MAX_LISTED:
        return []  # not every user was listed: an id missing here may still exist
    known = {str(item.get("id")) for item in listed}
    what = resource_type.replace("_", " ")
    shown = ", ".join(f"{item.get('name')} ({item.get('id')})" for item in listed[:VALID_LISTED])
    if len(listed) > VALID_LISTED:
        shown += f" and {len(listed) - VALID_LISTED} more"
    return [Problem(f"{what} {value!r} does not exist in incident.io; valid: {shown or 'none'}",
                    node, path)
            for path, value in named if value not in known]


def _bad_options(node: str, values: Any, fields: list[dict[str, Any]]) -> list[Problem]:
    """A select custom field given a literal that is neither an option's id nor name."""
    if not isinstance(values, dict):
        return []
    problems = []
    by_id = {f.get("id"): f for f in fields}
    for field_id, value in values.items():
        field = by_id.get(field_id)
        if field is None or field.get("field_type") not in resources.SELECT_FIELD_TYPES:
            continue
        for path, literal in named_ids(Field(f"customFields.{field_id}", "object", ""), value):
            try:
                _option_id(field, literal, path)
            except PermanentError as exc:
                problems.append(Problem(str(exc).split(": ", 1)[1], node, path))
    return problems


class IncidentIOAction(Component):
    """Base of the incident.io actions: the integration they name, the client's pause
    between quick retries (tests inject one), every id a node names checked at save,
    and, for those that create something, the created object's id (the self-trigger
    guard records it)."""

    integration = "incident"

    def __init__(self, sleep: Sleep = asyncio.sleep) -> None:
        self._sleep = sleep

    def created_id(self, event: Event) -> str | None:
        return id_of(event)

    async def check_remote(
        self,
        node: str,
        config: Mapping[str, Any],
        integration: Mapping[str, Any] | None,
        http: httpx.AsyncClient,
    ) -> RemoteCheck:
        return await check_named_resources(self, node, config, integration, http)
