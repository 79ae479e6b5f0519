"""``GET /v2/incidents``: filters, order and cursor paging as the OpenAPI document describes.

Filters use incident.io's bracket syntax (``severity[one_of]=ID``). Without a ``mode``
filter, test and tutorial incidents are left out, as incident.io documents.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams

from incidentflow.emulator.problems import validation_error

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 250
SORT_ORDERS = ("created_at_newest_first", "created_at_oldest_first")
DEFAULT_MODES = ("standard", "retrospective")

# filter name -> the incident value it compares
FILTERABLE: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "mode": lambda incident: incident.get("mode"),
    "severity": lambda incident: (incident.get("severity") or {}).get("id"),
    "status": lambda incident: incident["incident_status"]["id"],
    "status_category": lambda incident: incident["incident_status"]["category"],
}


def page_size_of(query: QueryParams) -> int:
    raw = query.get("page_size", str(DEFAULT_PAGE_SIZE))
    try:
        size = int(raw)
    except ValueError:
        message = "page_size must be an integer"
        raise validation_error("invalid_type", message, "page_size") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        message = f"page_size must be between 1 and {MAX_PAGE_SIZE}"
        raise validation_error("invalid_value", message, "page_size")
    return size


# timestamp filter name -> the incident field it compares (operators gte and lte)
TIMESTAMPS = ("created_at", "updated_at")


def time_filters_of(query: QueryParams) -> list[tuple[str, str, str]]:
    """``[(field, operator, bound)]`` from ``created_at[gte]=2024-05-01`` parameters. A
    date alone bounds the whole day (lte takes its last moment)."""
    found = []
    for key, value in query.multi_items():
        name, bracket, rest = key.partition("[")
        if not bracket or name not in TIMESTAMPS:
            continue
        operator = rest.rstrip("]")
        if operator not in ("gte", "lte"):
            raise validation_error("invalid_value", f"{name} supports gte and lte", key)
        if not _is_time(value):
            raise validation_error("invalid_value",
                                   f"{name} takes a date (2024-05-01) or an RFC 3339 time", key)
        if len(value) == 10 and operator == "lte":
            value += "T23:59:59.999999Z"
        found.append((name, operator, value))
    return found


def _is_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _in_time(incident: dict[str, Any], filters: list[tuple[str, str, str]]) -> bool:
    # RFC 3339 times in UTC with a Z compare as text.
    return all(incident[name] >= bound if operator == "gte" else incident[name] <= bound
               for name, operator, bound in filters)


def filters_of(query: QueryParams) -> list[tuple[str, str, list[str]]]:
    """``[(filter, operator, values)]`` from ``name[operator]=value`` parameters."""
    found: dict[tuple[str, str], list[str]] = {}
    for key, value in query.multi_items():
        name, bracket, rest = key.partition("[")
        if not bracket or name not in FILTERABLE:
            continue
        operator = rest.rstrip("]")
        if operator not in ("one_of", "not_in"):
            raise validation_error("invalid_value", f"{name} supports one_of and not_in", key)
        found.setdefault((name, operator), []).append(value)
    if not any(name == "mode" for name, _ in found):
        found[("mode", "one_of")] = list(DEFAULT_MODES)
    return [(name, operator, values) for (name, operator), values in found.items()]


def _matches(incident: dict[str, Any], filters: list[tuple[str, str, list[str]]]) -> bool:
    for name, operator, values in filters:
        inside = FILTERABLE[name](incident) in values
        if inside != (operator == "one_of"):
            return False
    return True


def _ordered(incidents: list[dict[str, Any]], query: QueryParams) -> list[dict[str, Any]]:
    order = query.get("sort_by", SORT_ORDERS[0])
    if order not in SORT_ORDERS:
        raise validation_error("invalid_value", f"sort_by must be one of {SORT_ORDERS}", "sort_by")
    # The store keeps creation order, which is also created_at order.
    return list(reversed(incidents)) if order == SORT_ORDERS[0] else list(incidents)


def _start_after(incidents: list[dict[str, Any]], after: str | None) -> int:
    if not after:
        return 0
    for position, incident in enumerate(incidents):
        if incident["id"] == after:
            return position + 1
    raise validation_error("invalid_value", f"No incident with id {after!r} to page after", "after")


def list_page(incidents: list[dict[str, Any]], query: QueryParams) -> dict[str, Any]:
    size = page_size_of(query)
    filters = filters_of(query)
    times = time_filters_of(query)
    matching = [i for i in _ordered(incidents, query)
                if _matches(i, filters) and _in_time(i, times)]
    start = _start_after(matching, query.get("after"))
    page = matching[start : start + size]
    meta: dict[str, Any] = {"page_size": size, "total_record_count": len(matching)}
    if start + size < len(matching):
        meta["after"] = page[-1]["id"]
    return {"incidents": page, "pagination_meta": meta}
