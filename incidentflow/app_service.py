"""The application service: every operation the API, the UI and the CLI share.

The store is synchronous; each call runs in a worker thread so the event loop keeps
serving webhooks while the database works. Remote calls (integration checks, resource
lists) happen outside any store call, never inside a transaction (docs/design-rules.md,
"No transaction around outside calls").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread

from incidentflow.canvas import Canvas, Node, in_configuration, parse_canvas
from incidentflow.components.base import (
    Component,
    RemoteCheck,
    WebhookTrigger,
)
from incidentflow.crypto import SecretBox
from incidentflow.documents import source_text, with_name
from incidentflow.engine.rate_gate import default_limit, limit_of
from incidentflow.errors import (  # UpstreamError: raised here, kept importable
    CanvasError,
    Conflict,
    InvalidInput,
    NotFound,
    Problem,
    UpstreamError,
)
from incidentflow.events import Event, iso, utcnow
from incidentflow.expression_pool import off_loop
from incidentflow.feedback import feedback_warnings
from incidentflow.integration_config import (
    check_destinations,
    field_problem,
    integration_type,
    require_fields,
    require_secrets_for_new_destination,
    split_config,
)
from incidentflow.log_setup import register_secret
from incidentflow.rate_limit import RateLimit, unused_limit_warnings
from incidentflow.receiver import Receiver, first_executions, keyed, routed
from incidentflow.secrets_service import CanvasSecrets
from incidentflow.self_trigger import SelfTriggerGuard
from incidentflow.store.port import (
    DeliveryRecord,
    Endpoint,
    IntegrationRecord,
    NodeLimitState,
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

PENDING_CHOICES = ("run", "discard")




class AppService:
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
        guard = SelfTriggerGuard(store, self._db, lambda: self.clock(),
                                 settings.self_trigger_wait_seconds, settings.lease_seconds)
        # The webhook hot path has a room of its own (receiver.py); the host tells it
        # when what it caches changes.
        self.receiver = Receiver(store, registry, box, guard,
                                 clock=lambda: self.clock(), wake=self._wake)

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
        warnings.extend(await CanvasSecrets(self).missing_in(canvas))  # may be set later
        warnings += self._rate_limit_warnings(canvas)
        saved = await self._db(
            self.store.save_canvas, canvas, text, [w.as_dict() for w in warnings], self.clock()
        )
        self.receiver.forget_canvas(canvas.name)
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
            errors.extend(in_configuration(component, check.errors))
            warnings.extend(in_configuration(component, check.warnings))
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
            if component.integration_optional:
                return None
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
        """The canvas with live metadata for each node
        (docs/design-rules.md, "Live node metadata")."""
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
            **await self._rate_limit_view(record.canvas),
            **_pause_view(record.paused_at),
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
            if component.polls_for_changes(node.configuration):
                state = await self._db(self.store.catch_up_state, canvas.name, node.name)
                view["catchUp"] = component.polling_view(node.configuration, state)
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
        tripped = await self._tripped_by_canvas()
        return [
            {
                "name": s.name,
                "version": s.version,
                "updatedAt": iso(s.updated_at),
                "triggers": s.triggers,
                "lastRunId": s.last_run_id,
                "lastRunState": s.last_run_state,
                "lastRunAt": iso(s.last_run_at) if s.last_run_at else None,
                "trippedNodes": tripped.get(s.name, []),
                **_pause_view(s.paused_at),
            }
            for s in summaries
        ]

    # -- the create rate limit (rate_limit.py, feedback.py, store.node_limits) -----
    def _rate_limit_warnings(self, canvas: Canvas) -> list[Problem]:
        default = default_limit(self.settings)
        return (unused_limit_warnings(canvas, self.registry)
                + feedback_warnings(canvas, self.registry, default))

    async def _rate_limit_view(self, canvas: Canvas) -> dict[str, Any]:
        """Each creating node's limit and state; which nodes are tripped, and holding
        how many executions."""
        states = {s.node: s for s in await self._db(self.store.node_limits, canvas.name)}
        limits = {}
        for node in canvas.nodes:
            component = self.registry.components.get(node.type)
            if component is not None and component.creates:
                limits[node.name] = rate_limit_view(
                    limit_of(node, self.settings), states.get(node.name))
        tripped = [{"node": name, "held": view["held"], "trippedAt": view["trippedAt"]}
                   for name, view in limits.items() if view["tripped"]]
        return {"rateLimits": limits, "trippedNodes": tripped}

    async def _tripped_by_canvas(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        for state in await self._db(self.store.node_limits, None):
            if state.tripped:
                found.setdefault(state.canvas, []).append(
                    {"node": state.node, "held": state.held,
                     "trippedAt": iso(state.tripped_at) if state.tripped_at else None})
        return found

    async def resume_node(self, canvas_name: str, node_name: str, held: Any) -> dict[str, Any]:
        """Untrip a node; ``held`` says what becomes of what it holds: "release" (run
        them; they do not count against the limit) or "discard"."""
        if held not in ("release", "discard"):
            raise InvalidInput("say what to do with the held executions", [Problem(
                'must be "release" or "discard"', node=node_name, field="held")])
        record = await self._db(self.store.get_canvas, canvas_name)
        _node_of(record.canvas, node_name)
        done = await self._db(self.store.resume_node, canvas_name, node_name,
                              held == "release", self.clock())
        if done.released:
            self._wake()
        log.info("node %s/%s resumed: %d released, %d discarded", canvas_name, node_name,
                 done.released, done.discarded,
                 extra={"canvas": canvas_name, "node": node_name, "outcome": "resumed"})
        return {"canvas": canvas_name, "node": node_name, "held": held,
                "released": done.released, "discarded": done.discarded}

    async def delete_canvas(self, name: str) -> None:
        await self._db(self.store.delete_canvas, name)
        self.receiver.forget_canvas(name)

    # -- runs ------------------------------------------------------------------
    async def run_manual(self, canvas_name: str, node_name: str, payload: Any) -> str:
        record = await self._db(self.store.get_canvas, canvas_name)
        node = _node_of(record.canvas, node_name)
        refuse_if_paused(record.name, record.paused_at)
        if node.type != "start":
            raise InvalidInput(
                f"node {node_name!r} is not a manual start trigger",
                [Problem("only start nodes can be run by hand", node=node_name)],
            )
        event = Event(type="start.manual", data=payload)
        route = partial(first_executions, record.canvas, node.name, event)
        first = await off_loop(route) if keyed(record.canvas) else route()
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
        if isinstance(component, WebhookTrigger) and hook == component.SECRET_HOOK:
            return await self._set_secret(canvas_name, node, component, params)
        raise NotFound(f"action {hook!r} is not supported by this server")

    async def _set_secret(
        self, canvas: str, node: Node, trigger: WebhookTrigger, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The trigger's secret hook: the trigger says what a usable secret is."""
        secret = params.get(trigger.SECRET_PARAM)
        if secret is not None and not isinstance(secret, str):
            raise field_problem(node.name, trigger.SECRET_PARAM, "must be a string")
        secret = (secret or "").strip()
        encrypted = None
        if secret:
            problem = trigger.secret_problem(secret, node.configuration)
            if problem:
                raise field_problem(node.name, trigger.SECRET_PARAM, problem)
            register_secret(secret)
            encrypted = self.box.encrypt(secret)
        endpoint = await self._db(
            self.store.set_endpoint_secret, canvas, node.name, encrypted, self.clock()
        )
        self.receiver.forget_endpoint(endpoint.id)
        log.info(
            "signing secret %s for %s/%s", "set" if secret else "cleared", canvas, node.name
        )
        return self.endpoint_view(endpoint)

    # -- pause / resume and the delivery log -----------------------------------------
    async def pause_canvas(self, name: str) -> dict[str, Any]:
        """Deliveries are kept (with their events) and start nothing until resumed."""
        paused_at = await self._db(self.store.pause_canvas, name, self.clock())
        held = await self._db(self.store.held_deliveries, name)
        log.warning("canvas %s paused", name, extra={"canvas": name})
        return {"name": name, **_pause_view(paused_at), "pendingDeliveries": held}

    async def resume_canvas(self, name: str, pending: str | None) -> dict[str, Any]:
        """``pending``: "run" or "discard" what arrived while paused; may be left out
        only when nothing did."""
        if pending is not None and pending not in PENDING_CHOICES:
            raise InvalidInput('pending must be "run" or "discard"',
                               [Problem('must be "run" or "discard"', field="pending")])
        record = await self._db(self.store.get_canvas, name)
        if pending is None:
            held = await self._db(self.store.held_deliveries, name)
            if held:
                raise Conflict(
                    f"canvas {name!r} holds {held} deliveries that arrived while it was "
                    'paused: choose whether to run or discard them ({"pending": "run"} or '
                    '{"pending": "discard"})')
        plan = partial(self._resumed_executions, record.canvas) if pending == "run" else None
        resumed = await self._db(self.store.resume_canvas, name, plan, self.clock())
        if resumed.run_ids:
            self._wake()
        log.warning("canvas %s resumed (%s pending: %d runs, %d discarded)", name,
                    pending or "nothing", len(resumed.run_ids), resumed.discarded,
                    extra={"canvas": name})
        return {"name": name, **_pause_view(None), "pending": pending,
                "runIds": resumed.run_ids, "discarded": resumed.discarded}

    def _resumed_executions(self, canvas: Canvas, node: str, event: Event) -> list[Any]:
        """A held event starts what it would have started when it arrived."""
        trigger = self.registry.components.get(canvas.node(node).type)
        hook = trigger if isinstance(trigger, WebhookTrigger) else None
        [(_, executions)] = routed(canvas, node, [event], hook)
        return executions

    async def node_deliveries(self, canvas: str, node: str, limit: int) -> list[DeliveryRecord]:
        """The delivery log of a webhook trigger node, newest first."""
        record = await self._db(self.store.get_canvas, canvas)
        _node_of(record.canvas, node)
        endpoint = await self._db(self.store.endpoint_for_node, canvas, node, self.clock())
        return await self._db(self.store.recent_deliveries, endpoint.id, limit)

    # -- integrations ----------------------------------------------------------
    async def put_integration(
        self,
        name: str,
        type_: str,
        configuration: Mapping[str, Any],
        *,
        refuse_if_not_ready: bool = False,
    ) -> dict[str, Any]:
        """Create or update; secret fields left out keep their stored value, unless
        a destination field (e.g. baseUrl) moves: then they must be given again. The
        status from validating against the service is stored either way, unless
        ``refuse_if_not_ready``: then a configuration the service refuses (or cannot
        check) is not stored, and InvalidInput names the secret field and the reason."""
        integration = integration_type(self.registry, type_)
        existing = await self._existing_integration(name, type_)
        plain, secrets = split_config(integration, configuration)
        check_destinations(integration, plain)
        kept = existing.secrets_encrypted if existing else {}
        if existing is not None:
            require_secrets_for_new_destination(
                integration, existing.config, kept, plain, secrets)
        encrypted = {**kept, **{k: self.box.encrypt(v) for k, v in secrets.items()}}
        require_fields(integration, plain, encrypted)
        full = {**plain, **self.box.reveal(encrypted)}
        status, reason = await self._validate(integration, full)
        if refuse_if_not_ready and status != "ready":
            secret = next((f.name for f in integration.fields if f.kind == "secret"), None)
            raise field_problem(None, secret or "configuration", f"not saved: {reason}")
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

    async def list_resources(
        self, name: str, resource_type: str, query: str = ""
    ) -> list[dict[str, Any]]:
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
            resources = await integration.list_resources(
                config, resource_type, self.http, query=query)
        except Exception as exc:
            log.warning("listing %s of %s failed: %s", resource_type, name, exc)
            raise UpstreamError(f"could not list {resource_type} from {name!r}: {exc}") from exc
        return [r.as_dict() for r in resources]

    def _decrypted_config(self, record: IntegrationRecord) -> dict[str, Any]:
        return {**record.config, **self.box.reveal(record.secrets_encrypted)}


# -- helpers (pure) ----------------------------------------------------------------


def rate_limit_view(limit: RateLimit, state: NodeLimitState | None) -> dict[str, Any]:
    """A creating node's limit as the API shows it (``GET /canvases/{name}``)."""
    started = state.window_start if state is not None else None
    return {
        **limit.to_dict(),
        "tripped": bool(state and state.tripped),
        "trippedAt": iso(state.tripped_at) if state and state.tripped_at else None,
        "held": state.held if state else 0,
        "windowStart": iso(started) if started else None,
        "windowCount": state.window_count if state else 0,
    }


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


def refuse_if_paused(canvas: str, paused_at: datetime | None) -> None:
    if paused_at is not None:
        raise Conflict(f"canvas {canvas!r} is paused: resume it before starting runs "
                       "(deliveries meanwhile are kept, see its delivery log)")


def _pause_view(paused_at: datetime | None) -> dict[str, Any]:
    return {"paused": paused_at is not None,
            "pausedAt": iso(paused_at) if paused_at is not None else None}


def delivery_view(record: DeliveryRecord) -> dict[str, Any]:
    """One delivery log entry as the API and the UI show it."""
    return {
        "id": record.id,
        "receivedAt": iso(record.received_at),
        "webhookId": record.webhook_id,
        "outcome": record.outcome,
        "reason": record.reason,
        "code": record.code or None,
        "runId": record.run_id,
        "heldEvents": record.held,
    }


def _node_of(canvas: Canvas, name: str) -> Node:
    try:
        return canvas.node(name)
    except KeyError:
        raise NotFound(f"canvas {canvas.name!r} has no node {name!r}") from None
