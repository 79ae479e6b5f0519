"""The organisation's values that pickers offer and saves check: severities, statuses,
incident types, custom fields (with their options), escalation paths, users and alert
sources, each listed from incident.io and cached briefly.

Why a cache: saving a canvas checks every node, and six Create Incident nodes naming
the same severity would otherwise ask incident.io six times for the same list. The
cache lives with the HTTP client the host (or a test) holds, so it ends with it, and an
entry is kept for ``TTL_SECONDS`` only: a severity added in incident.io appears in the
pickers within that time. Failures are never cached.
"""

from __future__ import annotations

import hashlib
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from incidentflow.errors import NotFound
from incidentflow.integrations.base import Resource
from incidentflow.integrations.incidentio.client import (
    VIEW_PERMISSION,
    IncidentIOClient,
    IncidentIOError,
)

TTL_SECONDS = 30.0
# Paged lists are followed this far; an organisation with more users than this gets
# the first ones in the picker and its user ids are not checked at save.
MAX_LISTED = 2000

VIEW = f'"{VIEW_PERMISSION}"'


@dataclass(frozen=True)
class Listing:
    """How to list one resource type: path, the key of the list, page size (0: no paging)."""

    path: str
    key: str
    page_size: int = 0


LISTINGS: dict[str, Listing] = {
    "severity": Listing("/v1/severities", "severities"),
    "incident_status": Listing("/v1/incident_statuses", "incident_statuses"),
    "incident_type": Listing("/v1/incident_types", "incident_types"),
    "custom_field": Listing("/v2/custom_fields", "custom_fields"),
    "escalation_path": Listing("/v2/escalation_paths", "escalation_paths", page_size=25),
    "user": Listing("/v2/users", "users", page_size=250),
    "alert_source": Listing("/v2/alert_sources", "alert_sources"),
}
RESOURCE_TYPES = tuple(LISTINGS)
SELECT_FIELD_TYPES = ("single_select", "multi_select")

_Entry = tuple[float, list[dict[str, Any]]]
_caches: weakref.WeakKeyDictionary[httpx.AsyncClient, dict[tuple[str, ...], _Entry]] = (
    weakref.WeakKeyDictionary()
)
Clock = Callable[[], float]


async def list_raw(
    config: Mapping[str, Any] | None,
    resource_type: str,
    http: httpx.AsyncClient,
    *,
    max_attempts: int = 3,
    clock: Clock = time.monotonic,
) -> list[dict[str, Any]]:
    """The objects incident.io lists for ``resource_type``, raw, from the cache when
    fresh. Raises the client's errors (nothing is cached then)."""
    listing = LISTINGS.get(resource_type)
    if listing is None:
        raise NotFound(f"incident.io has no resource type {resource_type!r}")
    client = IncidentIOClient.from_config(config, http, max_attempts=max_attempts)
    key = (client.base_url, _digest(client.api_key), resource_type)
    cache = _caches.setdefault(http, {})
    found = cache.get(key)
    if found is not None and found[0] > clock():
        return found[1]
    items = await _fetch(client, listing)
    if resource_type == "custom_field":
        items = await _with_options(client, items)
    cache[key] = (clock() + TTL_SECONDS, items)
    return items


async def list_resources(
    config: Mapping[str, Any] | None,
    resource_type: str,
    http: httpx.AsyncClient,
    query: str = "",
    *,
    max_attempts: int = 3,
) -> list[Resource]:
    """Pickers' entries; ``query`` keeps those whose name (or a user's email) contains it."""
    items = await list_raw(config, resource_type, http, max_attempts=max_attempts)
    resources = [_resource(resource_type, item) for item in items
                 if isinstance(item, dict) and item.get("id")]
    needle = query.strip().casefold()
    if needle:
        resources = [r for r in resources if needle in _searchable(r)]
    return resources


def _resource(resource_type: str, item: dict[str, Any]) -> Resource:
    details: dict[str, Any] = {}
    if resource_type == "custom_field":
        details = {"fieldType": item.get("field_type"), "options": [
            {"id": o.get("id"), "name": o.get("value")} for o in item.get("options") or []]}
    elif resource_type == "user" and item.get("email"):
        details = {"email": item["email"]}
    elif resource_type == "incident_status":
        details = {"category": item.get("category")}
    elif resource_type == "alert_source":
        details = {"sourceType": item.get("source_type")}
    name = str(item.get("name") or item["id"])
    return Resource(resource_type, str(item["id"]), name, details)


def _searchable(resource: Resource) -> str:
    return f"{resource.name} {resource.details.get('email', '')}".casefold()


async def _fetch(client: IncidentIOClient, listing: Listing) -> list[dict[str, Any]]:
    if not listing.page_size:
        return _items(await client.get_json(listing.path, permission=VIEW), listing)
    return await _all_pages(client, listing.path, listing.key, {"page_size": listing.page_size})


async def _all_pages(
    client: IncidentIOClient, path: str, key: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Follow ``pagination_meta.after`` until the last page (or ``MAX_LISTED``)."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    while len(found) < MAX_LISTED:
        page_params = {**params, **({"after": after} if after else {})}
        body = await client.get_json(path, permission=VIEW, params=page_params)
        page = _items(body, Listing(path, key))
        found.extend(page)
        meta = body.get("pagination_meta")
        after = meta.get("after") if isinstance(meta, dict) else None
        if not after or not page:
            break
    return found


async def _with_options(
    client: IncidentIOClient, fields: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Select custom fields with their options (``GET /v1/custom_field_options``), so a
    picker can offer them and an option's name can be turned into its id."""
    completed = []
    for field in fields:
        if field.get("field_type") in SELECT_FIELD_TYPES and field.get("id"):
            options = await _all_pages(
                client, "/v1/custom_field_options", "custom_field_options",
                {"custom_field_id": field["id"], "page_size": 250})
            field = {**field, "options": options}
        completed.append(field)
    return completed


def _items(body: dict[str, Any], listing: Listing) -> list[dict[str, Any]]:
    items = body.get(listing.key)
    if not isinstance(items, list):
        raise IncidentIOError(f"incident.io answered {listing.path} without a list")
    return [item for item in items if isinstance(item, dict)]


def _digest(api_key: str) -> str:
    """Keys are told apart in the cache without keeping them in it."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def forget(http: httpx.AsyncClient) -> None:
    """Drop what was cached for one client (tests, or after an integration changes)."""
    _caches.pop(http, None)

