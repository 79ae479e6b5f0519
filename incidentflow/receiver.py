"""The webhook receiver: one delivery from raw request to committed runs.

``web/webhooks.py`` reads the HTTP request (size limits) and calls :meth:`Receiver.receive`,
which, in order:

1. finds what the endpoint id stands for (canvas, node, trigger, decrypted secrets) in
   the :class:`EndpointCache`, reading the store only on a miss (single flight);
2. asks the node's trigger for a verdict (fail closed without a secret:
   docs/design-rules.md, "Fail closed"); a rejection is recorded with its
   :class:`RejectionCode` and answered generically (docs/design-rules.md, "Generic answers");
3. screens the events through the self-trigger guard (``self_trigger.py``), when the
   canvas could feed itself;
4. routes each event to the first executions (``engine/router.py``);
5. has the store record the delivery once per dedupe key and enqueue the runs, and
   answers 2xx only after that commit (docs/design-rules.md, "Deduplicated deliveries").

Nothing here knows a particular integration: each trigger owns its verification.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from incidentflow.canvas import Canvas, Node
from incidentflow.components.base import (
    RejectionCode,
    WebhookRequest,
    WebhookTrigger,
    WebhookVerdict,
    rejection_answer,
)
from incidentflow.crypto import SecretBox
from incidentflow.errors import NotFound
from incidentflow.events import Event
from incidentflow.expression_pool import off_loop
from incidentflow.log_setup import register_secret
from incidentflow.self_trigger import SelfTriggerGuard, guarded_kinds
from incidentflow.store.port import DeliveryResult, NewExecution

if TYPE_CHECKING:
    from incidentflow.registry import Registry
    from incidentflow.store.port import Store

log = logging.getLogger(__name__)

# Other processes (a second web replica) may change a secret; bound how long we trust
# a cached endpoint even without an invalidation from this process.
ENDPOINT_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Target:
    """What a webhook endpoint resolves to, cached for the hot path."""

    canvas: Canvas
    node: Node
    trigger: WebhookTrigger
    secrets: tuple[str, ...]
    # Read from the store at this instant of the cache's monotonic clock.
    loaded_at: float
    # The grace period of a rotated-out secret ends at this (clock) time, cache or not.
    secrets_valid_until: datetime | None = None
    # Kinds of object this trigger must not be started by when its own canvas created
    # them (self_trigger.py); empty for most canvases, which then pay nothing.
    guard: frozenset[str] = frozenset()
    # Some node has a concurrency key (a template): routing renders it, so it runs in
    # the expression pool, under the budget, never on the event loop.
    keyed: bool = False
    # What ``receive`` gets as ``config`` (``WebhookTrigger.receiving_config``).
    config: Mapping[str, Any] | None = None
    # The node also polls for changes (``WebhookTrigger.polls_for_changes``): its
    # deliveries claim their change first, so a change the poll already ran starts nothing.
    claims_changes: bool = False


class EndpointCache:
    """Endpoint id → :class:`Target`, each trusted for ``ttl`` seconds of ``monotonic``
    (a parameter so that tests can move time) and never past the end of a rotated-out
    secret's grace period."""

    def __init__(
        self, ttl: float = ENDPOINT_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self.ttl, self.monotonic = ttl, monotonic
        self._targets: dict[str, Target] = {}
        self.epoch = 0  # bumped by every invalidation: a load begun before is not kept

    def __len__(self) -> int:
        return len(self._targets)

    def __contains__(self, endpoint_id: object) -> bool:
        return endpoint_id in self._targets

    def now(self) -> float:
        return self.monotonic()

    def get(self, endpoint_id: str, now: datetime) -> Target | None:
        target = self._targets.get(endpoint_id)
        return target if target is not None and self.fresh(target, now) else None

    def fresh(self, target: Target, now: datetime) -> bool:
        if self.monotonic() - target.loaded_at >= self.ttl:
            return False
        return target.secrets_valid_until is None or now < target.secrets_valid_until

    def put(self, endpoint_id: str, target: Target, epoch: int) -> None:
        """Keep ``target`` unless something was invalidated since its load began."""
        if epoch == self.epoch:
            self._targets[endpoint_id] = target

    def forget_endpoint(self, endpoint_id: str) -> None:
        self.epoch += 1
        self._targets.pop(endpoint_id, None)

    def forget_canvas(self, name: str) -> None:
        self.epoch += 1
        for endpoint_id, target in list(self._targets.items()):
            if target.canvas.name == name:
                del self._targets[endpoint_id]

    def clear(self) -> None:
        self.epoch += 1
        self._targets.clear()


class Receiver:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        box: SecretBox,
        guard: SelfTriggerGuard,
        *,
        clock: Callable[[], datetime],
        cache: EndpointCache | None = None,
    ):
        self.store, self.registry, self.box, self.guard = store, registry, box, guard
        self.clock = clock
        self.cache = cache or EndpointCache()
        self._loading: dict[str, asyncio.Future[Target]] = {}

    async def receive(
        self, endpoint_id: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Verify, record and enqueue one delivery; 2xx only after the commit."""
        now = self.clock()
        try:
            target = await self.target(endpoint_id, now)
        except NotFound:
            status, public = rejection_answer(RejectionCode.UNKNOWN_ENDPOINT)
            return status, {"error": public}
        verdict = self.verdict(target, headers, body, now)
        if not verdict.accepted:
            await self._reject(endpoint_id, target, verdict, now)
            return verdict.status, {"error": verdict.public or "rejected"}
        result = await self._accept(endpoint_id, target, verdict, now)
        return 200, {"status": result.outcome}

    def verdict(
        self, target: Target, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> WebhookVerdict:
        if not target.secrets:  # docs/design-rules.md, "Fail closed", whatever the trigger does
            return WebhookVerdict.rejected(RejectionCode.NO_SECRET, "signing secret not set")
        request = WebhookRequest({k.lower(): v for k, v in headers.items()}, body)
        try:
            config = target.node.configuration if target.config is None else target.config
            return target.trigger.receive(request, list(target.secrets), config, now)
        except Exception as exc:  # a trigger bug must not become a 500 to the sender
            log.exception("webhook trigger %s failed", target.node.type)
            return WebhookVerdict.rejected(
                RejectionCode.TRIGGER_ERROR, f"trigger failed: {type(exc).__name__}")

    async def _reject(
        self, endpoint_id: str, target: Target, verdict: WebhookVerdict, now: datetime
    ) -> None:
        code = verdict.rejection_code
        await self.store.aio.record_rejection(endpoint_id, verdict.reason, now, code)
        log.warning(
            "webhook rejected: canvas=%s node=%s status=%s code=%s reason=%s",
            target.canvas.name, target.node.name, verdict.status, code, verdict.reason,
            extra={"canvas": target.canvas.name, "node": target.node.name,
                   "endpoint_id": endpoint_id, "outcome": "rejected", "code": str(code)},
        )

    async def _accept(
        self, endpoint_id: str, target: Target, verdict: WebhookVerdict, now: datetime
    ) -> DeliveryResult:
        kept, reason = list(verdict.events), "" if verdict.events else verdict.reason
        if target.guard and kept:
            kept, reason = await self.guard.screen(
                target.canvas.name, target.guard, target.trigger, kept)
        if target.claims_changes and kept:
            kept, reason = await self._unclaimed(target, kept, verdict.dedupe_key, now, reason)
        route = partial(routed, target.canvas, target.node.name, kept, target.trigger)
        events = await off_loop(route) if target.keyed else route()
        # Answered on the loop (no thread per delivery): one wakeup per committed batch.
        # The store wakes the workers itself when the commit left work queued
        # (``Store.wake_on_work``); work handed to this process's worker needs no wakeup,
        # and waking it per delivery cost a claim that found nothing.
        result = await self.store.aio.accept_delivery(
            endpoint_id, verdict.dedupe_key, events, now, reason)
        log.debug(  # not INFO: one line per delivery costs more than the delivery itself
            "webhook %s: canvas=%s node=%s runs=%d",
            result.outcome, target.canvas.name, target.node.name, len(result.run_ids),
            extra={"canvas": target.canvas.name, "node": target.node.name,
                   "endpoint_id": endpoint_id, "outcome": result.outcome},
        )
        if target.guard and kept != list(verdict.events):
            log.info("webhook ignored: canvas=%s node=%s reason=%s",
                     target.canvas.name, target.node.name, reason or "some events self-triggered")
        return result

    async def _unclaimed(self, target: Target, events: list[Event], webhook_id: str | None,
                         now: datetime, reason: str) -> tuple[list[Event], str]:
        """The events whose change the node's poll has not already run (store.catch_up)."""
        kept = []
        for event in events:
            change = target.trigger.change_of(event)
            if change is None or await self.store.aio.claim_incident_change(
                    target.canvas.name, target.node.name, *change, webhook_id or "webhook",
                    now):
                kept.append(event)
        if len(kept) < len(events):
            reason = "already started by the catch-up poll (webhook arrived late)"
        return kept, reason

    # -- what an endpoint id stands for -------------------------------------------------
    async def target(self, endpoint_id: str, now: datetime) -> Target:
        cached = self.cache.get(endpoint_id, now)
        if cached is not None:
            return cached
        # Single flight: when the entry expires under load, every concurrent delivery
        # would otherwise read the endpoint and its canvas again, all at once.
        loading = self._loading.get(endpoint_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(endpoint_id, now))
            self._loading[endpoint_id] = loading
            loading.add_done_callback(partial(self._loaded, endpoint_id))
        return await asyncio.shield(loading)

    async def _load(self, endpoint_id: str, now: datetime) -> Target:
        epoch, loaded_at = self.cache.epoch, self.cache.now()
        endpoint = await self.store.aio.get_endpoint(endpoint_id, now)
        record = await self.store.aio.get_canvas(endpoint.canvas)
        try:
            node = record.canvas.node(endpoint.node)
        except KeyError:
            raise NotFound(f"canvas {record.canvas.name!r} has no node {endpoint.node!r}") from None
        trigger = self.registry.component(node.type)
        if not isinstance(trigger, WebhookTrigger):
            raise NotFound(f"node {node.name!r} does not receive webhooks")
        secrets = tuple(self.box.decrypt(s) for s in endpoint.secrets_encrypted)
        for secret in secrets:
            register_secret(secret)
        target = Target(
            record.canvas, node, trigger, secrets, loaded_at, endpoint.previous_valid_until,
            guarded_kinds(record.canvas, node, trigger, self.registry), keyed(record.canvas),
            trigger.receiving_config(node.configuration, node.integration),
            trigger.polls_for_changes(node.configuration),
        )
        self.cache.put(endpoint_id, target, epoch)  # not if a secret or canvas changed meanwhile
        return target

    def _loaded(self, endpoint_id: str, done: asyncio.Future[Target]) -> None:
        if self._loading.get(endpoint_id) is done:
            del self._loading[endpoint_id]

    def forget_endpoint(self, endpoint_id: str) -> None:
        """Its secret changed: later deliveries read the new state."""
        self.cache.forget_endpoint(endpoint_id)
        self._loading.pop(endpoint_id, None)

    def forget_canvas(self, name: str) -> None:
        """It was saved or deleted: later deliveries read the new state."""
        self.cache.forget_canvas(name)
        self._loading.clear()


# -- helpers (pure) -----------------------------------------------------------------------


def keyed(canvas: Canvas) -> bool:
    return any(node.concurrency_key is not None for node in canvas.nodes)


def routed(canvas: Canvas, node: str, events: list[Event],
           trigger: WebhookTrigger | None = None) -> list[tuple[Event, list[Any]]]:
    """Each event with the executions it starts: the trigger's own first step
    (``WebhookTrigger.first_step``) or the nodes wired to it."""
    return [(event, first_step(node, event) if trigger and trigger.first_step(event)
             else first_executions(canvas, node, event)) for event in events]


def first_step(node: str, event: Event) -> list[Any]:
    """The run starts with the trigger's own execution."""
    return [NewExecution(node=node, input=event)]


def first_executions(canvas: Canvas, node: str, event: Event) -> list[Any]:
    return list(_router().first_executions(canvas, node, event))


@functools.cache
def _router() -> Any:
    """``engine.router``, imported on first use (not at import time; an import
    statement per delivery was measurable under load)."""
    from incidentflow.engine import router

    return router
