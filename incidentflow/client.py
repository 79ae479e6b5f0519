"""A small synchronous client of the management API (used by the CLI and tests), a
room per resource: ``ApiClient(...).canvases.apply(...)``, ``.runs.replay(...)``, ...

Every failure is an :class:`ApiError` carrying the API's message and problems, so
callers print a sentence instead of a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"


class ApiError(Exception):
    def __init__(self, message: str, status: int | None = None,
                 problems: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status, self.problems = status, problems or []


def default_token(env: dict[str, str] | None = None) -> str | None:
    """INCIDENTFLOW_TOKEN, else the admin token file of the data directory."""
    env = dict(os.environ) if env is None else env
    if env.get("INCIDENTFLOW_TOKEN"):
        return env["INCIDENTFLOW_TOKEN"]
    path = Path(env.get("INCIDENTFLOW_DATA_DIR") or ".incidentflow") / "admin.token"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def _segment(value: str) -> str:
    return quote(value, safe="")


class ApiClient:
    """The connection (base URL, bearer token, errors as :class:`ApiError`) and a room
    per resource: ``canvases``, ``runs``, ``approvals``, ``tokens``, ``secrets``,
    ``integrations``."""

    def __init__(self, url: str | None = None, token: str | None = None,
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None):
        self.url = (url or os.environ.get("INCIDENTFLOW_URL") or DEFAULT_URL).rstrip("/")
        token = token or default_token()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout,
                                  transport=transport)
        self.canvases = CanvasesClient(self)
        self.runs = RunsClient(self)
        self.approvals = ApprovalsClient(self)
        self.tokens = TokensClient(self)
        self.secrets = SecretsClient(self)
        self.integrations = IntegrationsClient(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, f"/api/v1{path}", **kwargs)
        except httpx.TransportError as exc:
            raise ApiError(f"cannot reach {self.url}: {exc}") from exc
        if response.is_error:
            raise _error_of(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


class _Room:
    def __init__(self, api: ApiClient):
        self.request = api.request


class CanvasesClient(_Room):
    """Canvases, their nodes (run, hooks, rate limit), pause / resume, delivery logs."""

    def apply(self, name: str, text: str, content_type: str = "application/yaml") -> Any:
        return self.request("PUT", f"/canvases/{_segment(name)}", content=text.encode(),
                            headers={"Content-Type": content_type})

    def all(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/canvases")["canvases"])

    def get(self, name: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/canvases/{_segment(name)}"))

    def run(self, canvas: str, node: str, payload: Any) -> str:
        answer = self.request("POST", f"/canvases/{_segment(canvas)}/nodes/{_segment(node)}/run",
                              json=payload)
        return str(answer["runId"])

    def hook(self, canvas: str, node: str, hook: str, params: dict[str, Any]) -> Any:
        path = f"/canvases/{_segment(canvas)}/nodes/{_segment(node)}/hooks/{_segment(hook)}"
        return self.request("POST", path, json=params)

    def resume_node(self, canvas: str, node: str, held: str) -> dict[str, Any]:
        """Untrip a rate-limited node; ``held``: "release" or "discard"."""
        path = f"/canvases/{_segment(canvas)}/nodes/{_segment(node)}/resume"
        return dict(self.request("POST", path, json={"held": held}))

    def pause(self, canvas: str) -> dict[str, Any]:
        return dict(self.request("POST", f"/canvases/{_segment(canvas)}/pause"))

    def resume(self, canvas: str, pending: str | None = None) -> dict[str, Any]:
        """``pending``: "run" or "discard" what arrived while paused (None: nothing did)."""
        body = {"pending": pending} if pending is not None else {}
        return dict(self.request("POST", f"/canvases/{_segment(canvas)}/resume", json=body))

    def deliveries(self, canvas: str, node: str, limit: int = 50) -> list[dict[str, Any]]:
        path = f"/canvases/{_segment(canvas)}/nodes/{_segment(node)}/deliveries"
        return list(self.request("GET", path, params={"limit": limit})["deliveries"])


class RunsClient(_Room):
    """Runs: one, a canvas's (filtered, paged), replay (one or many), retry."""

    def page(self, canvas: str, limit: int = 50, **filters: str | None) -> dict[str, Any]:
        """``{runs, total, nextBefore}``; filters: state, node, since, until, before."""
        params: dict[str, Any] = {"limit": limit}
        params.update({k: v for k, v in filters.items() if v})
        return dict(self.request("GET", f"/canvases/{_segment(canvas)}/runs", params=params))

    def recent(self, canvas: str, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.page(canvas, limit)["runs"])

    def get(self, run_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/runs/{_segment(run_id)}"))

    def replay(self, run_id: str) -> str:
        return str(self.request("POST", f"/runs/{_segment(run_id)}/replay")["runId"])

    def replay_many(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /runs/replay``: ``{canvas, ids}`` or ``{canvas, state, since, ...}``."""
        return dict(self.request("POST", "/runs/replay", json=body))

    def retry(self, run_id: str, execution_id: str) -> dict[str, Any]:
        path = f"/runs/{_segment(run_id)}/executions/{_segment(execution_id)}/retry"
        return dict(self.request("POST", path))


class ApprovalsClient(_Room):
    """Approvals and cancelling waiting runs."""

    def decide(self, run_id: str, node: str, decision: str,
               comment: str | None = None) -> dict[str, Any]:
        """``decision``: "approve" or "reject"."""
        path = f"/runs/{_segment(run_id)}/approvals/{_segment(node)}"
        return dict(self.request("POST", path,
                                 json={"decision": decision, "comment": comment}))

    def waiting(self) -> list[dict[str, Any]]:
        """Approvals waiting for the caller."""
        return list(self.request("GET", "/approvals")["approvals"])

    def cancel(self, run_id: str) -> dict[str, Any]:
        return dict(self.request("POST", f"/runs/{_segment(run_id)}/cancel"))


class TokensClient(_Room):
    """API tokens."""

    def create(self, name: str) -> dict[str, Any]:
        """The new token's metadata plus ``token``, the only time it is shown."""
        return dict(self.request("POST", "/tokens", json={"name": name}))

    def all(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/tokens")["tokens"])

    def revoke(self, token_id: str) -> dict[str, Any]:
        return dict(self.request("DELETE", f"/tokens/{_segment(token_id)}"))


class SecretsClient(_Room):
    """Secrets for canvases: values go in, never come out."""

    def put(self, name: str, value: str) -> dict[str, Any]:
        return dict(self.request("PUT", f"/secrets/{_segment(name)}", json={"value": value}))

    def all(self) -> list[dict[str, Any]]:
        """Names and dates; values are never returned."""
        return list(self.request("GET", "/secrets")["secrets"])

    def delete(self, name: str) -> None:
        self.request("DELETE", f"/secrets/{_segment(name)}")


class IntegrationsClient(_Room):
    def put(self, name: str, type_: str, configuration: dict[str, Any]) -> Any:
        return self.request("PUT", f"/integrations/{_segment(name)}",
                            json={"type": type_, "configuration": configuration})

    def all(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/integrations")["integrations"])


def _error_of(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        return ApiError(str(body["error"]), response.status_code, body.get("problems"))
    return ApiError(f"HTTP {response.status_code}: {response.text[:200]}", response.status_code)
