"""The ``http`` step: call any HTTP endpoint and route on the outcome.

Outcome → what happens:

    2xx                          emit on ``success``
    other statuses (4xx, 3xx)    emit on ``failure`` (a normal branch, not an error)
    429, 5xx                     RetryableError (Retry-After honoured: seconds or date)
    timeouts, network errors     RetryableError
    bad configuration            PermanentError (retrying cannot help)
    unusable or refused URL      PermanentError, at attempt 1 (the egress policy,
                                 docs/egress.md; literal URLs are refused at save)

Every request carries ``Idempotency-Key: <ctx.idempotency_key>``; the key is stable
across attempts of one execution, so a receiver can drop the duplicates our retries
produce. Messages (stored, shown and logged) name the URL as scheme://host/path only:
its query string or userinfo may carry a token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx

from incidentflow.components.base import (
    Component,
    Emission,
    ExecutionContext,
    Field,
    Option,
)
from incidentflow.components.retry_after import parse_retry_after
from incidentflow.egress import check_url, redact_url, template_url_problem
from incidentflow.errors import PermanentError, Problem, RetryableError
from incidentflow.events import Event, iso

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 300.0
RESPONSE_EVENT = "http.response"
# Bodies quoted in error details are cut short: they end up on the run page.
DETAIL_BODY_CHARS = 500


class HttpStep(Component):
    type = "http"
    label = "HTTP Request"
    description = "Send an HTTP request; 2xx goes to success, other answers to failure."
    icon = "⇄"
    fields = (
        Field(
            "method",
            "select",
            "Method",
            default="POST",
            options=tuple(Option(m, m) for m in METHODS),
        ),
        Field("url", "template", "URL", required=True, description="http:// or https:// URL"),
        Field("headers", "object", "Headers",
              description="Header name → value; keep credentials in secrets, e.g. "
                          "Authorization: Bearer {{ secrets.PAGER_TOKEN }}"),
        Field("body", "object", "Body", description="Sent as JSON"),
        Field("timeout", "number", "Timeout (seconds)", default=DEFAULT_TIMEOUT),
    )
    channels = ("success", "failure")
    example_output: ClassVar[dict[str, Any] | None] = {
        "type": RESPONSE_EVENT,
        "timestamp": "2026-01-19T12:00:00Z",
        "data": {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "body": {"ok": True},
        },
    }

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        problems = []
        url = config.get("url")
        url_problem = template_url_problem(url) if isinstance(url, str) else None
        if url_problem:
            problems.append(Problem(url_problem, node, "url"))
        method = config.get("method", "POST")
        if str(method).upper() not in METHODS:
            problems.append(Problem(f"method must be one of {', '.join(METHODS)}", node, "method"))
        try:
            _timeout(config)
        except PermanentError as exc:
            problems.append(Problem(str(exc), node, "timeout"))
        headers = config.get("headers")
        if headers is not None and not isinstance(headers, dict):
            problems.append(Problem("must be an object of name → value", node, "headers"))
        return problems

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        request = _build_request(ctx)
        try:
            response = await ctx.http.send(request)
        except httpx.TimeoutException as exc:
            raise RetryableError(f"{request.method} {redact_url(request.url)} timed out") from exc
        except httpx.TransportError as exc:
            raise RetryableError(
                f"{request.method} {redact_url(request.url)} failed: {exc!r}") from exc
        _raise_if_retryable(request, response, ctx)
        channel = "success" if response.is_success else "failure"
        event = Event(type=RESPONSE_EVENT, data=_response_data(response), timestamp=iso(ctx.now))
        return [Emission(event, channel)]


def _build_request(ctx: ExecutionContext) -> httpx.Request:
    config = ctx.config
    method = str(config.get("method") or "POST").upper()
    if method not in METHODS:
        raise PermanentError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    url = config.get("url")
    if not isinstance(url, str) or not url.strip():
        raise PermanentError("url resolved to an empty value")
    check_url(url)  # UnusableUrl / EgressRefused: permanent, so attempt 1 is the last
    headers = _headers(config.get("headers"), ctx.idempotency_key)
    timeout = _timeout(config)
    try:
        return ctx.http.build_request(
            method,
            url.strip(),
            headers=headers,
            json=config.get("body"),
            timeout=timeout,
        )
    except httpx.InvalidURL as exc:
        raise PermanentError(f"invalid URL {redact_url(url)}: {exc}") from exc


def _headers(raw: Any, idempotency_key: str) -> dict[str, str]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise PermanentError("headers must be an object of name → value")
    headers = {str(k): _header_value(v) for k, v in raw.items()}
    # A key the user set on purpose wins; otherwise ours lets receivers dedupe retries.
    if not any(k.lower() == "idempotency-key" for k in headers):
        headers["Idempotency-Key"] = idempotency_key
    return headers


def _header_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def _timeout(config: Mapping[str, Any]) -> float:
    raw = config.get("timeout")
    if raw is None or raw == "":
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise PermanentError(f"timeout must be a number of seconds, got {raw!r}") from None
    if not 0 < value <= MAX_TIMEOUT:
        raise PermanentError(f"timeout must be between 0 and {MAX_TIMEOUT:g} seconds")
    return value


def _raise_if_retryable(
    request: httpx.Request, response: httpx.Response, ctx: ExecutionContext
) -> None:
    status = response.status_code
    if status != 429 and status < 500:
        return
    details = {"status": status, "body": response.text[:DETAIL_BODY_CHARS]}
    raise RetryableError(
        f"{request.method} {redact_url(request.url)} answered {status}",
        details=details,
        retry_after=parse_retry_after(response.headers.get("retry-after"), ctx.now),
    )


def _response_data(response: httpx.Response) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "headers": dict(response.headers.items()),
        "body": _body(response),
    }


def _body(response: httpx.Response) -> Any:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = content_type == "application/json" or content_type.endswith("+json")
    if is_json and response.content:
        try:
            return response.json()
        except ValueError:
            pass  # a server that lies about its content type: keep the text
    return response.text
