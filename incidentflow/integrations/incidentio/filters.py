"""Filters of On Incident: severities, incident types, status categories and modes.

Applied to the incident before a run starts (public deliveries: in ``receive``, so the
delivery log records the delivery as filtered; private ones: in the run's first step,
once the incident is fetched). An empty selection lets everything through, except
``modes``, which defaults to incident.io's own API default: standard and retrospective
(test and tutorial incidents start nothing unless selected).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from incidentflow.components.base import FILTERED_REASON, Field, Option, RemoteCheck
from incidentflow.errors import Problem
from incidentflow.integrations.incidentio import resources

SEVERITIES, INCIDENT_TYPES = "severities", "incidentTypes"
STATUS_CATEGORIES, MODES = "statusCategories", "modes"
DEFAULT_MODES = ["standard", "retrospective"]
# incident.io's values (IncidentStatusV2.category, IncidentV2.mode in its API document).
CATEGORIES = ("triage", "declined", "merged", "canceled", "live", "learning", "closed",
              "paused")
MODE_VALUES = ("standard", "retrospective", "test", "tutorial")
# An incident without ``mode`` (older payloads) is a standard one, incident.io's default.
ASSUMED_MODE = "standard"

FIELDS = (
    Field(SEVERITIES, "multiselect", "Only these severities", resource="severity",
          description="Severity ids of your organisation; empty: every severity."),
    Field(INCIDENT_TYPES, "multiselect", "Only these incident types",
          resource="incident_type",
          description="Incident type ids of your organisation; empty: every type."),
    Field(STATUS_CATEGORIES, "multiselect", "Only these status categories",
          options=tuple(Option(c, c.capitalize()) for c in CATEGORIES),
          description="incident.io's status categories (live is shown as Active, "
                      "learning as Post-incident); empty: every category."),
    Field(MODES, "multiselect", "Modes", default=list(DEFAULT_MODES),
          options=tuple(Option(m, m.capitalize()) for m in MODE_VALUES),
          description="Which incidents count: standard and retrospective by default, as "
                      "in incident.io's API; add test to react to test incidents."),
)


def filtered_out(config: Mapping[str, Any], incident: Mapping[str, Any]) -> str | None:
    """Why the node's filters keep ``incident`` from starting a run, or None."""
    checks = (
        (SEVERITIES, "severity", _id(incident.get("severity"))),
        (INCIDENT_TYPES, "incident type", _id(incident.get("incident_type"))),
        (STATUS_CATEGORIES, "status category", _category(incident)),
        (MODES, "mode", incident.get("mode") or ASSUMED_MODE),
    )
    for name, what, value in checks:
        wanted = _selection(config, name)
        if wanted and value not in wanted:
            return f"{FILTERED_REASON}{what} {value or 'none'!s} is not among {name}"
    return None


def _selection(config: Mapping[str, Any], name: str) -> list[str]:
    value = config.get(name)
    if value is None and name == MODES:
        return list(DEFAULT_MODES)
    return list(value) if isinstance(value, list) else []


def _id(value: Any) -> str | None:
    found = value.get("id") if isinstance(value, Mapping) else None
    return found if isinstance(found, str) else None


def _category(incident: Mapping[str, Any]) -> str | None:
    status = incident.get("incident_status")
    found = status.get("category") if isinstance(status, Mapping) else None
    return found if isinstance(found, str) else None


async def check_ids(
    node: str, config: Mapping[str, Any], integration: Mapping[str, Any] | None,
    http: httpx.AsyncClient,
) -> RemoteCheck:
    """At save: each id in ``severities`` and ``incidentTypes`` is one of the
    organisation's (an unknown id would filter out every incident). An outage or a bad
    key only warns (docs/design-rules.md, "Outage at save time")."""
    found = RemoteCheck()
    for field, resource_type, noun in ((SEVERITIES, "severity", "severity"),
                                       (INCIDENT_TYPES, "incident_type", "incident type")):
        checked = await _check_field(node, config, integration, http, field, resource_type,
                                     noun)
        found = RemoteCheck(errors=[*found.errors, *checked.errors],
                            warnings=[*found.warnings, *checked.warnings])
    return found


async def _check_field(
    node: str, config: Mapping[str, Any], integration: Mapping[str, Any] | None,
    http: httpx.AsyncClient, field: str, resource_type: str, noun: str,
) -> RemoteCheck:
    wanted = _selection(config, field)
    if not wanted or not integration:
        return RemoteCheck()
    try:  # the resources' short cache: six nodes saved together ask once
        known = {r.id: r for r in await resources.list_resources(integration, resource_type,
                                                                   http)}
    except Exception as exc:
        return RemoteCheck(warnings=[Problem(
            f"could not check the {noun} ids with incident.io: {exc}", node, field)])
    valid = ", ".join(f"{r.name} ({i})" for i, r in known.items()) or "none"
    return RemoteCheck(errors=[
        Problem(f"{noun} {value!r} does not exist in incident.io; valid: {valid}", node,
                f"{field}[{index}]")
        for index, value in enumerate(wanted) if value not in known])
