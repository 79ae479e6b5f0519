"""``serve``'s engine in a child process, linked to it by a socket pair.

One Python process cannot use a second core: under a webhook storm the event loop that
answers deliveries and the engine that runs them took turns on one interpreter lock,
and the group-commit writer waited for it inside its transaction (bench/profiles,
"Issue 14"). So ``serve`` runs the engine in a child process of its own, the pair
``serve --no-workers`` + ``incidentflow worker`` without the second command:

- **started by fork** once the modules are imported and the database migrated, so the
  child shares the parent's imported code copy-on-write (``gc.freeze`` keeps the
  collector from touching those pages) instead of costing a second interpreter's
  memory; neither side has a thread or a database connection at that moment;
- **woken through the link**: every commit of the parent that makes work due writes one
  byte (never blocking: a full buffer already holds a wake), so a delivery's run starts
  at once instead of at the SQLite worker's next poll;
- **counted by its parent**: the parent's ``/metrics`` asks the child for its counters
  over the same link and adds them to its own, so one scrape still sees the engine;
- **tied to its parent**: the link's end of file (the parent stopped, or was killed)
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
import socket
import struct
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
# The link's requests: one byte "w" (wake up), or "m" and an 8-byte number (send your
# metrics, answered by a frame with that number).
WAKE, METRICS = b"w", b"m"
METRICS_TIMEOUT_SECONDS = 2.0


class WorkerLink:
    """The parent's end of the socket pair to its worker process: ``wake()`` from any
    thread, never blocking; ``ask_metrics()`` on the event loop, the child's counters
    (``metrics.REGISTRY``) as Prometheus text, or None when it does not answer."""

    def __init__(self) -> None:
        mine, theirs = socket.socketpair()
        self.child_fd = theirs.detach()
        self._socket = mine
        mine.setblocking(False)
        self._fd = mine.fileno()
        # A closed descriptor's number may be reused by the next file opened: writes and
        # the close must not interleave (the store's writer thread wakes, the main one
        # closes).
        self._lock = threading.Lock()
        self._asked = 0
        self._asking: asyncio.Lock | None = None
        self._replies = bytearray()

    def wake(self) -> None:
        self._send(WAKE)  # False: the buffer is full of wakes, or the link is closed

    async def ask_metrics(self, timeout: float = METRICS_TIMEOUT_SECONDS) -> bytes | None:
        if self._asking is None:
            self._asking = asyncio.Lock()
        async with self._asking:
            self._asked += 1
            if not self._send(METRICS + struct.pack("!Q", self._asked)):
                return None
            try:
                return await asyncio.wait_for(self._reply(self._asked), timeout)
            except (TimeoutError, OSError):
                return None

    async def _reply(self, wanted: int) -> bytes:
        """The answer numbered ``wanted``; earlier ones (asked by a scrape that timed
        out) are dropped. Bytes stay buffered across a cancellation, so a frame is
        never cut in two."""
        loop = asyncio.get_running_loop()
        while True:
            frame = _take_frame(self._replies)
            if frame is not None:
                number, body = frame
                if number == wanted:
                    return body
                continue
            chunk = await loop.sock_recv(self._socket, 65536)
            if not chunk:
                raise OSError("the worker process closed its end")
            self._replies += chunk

    def close_writing(self) -> None:
        """The child sees end of file and stops."""
        with self._lock:
            if self._fd >= 0:
                with contextlib.suppress(OSError):
                    self._socket.shutdown(socket.SHUT_WR)
                self._socket.close()
            self._fd = -1

    def forget_parent_end(self) -> None:
        """In the forked child: close its copy of the parent's end (a close, not a
        shutdown, which would end the parent's end too)."""
        self._fd = -1
        self._socket.close()

    def close_child_end(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.child_fd)

    def _send(self, data: bytes) -> bool:
        with self._lock:
            if self._fd < 0:
                return False
            try:
                return os.write(self._fd, data) == len(data)
            except OSError:  # BlockingIOError among them
                return False


_FRAME_HEAD = struct.Struct("!QQ")  # answer number, body length


def _take_frame(buffer: bytearray) -> tuple[int, bytes] | None:
    if len(buffer) < _FRAME_HEAD.size:
        return None
    number, length = _FRAME_HEAD.unpack_from(buffer)
    end = _FRAME_HEAD.size + length
    if len(buffer) < end:
        return None
    body = bytes(buffer[_FRAME_HEAD.size:end])
    del buffer[:end]
    return number, body


def _requests(buffer: bytearray) -> tuple[bool, list[int]]:
    """Take the complete requests off ``buffer``: (any wake, metrics answers asked)."""
    woke, asked = False, []
    while buffer:
        kind = buffer[:1]
        if kind == METRICS:
            if len(buffer) < 9:
                break  # the rest of its number is still on its way
            asked.append(struct.unpack_from("!Q", buffer, 1)[0])
            del buffer[:9]
            continue
        woke = woke or kind == WAKE
        del buffer[:1]
    return woke, asked


async def answer_parent(fd: int, on_wake: Callable[[], None],
                        on_parent_gone: Callable[[], None],
                        own_metrics: Callable[[], bytes]) -> None:
    """In the child, until the parent's end closes: ``on_wake`` for wakes, this
    process's metrics for each request, then ``on_parent_gone``."""
    loop = asyncio.get_running_loop()
    link = socket.socket(fileno=fd)
    link.setblocking(False)
    pending = bytearray()
    try:
        while True:
            try:
                data = await loop.sock_recv(link, 4096)
            except OSError:
                data = b""
            if not data:
                on_parent_gone()
                return
            pending += data
            woke, asked = _requests(pending)
            if woke:
                on_wake()
            for number in asked:
                body = own_metrics()
                try:
                    await loop.sock_sendall(link, _FRAME_HEAD.pack(number, len(body)) + body)
                except OSError:  # the parent's end is gone: as at end of file
                    on_parent_gone()
                    return
    finally:
        link.close()


async def run_workers(web: Starlette, *, wake_fd: int | None = None,
                      announce: Callable[[], None] | None = None) -> None:
    """The workers (and the pruner) of the app ``web`` without an HTTP server, until
    SIGINT, SIGTERM or, with ``wake_fd``, the end of the parent's link."""
    web.state.start_workers = True
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with web.router.lifespan_context(web):
        parent = None
        if wake_fd is not None:
            from incidentflow.metrics import own_text

            parent = asyncio.create_task(
                answer_parent(wake_fd, web.state.host.wakeup.notify, stop.set, own_text))
        if announce is not None:
            announce()
        await stop.wait()
        if parent is not None:
            parent.cancel()


class WorkerProcess:
    """The parent's handle: ``start()`` forks the child, ``wake()`` wakes it,
    ``stop()`` ends it; a watcher thread restarts it if it dies meanwhile."""

    def __init__(self, settings: Settings, retention_days: int):
        self._settings = settings
        self._retention_days = retention_days
        self.link = WorkerLink()
        self._stopping = threading.Event()
        self._pid: int | None = None
        self._watcher: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._pid

    def wake(self) -> None:
        self.link.wake()

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
        """Close the link (the child finishes what it runs and exits); after
        ``STOP_WAIT_SECONDS``, terminate it, then kill it."""
        self._stopping.set()
        self.link.close_writing()
        watcher = self._watcher
        if watcher is not None:
            watcher.join(STOP_WAIT_SECONDS)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                if not watcher.is_alive():  # it reaped the child
                    break
                with contextlib.suppress(ProcessLookupError, TypeError):
                    os.kill(self._pid, sig)  # type: ignore[arg-type]
                watcher.join(5.0)
        self.link.close_child_end()

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
        """A fresh ``incidentflow worker`` on the same link (exec, not fork: this
        process runs threads now)."""
        s = self._settings
        env = {**os.environ, "INCIDENTFLOW_DATA_DIR": str(s.data_dir),
               "INCIDENTFLOW_DATABASE_URL": s.database_url,
               "INCIDENTFLOW_PUBLIC_URL": s.public_url,
               "INCIDENTFLOW_RETENTION_DAYS": str(self._retention_days)}
        if s.log_json:
            env["INCIDENTFLOW_LOG_JSON"] = "1"
        argv = [sys.executable, "-m", "incidentflow", "worker", "--wake-fd",
                str(self.link.child_fd)]
        child = subprocess.Popen(argv, env=env, pass_fds=(self.link.child_fd,))
        # The watcher reaps it with waitpid; the Popen object must not try again.
        child.returncode = 0
        return child.pid

    # -- the child ---------------------------------------------------------------------
    def _be_the_child(self, web: Starlette) -> NoReturn:
        """Run the workers, then leave without the parent's cleanup (its ``finally``
        blocks and exit handlers belong to the parent)."""
        self.link.forget_parent_end()  # else the child would never see the end of file
        code = 0
        try:
            try:
                asyncio.run(run_workers(web, wake_fd=self.link.child_fd))
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
