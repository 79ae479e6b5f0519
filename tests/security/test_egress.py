"""The egress policy (docs/egress.md): which addresses outgoing calls may reach.

Proved at three levels: the policy itself (defaults, INCIDENTFLOW_EGRESS_ALLOW/DENY,
URL checks); at save (a canvas or an integration naming a refused address is a 422
naming node and field); at connect (a real HTTP server on 127.0.0.1 that a refused
name never reaches, a resolver that rebinds). Plus: bad URLs fail at attempt 1, URLs
in messages and log lines carry no query string or userinfo, and moving an
integration's baseUrl needs its key again (SQLite and PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import Sink, http_sink
from starlette.testclient import TestClient

from incidentflow.components.base import ExecutionContext, Field
from incidentflow.components.http_step import HttpStep
from incidentflow.crypto import SecretBox
from incidentflow.egress import (
    ALLOW_SETTING,
    DENY_SETTING,
    EgressPolicy,
    EgressRefused,
    UnusableUrl,
    check_url,
    current_policy,
    redact_url,
    template_url_problem,
    url_problem,
)
from incidentflow.egress_transport import egress_client
from incidentflow.emulator import create_emulator_app
from incidentflow.engine.worker import Worker
from incidentflow.errors import ConfigurationError, PermanentError, RetryableError
from incidentflow.events import Event
from incidentflow.integrations.base import Integration, IntegrationStatus
from incidentflow.registry import Registry, default_registry
from incidentflow.settings import Settings
from incidentflow.web.app import create_app

DEFAULT = EgressPolicy.from_settings()
EMULATOR_KEY = "egress-emulator-key"
EMULATOR_URL = "http://emulator.test"

METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://169.254.1.1/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://METADATA.Google.Internal./computeMetadata/v1/",
    "http://metadata/computeMetadata/v1/",
    "http://metadata.goog/",
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped IPv6
    "http://2852039166/",  # 169.254.169.254 as one number
    "http://0xa9fea9fe/",  # ... in hex
    "http://169.254.43518/",  # ... in the old a.b.c form
    "http://0.0.0.0:8000/",  # "this host": loopback in disguise
]


# -- the policy ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", METADATA_URLS)
def test_link_local_and_metadata_addresses_are_refused_by_default(url: str) -> None:
    problem = url_problem(url, DEFAULT)
    assert problem is not None and problem.startswith("egress refused:")
    assert "denied by default" in problem and ALLOW_SETTING in problem  # what to change


def test_the_refusal_names_the_address_and_the_rule() -> None:
    assert url_problem("http://169.254.169.254/latest", DEFAULT) == (
        "egress refused: 169.254.169.254, which is in 169.254.0.0/16, link-local, where "
        "cloud metadata services answer: denied by default; to allow it, add it to "
        "INCIDENTFLOW_EGRESS_ALLOW")
    assert "metadata.google.internal, a cloud metadata host name" in str(
        url_problem("http://metadata.google.internal/", DEFAULT))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/", "http://localhost:9/", "http://[::1]/", "http://10.1.2.3/",
    "http://172.16.0.1/", "http://192.168.1.10/", "https://api.incident.io/v1/severities",
    "https://hooks.slack.com/services/x", "http://metadata.example.com/",
])
def test_loopback_private_and_public_addresses_stay_allowed(url: str) -> None:
    assert url_problem(url, DEFAULT) is None


def test_deny_adds_networks_and_names_to_the_defaults() -> None:
    policy = EgressPolicy.from_settings(deny="10.0.0.0/8, 192.168.1.7, .corp.example")
    assert url_problem("http://10.20.30.40/", policy) == (
        "egress refused: 10.20.30.40, which is in 10.0.0.0/8, denied by "
        "INCIDENTFLOW_EGRESS_DENY")
    assert "192.168.1.7/32" in str(url_problem("http://192.168.1.7/", policy))
    assert url_problem("http://192.168.1.8/", policy) is None
    assert "matches .corp.example" in str(url_problem("http://db.corp.example/", policy))
    assert url_problem("http://corp.example/", policy) is not None
    assert url_problem("http://notcorp.example/", policy) is None
    assert url_problem("http://169.254.169.254/", policy) is not None  # defaults stay


def test_allow_exempts_an_address_or_a_name_and_nothing_else() -> None:
    policy = EgressPolicy.from_settings(allow="169.254.169.254, metadata.google.internal",
                                        deny="169.254.169.254")
    assert url_problem("http://169.254.169.254/latest", policy) is None  # allow beats deny
    assert url_problem("http://metadata.google.internal/", policy) is None
    assert url_problem("http://169.254.1.1/", policy) is not None
    assert url_problem("http://metadata/", policy) is not None


def test_the_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DENY_SETTING, "203.0.113.0/24")
    monkeypatch.setenv(ALLOW_SETTING, "metadata")
    policy = current_policy()
    assert url_problem("http://203.0.113.9/", policy) is not None
    assert url_problem("http://metadata/", policy) is None
    monkeypatch.delenv(DENY_SETTING)
    assert url_problem("http://203.0.113.9/", current_policy()) is None


@pytest.mark.parametrize("entry", ["not a host", "10.0.0.0/33", "http://x/", "a..b"])
def test_a_bad_setting_stops_the_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    monkeypatch.setenv(DENY_SETTING, f"10.0.0.0/8,{entry}")
    with pytest.raises(ConfigurationError, match=f"{DENY_SETTING}: .*neither a CIDR"):
        egress_client(5.0)


@pytest.mark.parametrize("url, message", [
    ("file:///etc/passwd", "unsupported URL scheme file://"),
    ("ftp://files.example/x", "unsupported URL scheme ftp://"),
    ("gopher://x/", "unsupported URL scheme gopher://"),
    ("http:///etc/passwd", "has no host"),
    ("http://", "has no host"),
    ("/relative/path", "has no scheme"),
    ("http://h.example:99999/", "invalid port 99999"),
    ("http://h.example:0/", "invalid port 0"),
    ("http://h.example:abc/", "Invalid port"),
    ("http://a b.example/", "invalid host"),
])
def test_urls_the_client_cannot_use_are_refused(url: str, message: str) -> None:
    with pytest.raises(UnusableUrl, match=message):
        check_url(url, DEFAULT)


def test_a_url_template_is_checked_as_far_as_its_literal_start_goes() -> None:
    assert template_url_problem("http://169.254.169.254/{{ root.data.path }}", DEFAULT)
    assert template_url_problem("ftp://{{ root.data.host }}/", DEFAULT)
    assert template_url_problem("{{ root.data.url }}", DEFAULT) is None
    assert template_url_problem("http://{{ root.data.host }}/x", DEFAULT) is None
    assert template_url_problem("http://169.254.{{ n }}.1/", DEFAULT) is None  # run time
    assert template_url_problem("https://hooks.example/{{ root.data.id }}", DEFAULT) is None


def test_redacted_urls_keep_scheme_host_port_and_path_only() -> None:
    assert redact_url("https://user:pa55@hooks.example:8443/a/b?token=t0k#frag") == (
        "https://hooks.example:8443/a/b")
    assert redact_url("http://[::1]:9/x?q=1") == "http://[::1]:9/x"
    assert redact_url("not a url?secret=1") == "not a url"
    assert redact_url("http://u:p@h:bad/x?secret=1") == "http://h:bad/x"


# -- at save: 422 naming node and field ---------------------------------------------------


class Pager(Integration):
    """A second integration type: the key rule is the contract, not an incident.io quirk."""

    type = "pager"
    label = "Pager"
    fields = (
        Field("token", "secret", "Token", required=True),
        Field("baseUrl", "text", "Base URL", default="https://pager.example"),
        Field("team", "text", "Team"),
    )
    destination_fields = ("baseUrl",)

    async def validate(self, config: Mapping[str, Any], http: httpx.AsyncClient
                       ) -> IntegrationStatus:
        return IntegrationStatus("ready")


@pytest.fixture
def test_registry() -> Registry:
    base = default_registry()
    registry = Registry(dict(base.components), dict(base.integrations))
    registry.add_integration(Pager())
    return registry


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings.from_env(
        {}, data_dir=tmp_path / "data", database_url=database_url,
        admin_token="ifa_egress_" + "E" * 32, secret_key="egress-test-secret-key")


@pytest.fixture
def emulator_http() -> Iterator[httpx.AsyncClient]:
    emulator = create_emulator_app(api_keys=EMULATOR_KEY)
    yield httpx.AsyncClient(transport=httpx.ASGITransport(app=emulator))


@pytest.fixture
def app(settings: Settings, store: Any, test_registry: Registry,
        emulator_http: httpx.AsyncClient) -> Any:
    return create_app(settings, store=store, registry=test_registry, http=emulator_http,
                      start_workers=False)


def http_canvas(url: str, name: str = "calls") -> dict[str, Any]:
    return {"name": name,
            "nodes": [{"name": "Start", "type": "start"},
                      {"name": "Call", "type": "http", "configuration": {"url": url}}],
            "edges": [{"from": "Start", "to": "Call"}]}


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/?recursive=true",
    "http://[fd00:ec2::254]/{{ root.data.path }}",
    "file:///etc/passwd",
    "http:///etc/passwd",
    "https://h.example:70000/",
])
def test_saving_an_http_step_with_a_refused_url_is_a_422_naming_node_and_field(
    api: TestClient, url: str
) -> None:
    answer = api.put("/api/v1/canvases/calls", json=http_canvas(url))
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert (problem["node"], problem["field"]) == ("Call", "configuration.url")
    assert "egress refused" in problem["message"] or "URL" in problem["message"]
    assert api.get("/api/v1/canvases/calls").status_code == 404


def test_an_http_step_whose_host_comes_from_the_run_saves(api: TestClient) -> None:
    for url in ("{{ root.data.url }}", "http://127.0.0.1:9/hook", "https://hooks.example/x"):
        assert api.put("/api/v1/canvases/calls", json=http_canvas(url)).status_code == 200


def test_an_integration_base_url_is_checked_when_saved(api: TestClient) -> None:
    for base_url, words in [("http://169.254.169.254", "egress refused"),
                            ("http://metadata.google.internal", "egress refused"),
                            ("file:///etc/passwd", "unsupported URL scheme"),
                            ("http://", "has no host")]:
        answer = api.put("/api/v1/integrations/incident", json={
            "type": "incident", "configuration": {"apiKey": EMULATOR_KEY, "baseUrl": base_url}})
        assert answer.status_code == 422, answer.text
        [problem] = answer.json()["problems"]
        assert problem["field"] == "baseUrl" and words in problem["message"]
    assert api.get("/api/v1/integrations/incident").status_code == 404


# -- the stored key follows its base URL (SQLite and PostgreSQL) --------------------------


def put_integration(api: TestClient, name: str, type_: str, **config: str) -> httpx.Response:
    return api.put(f"/api/v1/integrations/{name}",
                   json={"type": type_, "configuration": config})


def test_moving_the_base_url_needs_the_api_key_again(api: TestClient) -> None:
    first = put_integration(api, "incident", "incident", apiKey=EMULATOR_KEY,
                            baseUrl=EMULATOR_URL)
    assert first.status_code == 200 and first.json()["status"] == "ready"

    moved = put_integration(api, "incident", "incident", baseUrl="https://attacker.example")
    assert moved.status_code == 422
    body = moved.json()
    assert "changing baseUrl needs apiKey again" in body["error"]
    assert [(p["field"], "address it was saved with" in p["message"])
            for p in body["problems"]] == [("apiKey", True)]
    assert api.get("/api/v1/integrations/incident").json()["configuration"]["baseUrl"] == (
        EMULATOR_URL)  # nothing changed

    with_key = put_integration(api, "incident", "incident", apiKey=EMULATOR_KEY,
                               baseUrl=EMULATOR_URL + "/")
    assert with_key.status_code == 200 and with_key.json()["status"] == "ready"


def test_omitting_a_custom_base_url_moves_it_to_the_default_and_needs_the_key(
    api: TestClient
) -> None:
    put_integration(api, "incident", "incident", apiKey=EMULATOR_KEY, baseUrl=EMULATOR_URL)
    assert put_integration(api, "incident", "incident").status_code == 422


def test_other_fields_change_without_the_key(api: TestClient) -> None:
    assert put_integration(api, "pager", "pager", token="pager-token-1",
                           team="sre").status_code == 200
    # The default base URL written out, a trailing slash: the same address.
    for config in ({"team": "db"}, {"team": "db", "baseUrl": "https://pager.example/"}):
        answer = put_integration(api, "pager", "pager", **config)
        assert answer.status_code == 200, answer.text
        assert answer.json()["configuration"]["token"] == {"configured": True}
    moved = put_integration(api, "pager", "pager", team="db", baseUrl="https://elsewhere.example")
    assert moved.status_code == 422 and moved.json()["problems"][0]["field"] == "token"
    assert put_integration(api, "pager", "pager", token="pager-token-1",
                           baseUrl="https://elsewhere.example").status_code == 200


def test_a_new_type_under_the_same_name_starts_from_scratch(api: TestClient) -> None:
    put_integration(api, "x", "pager", token="pager-token-1")
    answer = put_integration(api, "x", "incident", baseUrl=EMULATOR_URL)
    assert answer.status_code == 422 and answer.json()["problems"][0]["field"] == "apiKey"


# -- at connect: the resolved address is what is checked and used -------------------------


def fixed_resolver(answers: dict[str, list[str]], calls: list[str] | None = None):
    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return answers[host]
    return resolve


def policy_of(**settings: str) -> Callable[[], EgressPolicy]:
    policy = EgressPolicy.from_settings(**settings)
    return lambda: policy


@pytest.fixture
def sink() -> Iterator[Sink]:
    with http_sink() as running:
        yield running


def port_of(sink: Sink) -> int:
    return httpx.URL(sink.url).port or 80


async def test_a_name_resolving_to_a_denied_address_never_connects(sink: Sink) -> None:
    # localhost resolves (system resolver, no /etc/hosts edit) to 127.0.0.1 / ::1.
    policy = policy_of(deny="127.0.0.0/8,::1")
    async with egress_client(5.0, policy=policy) as client:
        with pytest.raises(EgressRefused, match=r"localhost resolves to (127\.0\.0\.1|::1), "
                                                r"which is in (127\.0\.0\.0/8|::1/128)"):
            await client.get(f"http://localhost:{port_of(sink)}/secret")
        with pytest.raises(EgressRefused, match="denied by INCIDENTFLOW_EGRESS_DENY"):
            await client.get(f"{sink.url}/secret")
    assert sink.requests == []


async def test_the_same_server_is_reached_when_nothing_denies_it(sink: Sink) -> None:
    async with egress_client(5.0, policy=policy_of()) as client:
        answer = await client.get(f"http://localhost:{port_of(sink)}/ok?x=1")
    assert answer.status_code == 200 and sink.requests[0]["path"] == "/ok?x=1"


async def test_allow_by_name_reaches_a_denied_range(sink: Sink) -> None:
    policy = policy_of(deny="127.0.0.0/8,::1", allow="localhost")
    async with egress_client(5.0, policy=policy) as client:
        assert (await client.get(f"http://localhost:{port_of(sink)}/")).status_code == 200


async def test_the_connection_goes_to_the_address_that_was_checked(sink: Sink) -> None:
    """rebind.test exists nowhere: reaching the sink proves the connection used the
    address our resolver answered (and checked), not a second lookup by the OS."""
    calls: list[str] = []
    resolver = fixed_resolver({"rebind.test": ["127.0.0.1"]}, calls)
    async with egress_client(5.0, policy=policy_of(), resolver=resolver) as client:
        answer = await client.get(f"http://rebind.test:{port_of(sink)}/x")
    assert answer.status_code == 200
    assert calls == ["rebind.test"]  # resolved once
    assert sink.requests[0]["headers"]["host"] == f"rebind.test:{port_of(sink)}"


async def test_every_resolved_address_is_checked(sink: Sink) -> None:
    resolver = fixed_resolver({"mixed.test": ["127.0.0.1", "169.254.169.254"]})
    async with egress_client(5.0, policy=policy_of(), resolver=resolver) as client:
        with pytest.raises(EgressRefused, match="mixed.test resolves to 169.254.169.254"):
            await client.get(f"http://mixed.test:{port_of(sink)}/")
    assert sink.requests == []


async def test_a_rebinding_answer_is_caught_on_the_next_connection(sink: Sink) -> None:
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    async with egress_client(5.0, policy=policy_of(), resolver=rebinding) as client:
        url = f"http://evil.test:{port_of(sink)}/"
        assert (await client.get(url, headers={"Connection": "close"})).status_code == 200
        with pytest.raises(EgressRefused, match="evil.test resolves to 169.254.169.254"):
            await client.get(url)
    assert len(sink.requests) == 1


# -- through the engine: permanent at attempt 1, no retries -------------------------------


def run_calls(api: TestClient, store: Any, registry: Registry, settings: Settings,
              payload: dict[str, Any], resolver: Any = None) -> dict[str, Any]:
    answer = api.post("/api/v1/canvases/calls/nodes/Start/run", json=payload)
    assert answer.status_code == 202, answer.text

    async def drain() -> None:
        options = {"resolver": resolver} if resolver else {}
        async with egress_client(5.0, policy=policy_of(), **options) as http:
            worker = Worker(store, registry, SecretBox(settings.secret_key), http, settings)
            await worker.drain()

    asyncio.run(drain())
    [execution] = api.get(f"/api/v1/runs/{answer.json()['runId']}").json()["executions"]
    return dict(execution)


@pytest.mark.parametrize("url, message", [
    ("file:///etc/passwd", "unsupported URL scheme file://"),
    ("http:///etc/passwd", "has no host"),
    ("ftp://files.example/", "unsupported URL scheme ftp://"),
    ("http://h.example:99999/", "invalid port"),
    ("http://169.254.169.254/latest/meta-data/", "egress refused: 169.254.169.254"),
])
def test_a_bad_or_refused_url_fails_at_attempt_1(
    api: TestClient, store: Any, test_registry: Registry, settings: Settings,
    url: str, message: str,
) -> None:
    assert api.put("/api/v1/canvases/calls",
                   json=http_canvas("{{ root.data.url }}")).status_code == 200
    execution = run_calls(api, store, test_registry, settings, {"url": url})
    assert (execution["state"], execution["attempts"]) == ("failed", 1)
    assert message in execution["error"]


def test_a_name_resolving_to_metadata_fails_at_attempt_1(
    api: TestClient, store: Any, test_registry: Registry, settings: Settings,
) -> None:
    assert api.put("/api/v1/canvases/calls",
                   json=http_canvas("http://internal.test/hook")).status_code == 200
    resolver = fixed_resolver({"internal.test": ["169.254.169.254"]})
    execution = run_calls(api, store, test_registry, settings, {}, resolver)
    assert (execution["state"], execution["attempts"]) == ("failed", 1)
    assert execution["error"] == (
        "egress refused: internal.test resolves to 169.254.169.254, which is in "
        "169.254.0.0/16, link-local, where cloud metadata services answer: denied by "
        "default; to allow it, add it to INCIDENTFLOW_EGRESS_ALLOW")


async def test_an_integration_whose_base_url_resolves_to_metadata_is_not_ready() -> None:
    resolver = fixed_resolver({"incident-proxy.test": ["169.254.169.254"]})
    integration = default_registry().integrations["incident"]
    async with egress_client(5.0, policy=policy_of(), resolver=resolver) as http:
        status = await integration.validate(
            {"apiKey": "some-api-key", "baseUrl": "http://incident-proxy.test"}, http)
    assert status.status == "error"
    assert "egress refused: incident-proxy.test resolves to 169.254.169.254" in status.reason


# -- messages and log lines: no query string, no userinfo ---------------------------------


def step_context(config: dict[str, Any], handler: Any) -> ExecutionContext:
    return ExecutionContext(
        canvas="c", node="Call", run_id="r", execution_id="e", idempotency_key="if-e",
        attempt=1, input=Event(type="start.manual", data={}), config=config,
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        now=datetime(2026, 1, 19, tzinfo=UTC))


async def test_the_http_step_never_logs_or_stores_a_query_or_userinfo(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "https://bot:pa55w0rd-egress@hooks.example/notify?token=q-token-egress&x=1"
    ctx = step_context({"url": url}, lambda request: httpx.Response(503))
    with caplog.at_level(logging.INFO, logger="httpx"), pytest.raises(RetryableError) as failed:
        await HttpStep().execute(ctx)
    assert str(failed.value) == "POST https://hooks.example/notify answered 503"
    lines = "\n".join(r.getMessage() for r in caplog.records)
    assert "hooks.example/notify" in lines  # httpx's request line is there ...
    assert "q-token-egress" not in lines and "pa55w0rd-egress" not in lines  # ... redacted


async def test_a_network_error_message_carries_no_query() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    ctx = step_context({"url": "https://h.example/p?api_key=k-egress"}, refuse)
    with pytest.raises(RetryableError) as failed:
        await HttpStep().execute(ctx)
    assert "k-egress" not in str(failed.value) and "https://h.example/p" in str(failed.value)


async def test_a_refused_url_in_the_step_is_permanent() -> None:
    sent: list[httpx.Request] = []
    ctx = step_context({"url": "http://metadata/computeMetadata/v1/?q=1"},
                          lambda request: sent.append(request) or httpx.Response(200))
    with pytest.raises(PermanentError, match="egress refused: metadata"):
        await HttpStep().execute(ctx)
    assert sent == []
