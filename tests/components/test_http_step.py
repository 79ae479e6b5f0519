"""The http step against an httpx.MockTransport: request sent, channels, retries."""

from __future__ import annotations

import json

import httpx
import pytest

from incidentflow.components.http_step import HttpStep
from incidentflow.errors import PermanentError, RetryableError

STEP = HttpStep()


def recorder(response: httpx.Response):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response

    return seen, handler


async def run(context_factory, config, response=None, handler=None):
    seen, recording = recorder(response or httpx.Response(200, json={"ok": True}))
    ctx = context_factory(config, handler or recording)
    return seen, await STEP.execute(ctx)


async def test_default_method_is_post_with_json_body_headers_and_idempotency_key(
    context_factory,
):
    config = {"url": "https://hooks.example/x", "headers": {"X-Team": "sre", "X-N": 3},
              "body": {"incident": {"name": "db"}, "n": 1}}
    seen, _ = await run(context_factory, config)
    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == "https://hooks.example/x"
    assert json.loads(request.content) == {"incident": {"name": "db"}, "n": 1}
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-team"] == "sre"
    assert request.headers["x-n"] == "3"
    assert request.headers["idempotency-key"] == "if-exec-1"


async def test_user_supplied_idempotency_key_is_kept(context_factory):
    config = {"url": "https://h.example", "headers": {"idempotency-key": "mine"}}
    seen, _ = await run(context_factory, config)
    assert seen[0].headers.get_list("idempotency-key") == ["mine"]


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "get"])
async def test_each_method_is_sent(context_factory, method):
    seen, _ = await run(context_factory, {"url": "https://h.example", "method": method})
    assert seen[0].method == method.upper()


async def test_get_without_body_sends_no_content(context_factory):
    seen, _ = await run(context_factory, {"url": "https://h.example", "method": "GET"})
    assert seen[0].content == b""


async def test_timeout_is_applied_to_the_request(context_factory):
    seen, _ = await run(context_factory, {"url": "https://h.example", "timeout": 2.5})
    assert seen[0].extensions["timeout"]["read"] == 2.5


async def test_default_timeout_is_ten_seconds(context_factory):
    seen, _ = await run(context_factory, {"url": "https://h.example"})
    assert seen[0].extensions["timeout"]["connect"] == 10.0


async def test_2xx_goes_to_success_with_parsed_json(context_factory):
    response = httpx.Response(201, json={"id": 7}, headers={"X-Req": "abc"})
    _, [emission] = await run(context_factory, {"url": "https://h.example"}, response)
    assert emission.channel == "success"
    assert emission.event.type == "http.response"
    assert emission.event.timestamp == "2026-01-19T12:00:00Z"
    data = emission.event.data
    assert data["status"] == 201
    assert data["body"] == {"id": 7}
    assert data["headers"]["x-req"] == "abc"


async def test_vendor_json_content_type_is_parsed(context_factory):
    response = httpx.Response(
        200, content=b'{"a": [1]}', headers={"content-type": "application/problem+json"}
    )
    _, [emission] = await run(context_factory, {"url": "https://h.example"}, response)
    assert emission.event.data["body"] == {"a": [1]}


async def test_text_body_stays_text(context_factory):
    response = httpx.Response(200, text="plain ok")
    _, [emission] = await run(context_factory, {"url": "https://h.example"}, response)
    assert emission.event.data["body"] == "plain ok"


async def test_json_content_type_with_broken_body_falls_back_to_text(context_factory):
    response = httpx.Response(
        200, content=b"{not json", headers={"content-type": "application/json"}
    )
    _, [emission] = await run(context_factory, {"url": "https://h.example"}, response)
    assert emission.event.data["body"] == "{not json"


@pytest.mark.parametrize("status", [400, 404, 409, 422])
async def test_4xx_goes_to_failure_channel_not_an_error(context_factory, status):
    response = httpx.Response(status, json={"error": "nope"})
    _, [emission] = await run(context_factory, {"url": "https://h.example"}, response)
    assert emission.channel == "failure"
    assert emission.event.data == {
        "status": status,
        "headers": {"content-length": "16", "content-type": "application/json"},
        "body": {"error": "nope"},
    }


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_is_retryable(context_factory, status):
    with pytest.raises(RetryableError) as caught:
        await run(context_factory, {"url": "https://h.example"}, httpx.Response(status))
    assert str(status) in str(caught.value)
    assert caught.value.retry_after is None


async def test_429_honours_retry_after_seconds(context_factory):
    response = httpx.Response(429, headers={"Retry-After": "30"})
    with pytest.raises(RetryableError) as caught:
        await run(context_factory, {"url": "https://h.example"}, response)
    assert caught.value.retry_after == 30.0


async def test_429_honours_retry_after_http_date(context_factory):
    # ctx.now is 2026-01-19 12:00:00 UTC; the date is 90 s later.
    response = httpx.Response(429, headers={"Retry-After": "Mon, 19 Jan 2026 12:01:30 GMT"})
    with pytest.raises(RetryableError) as caught:
        await run(context_factory, {"url": "https://h.example"}, response)
    assert caught.value.retry_after == 90.0


async def test_timeout_is_retryable(context_factory):
    def handler(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(RetryableError, match="timed out"):
        await run(context_factory, {"url": "https://h.example"}, handler=handler)


async def test_network_error_is_retryable(context_factory):
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(RetryableError, match="failed"):
        await run(context_factory, {"url": "https://h.example"}, handler=handler)


@pytest.mark.parametrize(
    "config, message",
    [
        ({"url": ""}, "url resolved to an empty value"),
        ({"url": None}, "url resolved to an empty value"),
        ({"url": "https://h.example", "method": "TRACE"}, "method must be one of"),
        ({"url": "https://h.example", "timeout": "soon"}, "timeout must be a number"),
        ({"url": "https://h.example", "timeout": 0}, "timeout must be between"),
        ({"url": "https://h.example", "headers": ["x"]}, "headers must be an object"),
        ({"url": "ftp://h.example"}, "unsupported URL scheme"),
    ],
)
async def test_bad_configuration_fails_permanently(context_factory, config, message):
    with pytest.raises(PermanentError, match=message):
        await run(context_factory, config)


def test_static_check_names_node_and_field():
    problems = STEP.check("Call", {"url": "x", "method": "TRACE", "timeout": -1, "headers": 3})
    assert {(p.node, p.field) for p in problems} == {
        ("Call", "url"), ("Call", "method"), ("Call", "timeout"), ("Call", "headers")
    }
    assert STEP.check("Call", {"url": "https://h.example"}) == []


def test_declaration():
    assert STEP.type == "http"
    assert STEP.channels == ("success", "failure")
    assert STEP.field("url").kind == "template" and STEP.field("url").required
    assert STEP.field("method").default == "POST"
    assert [o.value for o in STEP.field("method").options] == [
        "GET", "POST", "PUT", "PATCH", "DELETE"
    ]
    assert STEP.field("timeout").default == 10.0
