"""The application service: every operation the API, the UI and the CLI share.

The store is synchronous; each call runs in a worker thread so the event loop keeps
serving webhooks while the database works. Remote calls (integration checks, resource
lists) happen outside any store call, never inside a transaction (Lesson 4).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread

from incidentflow.canvas import Canvas, Node, parse_canvas
from incidentflow.components.base import (
    Component,
    RemoteCheck,
    WebhookRequest,
    WebhookTrigger,
    WebhookVerdict,
)
from incidentflow.crypto import SecretBox
from incidentflow.errors import CanvasError, IncidentflowError, NotFound, Problem
from incidentflow.events import Event, iso, utcnow
from incidentflow.inbox import answered
from incidentflow.inputs import (
    SECRET_PARAM,
    InvalidInput,
    check_signing_secret,
    field_problem,
    integration_type,
    require_fields,
    source_text,
    split_config,
    with_name,
)
from incidentflow.logging import register_secret
from incidentflow.store.port import (
    DeliveryResult,
    Endpoint,
    IntegrationRecord,
    RunRecord,
    SavedCanvas,
)

if TYPE_CHECKING:
    import httpx

    from incidentflow.registry import Registry
    from incidentflow.settings import Settings
    from incidentflow.store.port import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

SET_SECRET_HOOK = "setSecret"
# Other processes (a second web replica) may change a secret; bound how long we trust
# a cached endpoint even without an invalidation from this process.
ENDPOINT_CACHE_SECONDS = 5.0


class UpstreamError(IncidentflowError):
    """An outside service (e.g. incident.io) failed while we asked it something."""


@dataclass(frozen=True)
class _Target:
    """What a webhook endpoint resolves to, cached for the hot path."""

    canvas: Canvas
    node: Node
    trigger: WebhookTrigger
    secrets: tuple[str, ...]
    expires: float  # monotonic: bounds staleness across replicas
    # The grace period of a rotated-out secret ends at this (clock) time, cache or not.
    secrets_valid_until: datetime | None = None

    def fresh(self, now: datetime) -> bool:
        if self.expires <= time.monotonic():
            return False
        return self.secrets_valid_until is None or now < self.secrets_valid_until


class Host:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        registry: Registry,
        box: SecretBox,
        http: httpx.AsyncClient,
        wakeup: Any = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.settings, self.store, self.registry = settings, store, registry
        self.box, self.http, self.wakeup, self.clock = box, http, wakeup, clock
        self._targets: dict[str, _Target] = {}
        self._loading: dict[str, asyncio.Future[_Target]] = {}
        self._epoch = 0  # bumped by every invalidation

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(partial(fn, *args))

    def _wake(self) -> None:
        if self.wakeup is not None:
            self.wakeup.notify()

    # -- canvases --------------------------------------------------------------
    async def apply_canvas(
        self,
        source: str | bytes | dict[str, Any],
        *,
        name: str | None = None,
        text: str | None = None,
    ) -> tuple[SavedCanvas, list[Problem]]:
        """Validate and save a canvas. ``name`` (from a URL) must match the file's
        name or fills it in; ``text`` is the source as sent, when ``source`` is its
        decoded form. Raises CanvasError with every problem."""
        text = text if text is not None else source_text(source)
        document = with_name(source, name) if name is not None else source
        # In a worker thread: reading and validating thousands of edges takes a while.
        canvas = await anyio.to_thread.run_sync(parse_canvas, document, self.registry)
        errors, warnings = await self._check_nodes(canvas)
        if errors:
            raise CanvasError(errors)
        saved = await self._db(
            self.store.save_canvas, canvas, text, [w.as_dict() for w in warnings], self.clock()
        )
        self._forget_canvas(canvas.name)
        return saved, warnings

    async def _check_nodes(self, canvas: Canvas) -> tuple[list[Problem], list[Problem]]:
        errors: list[Problem] = []
        warnings: list[Problem] = []
        for node in canvas.nodes:
            component = self.registry.component(node.type)
            try:
                integration = await self._node_integration(node, component)
            except InvalidInput as exc:
                errors.extend(exc.problems)
                continue
            check = await self._check_remote(component, node, integration)
            errors.extend(check.errors)
            warnings.extend(check.warnings)
        return errors, warnings

    async def _check_remote(
        self, component: Component, node: Node, integration: Mapping[str, Any] | None
    ) -> RemoteCheck:
        try:
            return await component.check_remote(
                node.name, node.configuration, integration, self.http
            )
        except Exception as exc:  # the contract says "must not raise"; never lose a save
            log.warning("remote check of %s failed: %s", node.name, type(exc).__name__)
            return RemoteCheck(warnings=[Problem(
                f"could not be checked against the service ({type(exc).__name__})",
                node=node.name)])

    async def _node_integration(
        self, node: Node, component: Component
    ) -> Mapping[str, Any] | None:
        if component.integration is None:
            return None
        if not node.integration:
            raise field_problem(
                node.name, "integration", f"needs an integration of type {component.integration!r}"
            )
        try:
            record = await self._db(self.store.get_integration, node.integration)
        except NotFound:
            raise field_problem(
                node.name, "integration", f"unknown integration {node.integration!r}"
            ) from None
        if record.type != component.integration:
            raise field_problem(
                node.name,
                "integration",
                f"integration {node.integration!r} is of type {record.type!r}, "
                f"expected {component.integration!r}",
            )
        return self._decrypted_config(record)

    async def canvas_view(self, name: str) -> dict[str, Any]:
        """The canvas with live metadata for each node (Lesson 5)."""
        record = await self._db(self.store.get_canvas, name)
        nodes = [await self._node_view(record.canvas, node) for node in record.canvas.nodes]
        return {
            "name": record.name,
            "version": record.version,
            "description": record.canvas.description,
            "createdAt": iso(record.created_at),
            "updatedAt": iso(record.updated_at),
            "source": record.source,
            "canvas": record.canvas.to_dict(),
            "warnings": record.warnings,
            "nodes": nodes,
        }

    async def _node_view(self, canvas: Canvas, node: Node) -> dict[str, Any]:
        component = self.registry.components.get(node.type)
        if component is None:  # saved under a catalogue this server no longer has
            return {"name": node.name, "type": node.type, "role": "unknown"}
        view: dict[str, Any] = {"name": node.name, "type": node.type, "role": component.role}
        if isinstance(component, WebhookTrigger):
            endpoint = await self._db(
                self.store.endpoint_for_node, canvas.name, node.name, self.clock()
            )
            view["live"] = self.endpoint_view(endpoint)
        return view

    def endpoint_view(self, endpoint: Endpoint) -> dict[str, Any]:
        view: dict[str, Any] = {
            "webhookUrl": self.settings.webhook_url(endpoint.id),
            "signingSecretConfigured": endpoint.secret_configured,
            "lastDeliveryAt": iso(endpoint.last_delivery_at) if endpoint.last_delivery_at else None,
            "deliveries": dict(endpoint.counts),
            "operational": endpoint.secret_configured,
        }
        if not endpoint.secret_configured:
            view["reason"] = "signing secret not set"
        return view

    async def list_canvases(self) -> list[dict[str, Any]]:
        summaries = await self._db(self.store.list_canvases)
        return [
            {
                "name": s.name,
                "version": s.version,
                "updatedAt": iso(s.updated_at),
                "triggers": s.triggers,
                "lastRunId": s.last_run_id,
                "lastRunState": s.last_run_state,
                "lastRunAt": iso(s.last_run_at) if s.last_run_at else None,
            }
            for s in summaries
        ]

    async def delete_canvas(self, name: str) -> None:
        await self._db(self.store.delete_canvas, name)
        self._forget_canvas(name)

    # -- runs ------------------------------------------------------------------
    async def run_manual(self, canvas_name: str, node_name: str, payload: Any) -> str:
        record = await self._db(self.store.get_canvas, canvas_name)
        node = _node_of(record.canvas, node_name)
        if node.type != "start":
            raise InvalidInput(
                f"node {node_name!r} is not a manual start trigger",
                [Problem("only start nodes can be run by hand", node=node_name)],
            )
        event = Event(type="start.manual", data=payload)
        first = _first_executions(record.canvas, node.name, event)
        run_id = await self._db(
            self.store.start_run, canvas_name, node.name, event, first, self.clock()
        )
        self._wake()
        return run_id

    async def list_runs(self, canvas_name: str, limit: int = 50) -> list[RunRecord]:
        await self._db(self.store.get_canvas, canvas_name)  # 404 for an unknown canvas
        return await self._db(self.store.list_runs, canvas_name, limit)

    async def get_run(self, run_id: str) -> RunRecord:
        return await self._db(self.store.get_run, run_id)

    # -- hooks -----------------------------------------------------------------
    async def run_hook(
        self, canvas_name: str, node_name: str, hook: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        record = await self._db(self.store.get_canvas, canvas_name)
        node = _node_of(record.canvas, node_name)
        component = self.registry.component(node.type)
        if hook not in {h.name for h in component.hooks}:
            raise NotFound(f"node {node_name!r} has no action {hook!r}")
        if hook == SET_SECRET_HOOK and isinstance(component, WebhookTrigger):
            return await self._set_secret(canvas_name, node_name, params.get(SECRET_PARAM))
        raise NotFound(f"action {hook!r} is not supported by this server")

    async def _set_secret(self, canvas: str, node: str, secret: Any) -> dict[str, Any]:
        if secret is not None and not isinstance(secret, str):
            raise field_problem(node, SECRET_PARAM, "must be a string")
        secret = (secret or "").strip()
        encrypted = None
        if secret:
            check_signing_secret(node, secret)
            register_secret(secret)
            encrypted = self.box.encrypt(secret)
        endpoint = await self._db(
            self.store.set_endpoint_secret, canvas, node, encrypted, self.clock()
        )
        self._forget_target(endpoint.id)
        log.info(
            "signing secret %s for %s/%s", "set" if secret else "cleared", canvas, node
        )
        return self.endpoint_view(endpoint)

    # -- webhooks --------------------------------------------------------------
    async def receive_webhook(
        self, endpoint_id: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Verify, record and enqueue one delivery; 2xx only after the commit."""
        now = self.clock()
        try:
            target = await self._target(endpoint_id, now)
        except NotFound:
            return 404, {"error": "not found"}
        verdict = self._verdict(target, headers, body, now)
        if not verdict.accepted:
            await self._db(self.store.record_rejection, endpoint_id, verdict.reason, now)
            log.warning(
                "webhook rejected: canvas=%s node=%s status=%s reason=%s",
                target.canvas.name, target.node.name, verdict.status, verdict.reason,
                extra={"canvas": target.canvas.name, "node": target.node.name,
                       "endpoint_id": endpoint_id, "outcome": "rejected"},
            )
            return verdict.status, {"error": verdict.public or "rejected"}
        events = [
            (event, _first_executions(target.canvas, target.node.name, event))
            for event in verdict.events
        ]
        # Awaited on the loop (no thread per delivery): one wakeup per committed batch.
        result: DeliveryResult = await answered(
            self.store.accept_delivery_then, endpoint_id, verdict.dedupe_key, events, now)
        if result.run_ids:
            self._wake()
        log.debug(  # not INFO: one line per delivery costs more than the delivery itself
            "webhook %s: canvas=%s node=%s runs=%d",
            result.outcome, target.canvas.name, target.node.name, len(result.run_ids),
            extra={"canvas": target.canvas.name, "node": target.node.name,
                   "endpoint_id": endpoint_id, "outcome": result.outcome},
        )
        return 200, {"status": result.outcome}

    def _verdict(
        self, target: _Target, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> WebhookVerdict:
        if not target.secrets:  # fail closed (Lesson 2), whatever the component does
            return WebhookVerdict(403, "signing secret not set", "signing secret not set")
        request = WebhookRequest({k.lower(): v for k, v in headers.items()}, body)
        try:
            return target.trigger.receive(
                request, list(target.secrets), target.node.configuration, now
            )
        except Exception as exc:  # a component bug must not become a 500 to the sender
            log.exception("webhook trigger %s failed", target.node.type)
            return WebhookVerdict(400, "bad request", f"trigger failed: {type(exc).__name__}")

    async def _target(self, endpoint_id: str, now: datetime) -> _Target:
        cached = self._targets.get(endpoint_id)
        if cached and cached.fresh(now):
            return cached
        # Single flight: when the entry expires under load, every concurrent delivery
        # would otherwise read the endpoint and its canvas again, all at once.
        loading = self._loading.get(endpoint_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load_target(endpoint_id, now))
            self._loading[endpoint_id] = loading
            loading.add_done_callback(partial(self._loaded, endpoint_id))
        return await asyncio.shield(loading)

    async def _load_target(self, endpoint_id: str, now: datetime) -> _Target:
        epoch = self._epoch
        endpoint = await self._db(self.store.get_endpoint, endpoint_id, now)
        record = await self._db(self.store.get_canvas, endpoint.canvas)
        node = _node_of(record.canvas, endpoint.node)
        trigger = self.registry.component(node.type)
        if not isinstance(trigger, WebhookTrigger):
            raise NotFound(f"node {node.name!r} does not receive webhooks")
        secrets = tuple(self.box.decrypt(s) for s in endpoint.secrets_encrypted)
        for secret in secrets:
            register_secret(secret)
        target = _Target(
            record.canvas, node, trigger, secrets, time.monotonic() + ENDPOINT_CACHE_SECONDS,
            endpoint.previous_valid_until,
        )
        if epoch == self._epoch:  # not if a secret or canvas changed while we read
            self._targets[endpoint_id] = target
        return target

    def _loaded(self, endpoint_id: str, done: asyncio.Future[_Target]) -> None:
        if self._loading.get(endpoint_id) is done:
            del self._loading[endpoint_id]

    def _forget_target(self, endpoint_id: str) -> None:
        self._epoch += 1
        self._targets.pop(endpoint_id, None)
        self._loading.pop(endpoint_id, None)  # later deliveries read the new state

    def _forget_canvas(self, name: str) -> None:
        self._epoch += 1
        for endpoint_id, target in list(self._targets.items()):
            if target.canvas.name == name:
                self._forget_target(endpoint_id)
        self._loading.clear()

    # -- integrations ----------------------------------------------------------
    async def put_integration(
        self, name: str, type_: str, configuration: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create or update; secret fields left out keep their stored value. The
        status from validating against the service is stored either way."""
        integration = integration_type(self.registry, type_)
        existing = await self._existing_integration(name, type_)
        plain, secrets = split_config(integration, configuration)
        kept = existing.secrets_encrypted if existing else {}
        encrypted = {**kept, **{k: self.box.encrypt(v) for k, v in secrets.items()}}
        require_fields(integration, plain, encrypted)
        full = {**plain, **{k: self.box.decrypt(v) for k, v in encrypted.items()}}
        for value in secrets.values():
            register_secret(value)
        status, reason = await self._validate(integration, full)
        record = await self._db(
            self.store.put_integration, name, type_, plain, encrypted, status, reason, self.clock()
        )
        return integration_view(record, self.registry)

    async def _existing_integration(self, name: str, type_: str) -> IntegrationRecord | None:
        try:
            record = await self._db(self.store.get_integration, name)
        except NotFound:
            return None
        # A type change starts from scratch: the old secrets meant something else.
        return record if record.type == type_ else None

    async def _validate(self, integration: Any, config: Mapping[str, Any]) -> tuple[str, str]:
        try:
            result = await integration.validate(config, self.http)
        except Exception as exc:  # validation must never block storing the integration
            log.warning("integration validation failed: %s", type(exc).__name__)
            return "error", f"could not validate: {type(exc).__name__}"
        return result.status, result.reason

    async def get_integration(self, name: str) -> dict[str, Any]:
        record = await self._db(self.store.get_integration, name)
        return integration_view(record, self.registry)

    async def list_integrations(self) -> list[dict[str, Any]]:
        records = await self._db(self.store.list_integrations)
        return [integration_view(r, self.registry) for r in records]

    async def delete_integration(self, name: str) -> None:
        await self._db(self.store.delete_integration, name)

    async def list_resources(self, name: str, resource_type: str) -> list[dict[str, str]]:
        record = await self._db(self.store.get_integration, name)
        integration = integration_type(self.registry, record.type)
        if resource_type not in integration.resource_types:
            known = ", ".join(integration.resource_types) or "none"
            raise InvalidInput(
                f"integration type {record.type!r} has no resource {resource_type!r} "
                f"(known: {known})",
                [Problem(f"unknown resource type {resource_type!r}", field="type")],
            )
        config = self._decrypted_config(record)
        try:
            resources = await integration.list_resources(config, resource_type, self.http)
        except Exception as exc:
            log.warning("listing %s of %s failed: %s", resource_type, name, exc)
            raise UpstreamError(f"could not list {resource_type} from {name!r}: {exc}") from exc
        return [r.as_dict() for r in resources]

    def _decrypted_config(self, record: IntegrationRecord) -> dict[str, Any]:
        secrets = {k: self.box.decrypt(v) for k, v in record.secrets_encrypted.items()}
        for value in secrets.values():
            register_secret(value)
        return {**record.config, **secrets}


# -- helpers (pure) ----------------------------------------------------------------


def integration_view(record: IntegrationRecord, registry: Registry) -> dict[str, Any]:
    """An integration as the API shows it: secret fields only say whether they are set."""
    configuration: dict[str, Any] = dict(record.config)
    secret_names: set[str] = set(record.secrets_encrypted)
    if record.type in registry.integrations:
        secret_names |= set(registry.integrations[record.type].secret_fields())
    for field_name in secret_names:
        configuration[field_name] = {"configured": field_name in record.secrets_encrypted}
    return {
        "name": record.name,
        "type": record.type,
        "configuration": configuration,
        "status": record.status,
        "reason": record.reason,
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
    }


def _node_of(canvas: Canvas, name: str) -> Node:
    try:
        return canvas.node(name)
    except KeyError:
        raise NotFound(f"canvas {canvas.name!r} has no node {name!r}") from None


def _first_executions(canvas: Canvas, node: str, event: Event) -> list[Any]:
    from incidentflow.engine.router import first_executions

    return list(first_executions(canvas, node, event))
