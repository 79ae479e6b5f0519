"""Canvases as people change and drive them: apply (validate, check against the
services, save), delete, run by hand, a node's hooks (the signing secret), pause and
resume, untrip a node's create rate limit, a trigger's delivery log. Shared by the API,
the UI and the CLI through :class:`~incidentflow.app_service.AppService` (``host.canvases``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from incidentflow.canvas import Canvas, Node, in_configuration, parse_canvas
from incidentflow.canvas_views import endpoint_view, pause_view
from incidentflow.components.base import Component, RemoteCheck, WebhookTrigger
from incidentflow.documents import source_text, with_name
from incidentflow.engine.rate_gate import default_limit
from incidentflow.errors import CanvasError, Conflict, InvalidInput, NotFound, Problem
from incidentflow.events import Event
from incidentflow.expression_pool import off_loop
from incidentflow.feedback import feedback_warnings
from incidentflow.integration_config import field_problem
from incidentflow.integration_service import decrypted_config
from incidentflow.log_setup import register_secret
from incidentflow.rate_limit import unused_limit_warnings
from incidentflow.receiver import first_executions, keyed, routed
from incidentflow.store.port import DeliveryRecord, RunRecord, SavedCanvas

if TYPE_CHECKING:
    from incidentflow.app_service import AppService

log = logging.getLogger(__name__)

PENDING_CHOICES = ("run", "discard")


class CanvasService:
    def __init__(self, host: AppService):
        self.host = host
        self.db = host.db
        self.registry = host.registry

    # -- apply and delete --------------------------------------------------------------
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
        warnings.extend(await self.host.secrets.missing_in(canvas))  # may be set later
        warnings += self._rate_limit_warnings(canvas)
        saved = await self.db.save_canvas(
            canvas, text, [w.as_dict() for w in warnings], self.host.clock())
        self.host.receiver.forget_canvas(canvas.name)
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
                node.name, node.configuration, integration, self.host.http
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
            record = await self.db.get_integration(node.integration)
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
        return decrypted_config(record, self.host.box)

    def _rate_limit_warnings(self, canvas: Canvas) -> list[Problem]:
        """The create rate limit (rate_limit.py, feedback.py): limits set where nothing
        creates, and canvases that can feed themselves."""
        default = default_limit(self.host.settings)
        return (unused_limit_warnings(canvas, self.registry)
                + feedback_warnings(canvas, self.registry, default))

    async def delete_canvas(self, name: str) -> None:
        await self.db.delete_canvas(name)
        self.host.receiver.forget_canvas(name)

    # -- runs ------------------------------------------------------------------------
    async def run_manual(self, canvas_name: str, node_name: str, payload: Any) -> str:
        record = await self.db.get_canvas(canvas_name)
        node = node_of(record.canvas, node_name)
        refuse_if_paused(record.name, record.paused_at)
        if node.type != "start":
            raise InvalidInput(
                f"node {node_name!r} is not a manual start trigger",
                [Problem("only start nodes can be run by hand", node=node_name)],
            )
        event = Event(type="start.manual", data=payload)
        route = partial(first_executions, record.canvas, node.name, event)
        first = await off_loop(route) if keyed(record.canvas) else route()
        run_id = await self.db.start_run(canvas_name, node.name, event, first, self.host.clock())
        self.host.wake()
        return run_id

    async def list_runs(self, canvas_name: str, limit: int = 50) -> list[RunRecord]:
        await self.db.get_canvas(canvas_name)  # 404 for an unknown canvas
        return await self.db.list_runs(canvas_name, limit)

    async def get_run(self, run_id: str) -> RunRecord:
        return await self.db.get_run(run_id)

    # -- hooks -----------------------------------------------------------------------
    async def run_hook(
        self, canvas_name: str, node_name: str, hook: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        record = await self.db.get_canvas(canvas_name)
        node = node_of(record.canvas, node_name)
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
            encrypted = self.host.box.encrypt(secret)
        endpoint = await self.db.set_endpoint_secret(
            canvas, node.name, encrypted, self.host.clock())
        self.host.receiver.forget_endpoint(endpoint.id)
        log.info(
            "signing secret %s for %s/%s", "set" if secret else "cleared", canvas, node.name
        )
        return endpoint_view(self.host.settings, endpoint)

    # -- the create rate limit (store.node_limits) -------------------------------------
    async def resume_node(self, canvas_name: str, node_name: str, held: Any) -> dict[str, Any]:
        """Untrip a node; ``held`` says what becomes of what it holds: "release" (run
        them; they do not count against the limit) or "discard"."""
        if held not in ("release", "discard"):
            raise InvalidInput("say what to do with the held executions", [Problem(
                'must be "release" or "discard"', node=node_name, field="held")])
        record = await self.db.get_canvas(canvas_name)
        node_of(record.canvas, node_name)
        done = await self.db.resume_node(canvas_name, node_name, held == "release",
                                         self.host.clock())
        if done.released:
            self.host.wake()
        log.info("node %s/%s resumed: %d released, %d discarded", canvas_name, node_name,
                 done.released, done.discarded,
                 extra={"canvas": canvas_name, "node": node_name, "outcome": "resumed"})
        return {"canvas": canvas_name, "node": node_name, "held": held,
                "released": done.released, "discarded": done.discarded}

    # -- pause / resume and the delivery log -------------------------------------------
    async def pause_canvas(self, name: str) -> dict[str, Any]:
        """Deliveries are kept (with their events) and start nothing until resumed."""
        paused_at = await self.db.pause_canvas(name, self.host.clock())
        held = await self.db.held_deliveries(name)
        log.warning("canvas %s paused", name, extra={"canvas": name})
        return {"name": name, **pause_view(paused_at), "pendingDeliveries": held}

    async def resume_canvas(self, name: str, pending: str | None) -> dict[str, Any]:
        """``pending``: "run" or "discard" what arrived while paused; may be left out
        only when nothing did."""
        if pending is not None and pending not in PENDING_CHOICES:
            raise InvalidInput('pending must be "run" or "discard"',
                               [Problem('must be "run" or "discard"', field="pending")])
        record = await self.db.get_canvas(name)
        if pending is None:
            held = await self.db.held_deliveries(name)
            if held:
                raise Conflict(
                    f"canvas {name!r} holds {held} deliveries that arrived while it was "
                    'paused: choose whether to run or discard them ({"pending": "run"} or '
                    '{"pending": "discard"})')
        plan = partial(self._resumed_executions, record.canvas) if pending == "run" else None
        resumed = await self.db.resume_canvas(name, plan, self.host.clock())
        if resumed.run_ids:
            self.host.wake()
        log.warning("canvas %s resumed (%s pending: %d runs, %d discarded)", name,
                    pending or "nothing", len(resumed.run_ids), resumed.discarded,
                    extra={"canvas": name})
        return {"name": name, **pause_view(None), "pending": pending,
                "runIds": resumed.run_ids, "discarded": resumed.discarded}

    def _resumed_executions(self, canvas: Canvas, node: str, event: Event) -> list[Any]:
        """A held event starts what it would have started when it arrived."""
        trigger = self.registry.components.get(canvas.node(node).type)
        hook = trigger if isinstance(trigger, WebhookTrigger) else None
        [(_, executions)] = routed(canvas, node, [event], hook)
        return executions

    async def node_deliveries(self, canvas: str, node: str, limit: int) -> list[DeliveryRecord]:
        """The delivery log of a webhook trigger node, newest first."""
        record = await self.db.get_canvas(canvas)
        node_of(record.canvas, node)
        endpoint = await self.db.endpoint_for_node(canvas, node, self.host.clock())
        return await self.db.recent_deliveries(endpoint.id, limit)


def refuse_if_paused(canvas: str, paused_at: datetime | None) -> None:
    if paused_at is not None:
        raise Conflict(f"canvas {canvas!r} is paused: resume it before starting runs "
                       "(deliveries meanwhile are kept, see its delivery log)")


def node_of(canvas: Canvas, name: str) -> Node:
    try:
        return canvas.node(name)
    except KeyError:
        raise NotFound(f"canvas {canvas.name!r} has no node {name!r}") from None
