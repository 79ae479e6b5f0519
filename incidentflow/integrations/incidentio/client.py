"""A thin async client for the incident.io endpoints we use.

Thin on purpose (see docs/incidentio-sdk.md): responses are kept as the raw JSON
incident.io sent, so new fields and new enum values flow through untouched. What it
raises, and how an answer becomes an error, is in ``api_errors.py`` (re-exported here).

Retries here are few and quick (``max_attempts``, short exponential backoff, a 429's
``Retry-After`` if it is short). Longer waits are the engine's job: the client then
raises ``IncidentIOUnavailable(retry_after=...)`` and the engine reschedules the
execution, reusing its idempotency key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from incidentflow.egress import check_url, redact_url
from incidentflow.errors import PermanentError
from incidentflow.integrations.incidentio.api_errors import (
    ALERT_SOURCE_TOKEN,
    APIKeyRejected,
    IncidentIOError,
    IncidentIORejected,
    IncidentIOUnavailable,
    PermissionMissing,
    ok_body,
    unavailable,
)

__all__ = [
    "ALERT_SOURCE_TOKEN", "APIKeyRejected", "IncidentIOClient", "IncidentIOError",
    "IncidentIORejected", "IncidentIOUnavailable", "PermissionMissing",
]

DEFAULT_BASE_URL = "https://api.incident.io"
DEFAULT_TIMEOUT = 10.0
USER_AGENT = "incidentflow"

# The permission names as incident.io's API key screen shows them.
VIEW_PERMISSION = "View data, like public incidents and organisation settings"
CREATE_PERMISSION = "Create incidents"
PRIVATE_PERMISSION = "View all incident data, including private incidents"
EDIT_PERMISSION = "Edit incidents"
FOLLOW_UP_PERMISSION = "Create and manage follow-ups"
ESCALATION_PERMISSION = "Create escalations"
ALERT_PERMISSION = "Resolve alerts"

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class IncidentIOClient:
    http: httpx.AsyncClient
    api_key: str
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = 3
    backoff: float = 0.5  # first pause; doubles per attempt
    max_inline_wait: float = 5.0  # a longer Retry-After goes back to the engine
    sleep: Sleep = asyncio.sleep
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if not self.api_key or not self.api_key.strip():
            raise PermanentError("the incident.io integration has no API key")
        self.base_url = (self.base_url or DEFAULT_BASE_URL).rstrip("/")
        # A base URL the client cannot use, or the egress policy refuses, fails now:
        # permanent, so neither this client nor the engine retries it.
        check_url(self.base_url)

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any] | None, http: httpx.AsyncClient, **options: Any
    ) -> IncidentIOClient:
        """A client for an ``incident`` integration configuration (apiKey, baseUrl)."""
        if not config:
            raise PermanentError("this node needs an incident.io integration")
        base_url = config.get("baseUrl") or DEFAULT_BASE_URL
        api_key = str(config.get("apiKey") or "").strip()  # pasted keys often end in a newline
        return cls(http, api_key, str(base_url).strip(), **options)

    async def list_severities(self) -> list[dict[str, Any]]:
        """``GET /v1/severities`` (no paging): the organisation's severities, raw."""
        permission = f'"{VIEW_PERMISSION}"'
        body = await self._request("GET", "/v1/severities", permission=permission)
        severities = body.get("severities")
        if not isinstance(severities, list):
            raise IncidentIOError("incident.io answered /v1/severities without a list")
        return severities

    async def fetch_object(self, collection: str, object_id: str, key: str) -> dict[str, Any]:
        """``GET /v2/{collection}/{id}`` (incidents, follow_ups, alerts, escalations):
        the ``key`` object (incident, follow_up, ...) exactly as sent. For private
        events, whose deliveries carry only the id (triggers' first step)."""
        permission = (f'"{VIEW_PERMISSION}" (and "{PRIVATE_PERMISSION}" for private '
                      "incidents)")
        path = f"/v2/{collection}/{quote(object_id, safe='')}"
        body = await self._request("GET", path, permission=permission)
        found = body.get(key)
        if not isinstance(found, dict):
            raise IncidentIOError(f"incident.io answered {path} without a {key}")
        return found

    async def incidents_updated_since(
        self, since: datetime, page_size: int = 100, max_pages: int = 10
    ) -> list[dict[str, Any]]:
        """``GET /v2/incidents?updated_at[gte]=<day of since>``, every page up to
        ``max_pages`` (the catch-up poll of On Incident). The filter takes a day (as
        incident.io documents it); the caller compares exact ``updated_at`` values.
        Modes are asked for explicitly: the API's default leaves test incidents out,
        and the node's own filter decides."""
        found: list[dict[str, Any]] = []
        after: str | None = None
        day = since.astimezone(UTC).date().isoformat()
        for _ in range(max_pages):
            params = [("updated_at[gte]", day), ("page_size", str(page_size))]
            params += [("mode[one_of]", mode) for mode in
                       ("standard", "retrospective", "test", "tutorial")]
            if after:
                params.append(("after", after))
            body = await self._request("GET", "/v2/incidents?" + urlencode(params),
                                       permission=f'"{VIEW_PERMISSION}"')
            page = [i for i in body.get("incidents") or [] if isinstance(i, dict)]
            found += page
            meta = body.get("pagination_meta")
            after = meta.get("after") if isinstance(meta, dict) else None
            if not page or not after:
                break
        return found

    async def create_incident(
        self, payload: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """``POST /v2/incidents``; returns the ``incident`` object exactly as sent back.

        ``payload`` is incident.io's body (it must carry ``idempotency_key``); the
        keyword form (name, summary, severity_id, visibility, idempotency_key) builds
        the plain one."""
        body_out = dict(payload) if payload is not None else _plain_incident(**fields)
        permission = f'"{CREATE_PERMISSION}"'
        if body_out.get("visibility") == "private":
            permission += f' (and "{PRIVATE_PERMISSION}" for private incidents)'
        body = await self._request("POST", "/v2/incidents", body_out, permission=permission)
        incident = body.get("incident")
        if not isinstance(incident, dict):
            raise IncidentIOError("incident.io answered /v2/incidents without an incident")
        return incident

    async def get_json(
        self, path: str, *, permission: str, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """``GET path`` with quick retries; the JSON object incident.io answered."""
        return await self._request("GET", path, permission=permission, params=params)

    async def post_json(
        self, path: str, payload: Any, *, permission: str,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``POST path``. Retried only inline and by the engine: callers whose endpoint
        takes an idempotency key put it in ``payload`` so a retry is the same request."""
        return await self._request("POST", path, payload, permission=permission, params=params)

    async def get_incident(self, incident: str) -> dict[str, Any]:
        """``GET /v2/incidents/{id}``: by id, or by reference (``INC-123`` or ``123``)."""
        body = await self.get_json(
            f"/v2/incidents/{_incident_path_id(incident)}",
            permission=f'"{VIEW_PERMISSION}" (and "{PRIVATE_PERMISSION}" for private '
            "incidents)",
        )
        return _object(body, "incident", "/v2/incidents/{id}")

    async def edit_incident(
        self, incident_id: str, changes: dict[str, Any], *, notify_incident_channel: bool
    ) -> dict[str, Any]:
        """``POST /v2/incidents/{id}/actions/edit``: only the fields given change."""
        payload = {"incident": changes, "notify_incident_channel": notify_incident_channel}
        body = await self.post_json(
            f"/v2/incidents/{_incident_path_id(incident_id)}/actions/edit", payload,
            permission=f'"{EDIT_PERMISSION}"')
        return _object(body, "incident", "/v2/incidents/{id}/actions/edit")

    async def list_incidents_page(
        self, params: Mapping[str, Any]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ``GET /v2/incidents``: the incidents and the cursor of the next
        page (None on the last)."""
        body = await self.get_json("/v2/incidents", params=params,
                                   permission=f'"{VIEW_PERMISSION}"')
        incidents = body.get("incidents")
        if not isinstance(incidents, list):
            raise IncidentIOError("incident.io answered /v2/incidents without a list")
        meta = body.get("pagination_meta")
        after = meta.get("after") if isinstance(meta, dict) else None
        return incidents, (str(after) if after and incidents else None)

    async def create_follow_up(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST /v2/follow_ups``; returns the ``follow_up`` as sent back."""
        body = await self.post_json("/v2/follow_ups", payload,
                                    permission=f'"{FOLLOW_UP_PERMISSION}"')
        return _object(body, "follow_up", "/v2/follow_ups")

    async def create_escalation(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST /v2/escalations`` (the payload carries ``idempotency_key``)."""
        body = await self.post_json("/v2/escalations", payload,
                                    permission=f'"{ESCALATION_PERMISSION}"')
        return _object(body, "escalation", "/v2/escalations")

    async def send_alert_event(
        self, alert_source_config_id: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """``POST /v2/alert_events/http/{id}``. Build this client with the alert source's
        token as ``api_key`` (the endpoint takes it as a bearer token), never the API key."""
        path = f"/v2/alert_events/http/{_path_part(alert_source_config_id)}"
        return await self.post_json(path, payload, permission=ALERT_SOURCE_TOKEN)

    async def resolve_alert(self, alert_id: str) -> dict[str, Any]:
        """``POST /v2/alerts/{id}/actions/resolve``; returns the ``alert``."""
        path = f"/v2/alerts/{_path_part(alert_id)}/actions/resolve"
        body = await self.post_json(path, None, permission=f'"{ALERT_PERMISSION}"')
        return _object(body, "alert", "/v2/alerts/{id}/actions/resolve")

    async def _request(
        self, method: str, path: str, json: Any = None, *, permission: str,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        attempt = 1
        while True:
            try:
                response = await self._send(method, path, json, params)
            except IncidentIOUnavailable as exc:
                wait = self._inline_wait(attempt, exc.retry_after)
                if wait is None:
                    raise
                await self.sleep(wait)
                attempt += 1
                continue
            return ok_body(response, permission)

    async def _send(
        self, method: str, path: str, json: Any, params: Mapping[str, Any] | None = None
    ) -> httpx.Response:
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {self.api_key}", "User-Agent": USER_AGENT}
        try:
            response = await self.http.request(
                method, url, json=json, params=params, headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException as exc:
            raise IncidentIOUnavailable(f"incident.io did not answer {path} in time") from exc
        except httpx.TransportError as exc:
            raise IncidentIOUnavailable(
                f"incident.io unreachable at {redact_url(url)}: {exc!r}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise unavailable(response, self.clock())
        return response

    def _inline_wait(self, attempt: int, retry_after: float | None) -> float | None:
        """How long to pause before retrying here, or None to hand over to the engine."""
        if attempt >= self.max_attempts:
            return None
        wait = retry_after if retry_after is not None else self.backoff * 2 ** (attempt - 1)
        return wait if wait <= self.max_inline_wait else None


def _object(body: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    found = body.get(key)
    if not isinstance(found, dict):
        raise IncidentIOError(f"incident.io answered {path} without a {key}")
    return found


def _path_part(value: str) -> str:
    """An id as one path segment: a value with a slash or dot segment cannot reach
    another endpoint (it is user input after expressions)."""
    text = str(value).strip()
    if not text or "/" in text or "?" in text or "#" in text or text in (".", ".."):
        raise PermanentError(f"{text!r} is not an incident.io id")
    return text


def reference_number(incident: str) -> str | None:
    """The number of an incident reference (``INC-123`` or ``123`` -> ``123``); None for
    anything else, such as an incident's id."""
    text = str(incident).strip()
    prefix, dash, number = text.rpartition("-")
    if text.isdigit():
        return text
    return number if dash and number.isdigit() and prefix.isalpha() else None


def _incident_path_id(incident: str) -> str:
    """incident.io takes an incident's id or the number of its reference: INC-123 -> 123."""
    return reference_number(incident) or _path_part(str(incident))


def _plain_incident(
    *, name: str, summary: str | None, severity_id: str, visibility: str,
    idempotency_key: str,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"idempotency_key": idempotency_key, "name": name,
                               "severity_id": severity_id, "visibility": visibility}
    if summary:
        payload["summary"] = summary
    return payload
