"""``serve``'s engine in a child process, woken through a pipe.

One Python process cannot use a second core: under a webhook storm the event loop that
answers deliveries and the engine that runs them took turns on one interpreter lock,
and the group-commit writer waited for it inside its transaction (bench/profiles,
"Issue 14"). So ``serve`` runs the engine in a child process of its own, the pair
``serve --no-workers`` + ``incidentflow worker`` without the second command:

- **started by fork** once the modules are imported and the database migrated, so the
  child shares the parent's imported code copy-on-write (``gc.freeze`` keeps the
  collector from touching those pages) instead of costing a second interpreter's
  memory; neither side has a thread or a database connection at that moment;
- **woken through a pipe**: every commit of the parent that makes work due writes one
  byte (never blocking: a full pipe already holds a wake), so a delivery's run starts
  at once instead of at the SQLite worker's next poll;
- **tied to its parent**: the pipe's end of file (the parent stopped, or was killed)
  makes the child stop the way ``incidentflow worker`` stops, letting running
  executions finish, so no orphan keeps working after its server;
- **restarted** if it dies, after a pause, as a fresh ``incidentflow worker`` process
  (a fork of a process that runs threads is not safe); the parent logs why it ended.

Separate worker processes and ``--no-workers`` are unchanged; ``--workers-in-process``
keeps the engine in the serving process (and an in-memory database has to).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from incidentflow.settings import Settings

log = logging.getLogger(__name__)
RESTART_PAUSE_SECONDS = 1.0
STOP_WAIT_SECONDS = 20.0  # the app's grace for running executions, and some


class WakePipe:
    """The parent's end: ``wake()`` from any thread, never blocking."""

    def __init__(self) -> None:
        self.read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        # A closed descriptor's number may be reused by the next file opened: wake and
        # close must not interleave (the store's writer thread wakes, the main one closes).
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock, contextlib.suppress(BlockingIOError, OSError):
            if self._write_fd >= 0:  # BlockingIOError: the pipe is full, a wake is pending
                os.write(self._write_fd, b"w")

    def close_writing(self) -> None:
        """The child sees end of file and stops."""
        with self._lock, contextlib.suppress(OSError):
            if self._write_fd >= 0:
                os.close(self._write_fd)
            self._write_fd = -1

    def close_reading(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.read_fd)


def listen_to_parent(wake_fd: int, on_wake: Callable[[], None],
                     on_parent_gone: Callable[[], None]) -> None:
    """In the child, on its event loop: ``on_wake`` for each batch of wake bytes,
    ``on_parent_gone`` at end of file."""
    loop = asyncio.get_running_loop()
    os.set_blocking(wake_fd, False)

    def readable() -> None:
        try:
            data = os.read(wake_fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            on_wake()
            return
        loop.remove_reader(wake_fd)
        on_parent_gone()

    loop.add_reader(wake_fd, readable)


async def run_workers(web: Starlette, *, wake_fd: int | None = None,
                      announce: Callable[[], None] | None = None) -> None:
    """The workers (and the pruner) of the app ``web`` without an HTTP server, until
    SIGINT, SIGTERM or, with ``wake_fd``, the end of the parent's pipe."""
    web.state.start_workers = True
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with web.router.lifespan_context(web):
        if wake_fd is not None:
            listen_to_parent(wake_fd, web.state.host.wakeup.notify, stop.set)
        if announce is not None:
            announce()
        await stop.wait()


class WorkerProcess:
    """The parent's handle: ``start()`` forks the child, ``wake()`` wakes it,
    ``stop()`` ends it; a watcher thread restarts it if it dies meanwhile."""

    def __init__(self, settings: Settings, retention_days: int):
        self._settings = settings
        self._retention_days = retention_days
        self._pipe = WakePipe()
        self._stopping = threading.Event()
        self._pid: int | None = None
        self._watcher: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._pid

    def wake(self) -> None:
        self._pipe.wake()

    def start(self, web: Starlette) -> None:
        """Fork the child, which runs the workers of ``web`` (built, not started).
        Call before this process starts any thread or opens a database connection:
        the child gets a copy of this process as it is now."""
        gc.collect()
        gc.freeze()  # what is built stays on shared pages: the collector skips it
        pid = os.fork()
        if pid == 0:
            self._be_the_child(web)
        self._pid = pid
        self._watcher = threading.Thread(target=self._watch, name="incidentflow-worker-watch",
                                         daemon=True)
        self._watcher.start()
        log.info("worker process %d started", pid)

    def stop(self) -> None:
        """Close the pipe (the child finishes what it runs and exits); after
        ``STOP_WAIT_SECONDS``, terminate it, then kill it."""
        self._stopping.set()
        self._pipe.close_writing()
        watcher = self._watcher
        if watcher is not None:
            watcher.join(STOP_WAIT_SECONDS)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if not watcher.is_alive():  # it reaped the child
                    break
                with contextlib.suppress(ProcessLookupError, TypeError):
                    os.kill(self._pid, sig)  # type: ignore[arg-type]
                watcher.join(5.0)
        self._pipe.close_reading()

    # -- the parent's watcher thread ---------------------------------------------------
    def _watch(self) -> None:
        while self._pid is not None:
            try:
                _, status = os.waitpid(self._pid, 0)
            except ChildProcessError:
                return
            if self._stopping.is_set():
                return
            log.error("worker process %d ended (exit code %d); starting another in %.0f s",
                      self._pid, os.waitstatus_to_exitcode(status), RESTART_PAUSE_SECONDS)
            if self._stopping.wait(RESTART_PAUSE_SECONDS):
                return
            self._pid = self._spawn()
            log.info("worker process %d started", self._pid)

    def _spawn(self) -> int:
        """A fresh ``incidentflow worker`` reading the same pipe (exec, not fork: this
        process runs threads now)."""
        s = self._settings
        env = {**os.environ, "INCIDENTFLOW_DATA_DIR": str(s.data_dir),
               "INCIDENTFLOW_DATABASE_URL": s.database_url,
               "INCIDENTFLOW_PUBLIC_URL": s.public_url,
               "INCIDENTFLOW_RETENTION_DAYS": str(self._retention_days)}
        if s.log_json:
            env["INCIDENTFLOW_LOG_JSON"] = "1"
        argv = [sys.executable, "-m", "incidentflow", "worker", "--wake-fd",
                str(self._pipe.read_fd)]
        child = subprocess.Popen(argv, env=env, pass_fds=(self._pipe.read_fd,))
        # The watcher reaps it with waitpid; the Popen object must not try again.
        child.returncode = 0
        return child.pid

    # -- the child ---------------------------------------------------------------------
    def _be_the_child(self, web: Starlette) -> NoReturn:
        """Run the workers, then leave without the parent's cleanup (its ``finally``
        blocks and exit handlers belong to the parent)."""
        self._pipe.close_writing()  # else the child would never see the end of file
        code = 0
        try:
            try:
                asyncio.run(run_workers(web, wake_fd=self._pipe.read_fd))
            finally:
                web.state.host.store.close()  # this process's connections
        except KeyboardInterrupt:
            pass
        except BaseException:
            log.exception("the worker process failed")
            code = 1
        finally:
            logging.shutdown()
            os._exit(code)
