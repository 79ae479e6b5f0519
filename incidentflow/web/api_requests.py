"""What every management API handler reads from a request: the body (bounded, UTF-8, a
JSON object), who sent it, a page limit. Shared by the API's rooms (``web/api_*.py``)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

from incidentflow.documents import json_object
from incidentflow.errors import Malformed
from incidentflow.web.webhooks import BodyTooLarge, read_limited

MAX_API_BODY_BYTES = 1024 * 1024


async def body_bytes(request: Request) -> bytes:
    try:
        return await read_limited(request, MAX_API_BODY_BYTES)
    except BodyTooLarge:
        raise HTTPException(413, f"body larger than {MAX_API_BODY_BYTES} bytes") from None


def utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body must be UTF-8 text") from None


async def body_text(request: Request) -> str:
    return utf8(await body_bytes(request))


async def json_body(request: Request) -> dict[str, Any]:
    """The body, which must be a JSON object."""
    return json_object(await body_text(request))


async def optional_json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}``."""
    text = (await body_text(request)).strip()
    return json_object(text) if text else {}


def who(request: Request) -> str:
    """The name of the API token (or "admin") the request came with."""
    return str(request.state.principal.name)


def limit_of(request: Request) -> int:
    raw = request.query_params.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise Malformed("limit must be a whole number from 1 to 500")
    return int(raw)
