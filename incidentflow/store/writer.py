"""Group commit: many small write transactions share one commit (one fsync).

Concurrent writers (webhook deliveries, claims, finishes) each ``submit`` a job: a
function of an open connection. One writer thread takes every job waiting, runs them
in one transaction, commits once, and only then resolves each job's future with its
result. A job that raises gets its own error, and the batch is redone without it (a
failing job never fails its batch-mates; no savepoint per job, which would cost two
statements each on the hot path). Nothing is answered before the commit, so "2xx only
after the delivery is durable" holds.

Under no load a batch holds one job and waits for nothing; under load the batch grows
while the previous commit's fsync runs, so throughput follows the load instead of the
disk's fsync rate.

Jobs of one kind may share a ``Group``: the batch then runs all of that group's jobs
with one call of ``Group.run_many`` (set-based statements: one ``executemany`` for the
whole batch instead of a few statements per job; executing statements, not the
database, was the writer's cost). If ``run_many`` raises, the batch is redone with
each job run alone, so a failing job still fails alone.

A job may say its transaction made work due (``wakes``): the batch then calls
``before_commit`` inside the transaction (PostgreSQL: NOTIFY) and ``after_commit``
once after it (in-process workers wake at once).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.engine import Connection

from incidentflow.store.driver_errors import translated

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 512
# Batches of two processes may lock rows (runs, endpoint counters) in opposite orders;
# PostgreSQL then aborts one of them. Redo it: the other has committed meanwhile.
MAX_CONFLICT_RETRIES = 5
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure


class Group(Protocol):
    """Runs the payloads of many jobs of one kind in one go, in order; returns one
    result per payload (``submit(..., group=, payload=)``)."""

    def run_many(self, conn: Connection, payloads: list[Any]) -> list[Any]: ...


# Called in the writer thread with (result, None) after the commit, or (None, error).
Then = Callable[[Any, BaseException | None], None]


@dataclass(slots=True)
class _Job(Generic[T]):
    run: Callable[[Connection], T]
    wakes: Callable[[T], bool] | None
    durable: bool
    after: Callable[[bool], None] | None = None  # told whether the job was committed
    group: Group | None = None
    payload: Any = None
    future: Future[T] | None = None  # the answer: a future, or ``then``
    then: Then | None = None
    settled: bool = False


@dataclass(frozen=True, slots=True)
class Write(Generic[T]):
    """One job for the writer, as ``submit`` takes it: built once by the store, then
    waited for by a caller that may block (``write``) or answered through a callback
    (``write_then``: the async face awaits it on its event loop)."""

    run: Callable[[Connection], T]
    wakes: Callable[[T], bool] | None = None
    durable: bool = True
    after: Callable[[bool], None] | None = None
    group: Group | None = None
    payload: Any = None


@dataclass
class Hooks:
    """What the writer calls around a batch that made work due."""

    before_commit: Callable[[Connection], None] | None = None
    after_commit: Callable[[], None] | None = None


def waited(call: Callable[..., None], *args: Any) -> Any:
    """``call(*args, then)``, a store call that answers through ``then(result, error)``
    (``submit_then``), for a caller that may block: its result, or its error raised."""
    future: Future[Any] = Future()

    def then(result: Any, error: BaseException | None) -> None:
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    call(*args, then)
    return future.result()


class GroupCommitWriter:
    def __init__(
        self,
        transaction: Callable[[bool], AbstractContextManager[Connection]],
        hooks: Hooks | None = None,
    ):
        """``transaction(durable)`` opens one write transaction; ``durable=False`` when
        no job of the batch needs its commit to survive a power cut (claims)."""
        self._transaction = transaction
        self.hooks = hooks or Hooks()
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def submit(
        self,
        run: Callable[[Connection], T],
        wakes: Callable[[T], bool] | None = None,
        *,
        durable: bool = True,
        after: Callable[[bool], None] | None = None,
        group: Group | None = None,
        payload: Any = None,
    ) -> Future[T]:
        """Queue ``run`` for the next batch; the future resolves after its commit.
        ``after(committed)`` is called in the writer thread before the future resolves.
        With ``group``, the batch runs ``group.run_many(conn, [payload, ...])`` for all
        its jobs of that group instead (``run`` alone when a batch is redone)."""
        future: Future[T] = Future()
        self._put(_Job(run, wakes, durable, after, group, payload, future=future))
        return future

    def submit_then(
        self,
        run: Callable[[Connection], T],
        then: Then,
        wakes: Callable[[T], bool] | None = None,
        *,
        durable: bool = True,
        after: Callable[[bool], None] | None = None,
        group: Group | None = None,
        payload: Any = None,
    ) -> None:
        """``submit`` for callers on an event loop: no future (a ``Future`` costs a
        lock and a condition, a large share of a fast job); ``then(result, error)`` is
        called in the writer thread once the job is settled."""
        self._put(_Job(run, wakes, durable, after, group, payload, then=then))

    def write(self, write: Write[T]) -> T:
        """Run ``write`` in the next batch and wait for its commit: its result, or its
        error raised."""
        return self.submit(write.run, write.wakes, durable=write.durable, after=write.after,
                           group=write.group, payload=write.payload).result()

    def write_then(self, write: Write[Any], then: Then) -> None:
        """Run ``write`` in the next batch; ``then(result, error)`` once it is settled."""
        self._put(_Job(write.run, write.wakes, write.durable, write.after, write.group,
                       write.payload, then=then))

    def _put(self, job: _Job[Any]) -> None:
        self._ensure_thread()
        self._jobs.put(job)

    def close(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._jobs.put(None)
            thread.join(timeout=30)
        self._thread = None

    def _ensure_thread(self) -> None:
        # The thread ends only by close(), or after clearing ``_thread`` if it fails
        # (``_loop``): "started" is enough here; ``is_alive()`` per job costs a lock.
        if self._thread is not None:
            return
        with self._start_lock:  # started on first use: a process that never writes has none
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="incidentflow-writer", daemon=True
                )
                self._thread.start()

    # -- the writer thread ---------------------------------------------------------------
    def _loop(self) -> None:
        batch: list[_Job[Any]] = []
        try:
            while True:
                batch = self._next_batch() or []
                if not batch:
                    return
                self._commit(batch)
        except BaseException as exc:
            # A bug, not a database error (those are answered to their jobs): answer
            # the batch with it, and let the next submit start a new thread instead of
            # queueing forever.
            log.exception("the group-commit writer thread failed; a new one will start")
            for job in batch:
                if not job.settled:
                    _settle(job, None, exc)
            with self._start_lock:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _next_batch(self) -> list[_Job[Any]] | None:
        first = self._jobs.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:  # close(): finish this batch, then stop
                self._jobs.put(None)
                break
            batch.append(job)
        return batch

    def _commit(self, batch: list[_Job[Any]]) -> None:
        """Commit ``batch``; a job that raises is answered with its error and the
        transaction is rolled back and redone without it (its batch-mates re-run from
        the same state, so they do what they did; jobs are pure database work). A
        deadlock or serialization failure is nobody's fault: the batch is redone."""
        conflicts = 0
        grouped = True
        while batch:
            try:
                results, woke = self._run(batch, grouped)
            except _GroupFailed:
                grouped = False  # find the failing job: redo with each job alone
                continue
            except _JobFailed as failed:
                if _transient(failed.error) and conflicts < MAX_CONFLICT_RETRIES:
                    conflicts += 1
                    continue
                _settle(batch[failed.index], None, failed.error)
                batch = batch[: failed.index] + batch[failed.index + 1 :]
                continue
            except BaseException as exc:  # the commit failed: nothing is durable
                if _transient(exc) and conflicts < MAX_CONFLICT_RETRIES:
                    conflicts += 1
                    continue
                for job in batch:
                    _settle(job, None, exc)
                return
            if woke and self.hooks.after_commit is not None:
                _safely(self.hooks.after_commit)
            for job, result in zip(batch, results, strict=True):
                _settle(job, result, None)
            return

    def _run(self, batch: list[_Job[Any]], grouped: bool) -> tuple[list[Any], bool]:
        results: list[Any] = [_PENDING] * len(batch)
        woke = False
        with self._transaction(any(job.durable for job in batch)) as conn:
            for index, job in enumerate(batch):
                if results[index] is not _PENDING:  # ran with its group
                    continue
                if grouped and job.group is not None:
                    _run_group(conn, batch, index, results)
                else:
                    try:
                        results[index] = job.run(conn)
                    except Exception as exc:
                        raise _JobFailed(index, exc) from exc
            for job, result in zip(batch, results, strict=True):
                woke = woke or (job.wakes is not None and bool(job.wakes(result)))
            if woke and self.hooks.before_commit is not None:
                self.hooks.before_commit(conn)
        return results, woke


_PENDING: Any = object()


def _run_group(conn: Connection, batch: list[_Job[Any]], first: int, results: list[Any]) -> None:
    """Run every job of ``batch[first]``'s group, at the place of the first one."""
    group = batch[first].group
    members = [i for i in range(first, len(batch)) if batch[i].group is group]
    try:
        answers = group.run_many(conn, [batch[i].payload for i in members])  # type: ignore[union-attr]
    except Exception as exc:
        raise _GroupFailed() from exc
    if len(answers) != len(members):
        raise _GroupFailed()
    for i, answer in zip(members, answers, strict=True):
        results[i] = answer


class _GroupFailed(Exception):
    """A group's ``run_many`` raised: the batch is redone with each job alone."""


class _JobFailed(Exception):
    def __init__(self, index: int, error: Exception):
        super().__init__(str(error))
        self.index, self.error = index, error


def _settle(job: _Job[Any], result: Any, error: BaseException | None) -> None:
    job.settled = True
    if error is not None:  # the callers see StoreUnavailable, not the driver's error
        error = translated(error)
    if job.after is not None:
        _safely(job.after, error is None)
    if job.then is not None:
        _safely(job.then, result, error)
        return
    future = job.future
    if future is not None and future.set_running_or_notify_cancel():
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)


def _transient(exc: BaseException) -> bool:
    original = getattr(exc, "orig", None) or exc
    return getattr(original, "sqlstate", None) in _TRANSIENT_SQLSTATES


def _safely(hook: Callable[..., None], *args: Any) -> None:
    try:
        hook(*args)
    except Exception:
        log.exception("after-commit hook failed")

