"""``SqlAsyncStore``: the SQL store's async face.

The hot path — deliveries and rejections, claims, finishes, retries, failures, the
leases' heartbeat, the rate limit's slots, the self-trigger guard's creates — goes to
the group-commit writer (``store.sql_hot_writes``) and its answer comes back on the
caller's event loop through ``store.loop_bridge``: no thread waits per call, and a
batch's answers wake the loop once. A cancelled caller still waits for its answer
(the job is in the writer's hands; nothing is abandoned). Everything else runs in a
worker thread (``store.threaded``). Driver errors arrive as ``StoreUnavailable``
(the writer translates them, ``store.driver_errors``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from incidentflow.events import Event
from incidentflow.rate_limit import RateLimit
from incidentflow.store.loop_bridge import answered
from incidentflow.store.records import (
    Admission,
    ClaimedExecution,
    DeliveryResult,
    Emitted,
    NewExecution,
)
from incidentflow.store.threaded import ThreadedStore
from incidentflow.store.writer import Write

if TYPE_CHECKING:
    from incidentflow.store.sql import SqlStore

T = TypeVar("T")


class SqlAsyncStore(ThreadedStore):
    def __init__(self, store: SqlStore):
        super().__init__(store)
        self._sql = store

    async def _written(self, write: Write[T]) -> T:
        answer: T = await answered(self._sql.write_then, write)
        return answer

    async def accept_delivery(
        self, endpoint_id: str, webhook_id: str | None,
        events: list[tuple[Event, list[NewExecution]]], now: datetime, reason: str = "",
    ) -> DeliveryResult:
        result = await self._written(
            self._sql.accept_write(endpoint_id, webhook_id, events, now, reason))
        self.meter.delivered(result)
        return result

    async def record_rejection(
        self, endpoint_id: str, reason: str, now: datetime, code: str = "other"
    ) -> None:
        await self._written(self._sql.reject_write(endpoint_id, reason, now, code))
        self.meter.rejected(code)

    async def claim(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int
    ) -> list[ClaimedExecution]:
        claimed: list[ClaimedExecution] = []
        if limit >= 1:
            claimed = await self._written(
                self._sql.claim_write(worker_id, now, lease_seconds, limit))
        self.meter.claimed(claimed, now)
        return claimed

    async def finish(
        self, execution_id: str, worker_id: str, resolved_config: dict[str, Any] | None,
        emitted: list[Emitted], now: datetime, origin: ClaimedExecution | None = None,
    ) -> bool:
        recorded = await self._written(self._sql.finish_write(
            execution_id, worker_id, resolved_config, emitted, now, origin))
        self.meter.ended("succeeded", execution_id, recorded)
        return recorded

    async def retry_later(
        self, execution_id: str, worker_id: str, error: str, details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None, next_attempt_at: datetime, now: datetime,
    ) -> bool:
        recorded = await self._written(self._sql.retry_later_write(
            execution_id, worker_id, error, details, resolved_config, next_attempt_at, now))
        self.meter.ended("retried", execution_id, recorded)
        return recorded

    async def fail(
        self, execution_id: str, worker_id: str, error: str, details: dict[str, Any] | None,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> bool:
        recorded = await self._written(self._sql.fail_write(
            execution_id, worker_id, error, details, resolved_config, now))
        self.meter.ended("failed", execution_id, recorded)
        return recorded

    async def extend_leases(
        self, worker_id: str, execution_ids: list[str], now: datetime, lease_seconds: float
    ) -> int:
        return await self._written(
            self._sql.extend_leases_write(worker_id, execution_ids, now, lease_seconds))

    async def take_create_slot(
        self, execution_id: str, worker_id: str, canvas: str, node: str, limit: RateLimit,
        resolved_config: dict[str, Any] | None, now: datetime,
    ) -> Admission:
        admission = await self._written(self._sql.take_create_slot_write(
            execution_id, worker_id, canvas, node, limit, resolved_config, now))
        self.meter.admitted(execution_id, admission)
        return admission

    async def begin_create(
        self, canvas: str, kind: str, execution_id: str, run_id: str, now: datetime
    ) -> None:
        await self._written(
            self._sql.begin_create_write(canvas, kind, execution_id, run_id, now))

    async def forget_create(self, execution_id: str) -> None:
        await self._written(self._sql.forget_create_write(execution_id))
