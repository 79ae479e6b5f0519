"""``WriteLock``: who may open a SQLite write transaction, in this process and across
processes sharing the database file.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps
(1, 2, 5, 10 ms and longer) between tries. A process that commits back to back, like
`serve`'s group-commit writer under an alert storm, takes the lock again long before
a sleeping process wakes: measured with `serve --no-workers` beside an `incidentflow
worker`, the worker finished 168 runs/s while deliveries poured in, then 2,500/s
once they stopped (bench/profiles/FINDINGS.md, issue 14 round 3).

So every write transaction first takes this lock: a thread lock (writers of one
process queue up in it), then an exclusive ``flock`` on a file beside the database,
which the kernel hands to a waiting process as soon as it is released (the wait is a
blocking system call, no polling, and it releases the GIL). Only then ``BEGIN
IMMEDIATE``, which then finds the database free, is issued. The file holds nothing;
it is opened per process (a forked child opens its own, since a shared open file
would share the lock).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


class WriteLock:
    def __init__(self, database_path: Path | None):
        """``database_path``: the SQLite file, or None (in memory: one process only)."""
        self.path = None if database_path is None else Path(f"{database_path}-writer.lock")
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._unavailable = False

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._thread_lock:
            fd = self._file()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._thread_lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None

    def _file(self) -> int | None:
        if self.path is None or self._unavailable:
            return None
        if self._fd is None or self._pid != os.getpid():
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                # No lock file (a missing or read-only directory): write without it. The
                # database is then most likely unreachable too, and SQLite says so in its
                # own words (StoreUnavailable), which is the error worth showing.
                log.warning("no write lock file %s (%s): writers of other processes may "
                            "wait longer", self.path, exc.strerror or exc)
                self._unavailable = True  # said once; not tried again by this process
                return None
            self._pid = os.getpid()
        return self._fd
