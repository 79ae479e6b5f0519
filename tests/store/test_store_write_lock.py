"""store.write_lock: SQLite writers of every process sharing a database file take
turns through one file lock, before ``BEGIN IMMEDIATE``; an in-memory database has
no file to lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from incidentflow.store.database import Database, sqlite_file
from incidentflow.store.write_lock import WriteLock


def _hold_in_thread(lock: WriteLock) -> tuple[threading.Event, threading.Event, threading.Thread]:
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock.held():
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(5)
    return held, release, thread


def _acquire_in_thread(lock: WriteLock) -> tuple[threading.Event, threading.Thread]:
    got = threading.Event()

    def take() -> None:
        with lock.held():
            got.set()

    thread = threading.Thread(target=take)
    thread.start()
    return got, thread


def test_a_second_lock_on_the_same_file_waits_for_the_first(tmp_path: Path):
    # Two WriteLocks are two open files, as two processes would have.
    first, second = WriteLock(tmp_path / "db.sqlite"), WriteLock(tmp_path / "db.sqlite")
    _, release, holder = _hold_in_thread(first)
    got, taker = _acquire_in_thread(second)
    assert not got.wait(0.3)  # still held by the first
    release.set()
    assert got.wait(5)  # handed over once released, without polling
    holder.join(5)
    taker.join(5)
    first.close()
    second.close()


def test_locks_of_different_databases_do_not_wait_for_each_other(tmp_path: Path):
    first, second = WriteLock(tmp_path / "a.sqlite"), WriteLock(tmp_path / "b.sqlite")
    _, release, holder = _hold_in_thread(first)
    got, taker = _acquire_in_thread(second)
    assert got.wait(5)
    release.set()
    holder.join(5)
    taker.join(5)


@pytest.mark.parametrize("url, file", [
    ("sqlite://", None),
    ("sqlite:///:memory:", None),
    ("sqlite:///file::memory:?cache=shared", None),
    ("sqlite:////data/incidentflow.db", "/data/incidentflow.db"),
])
def test_only_a_database_file_gets_a_lock_file(url: str, file: str | None):
    found = sqlite_file(sa.make_url(url))
    assert (None if found is None else str(found)) == file


def test_an_in_memory_lock_still_serialises_this_process(tmp_path: Path):
    lock = WriteLock(None)
    _, release, holder = _hold_in_thread(lock)
    got, taker = _acquire_in_thread(lock)
    assert not got.wait(0.3)
    release.set()
    assert got.wait(5)
    holder.join(5)
    taker.join(5)


def test_a_forked_child_opens_its_own_lock_file(tmp_path: Path):
    lock = WriteLock(tmp_path / "db.sqlite")
    with lock.held():
        pass
    parent_fd = lock._fd
    lock._pid = -1  # as a forked child sees it: another process id than the opener's
    with lock.held():
        pass
    assert lock._fd is not None and lock._fd != parent_fd
    lock.close()


def test_a_write_of_another_database_object_waits_for_the_open_one(tmp_path: Path):
    """Two stores on one file (two processes): the second's write transaction starts
    only once the first commits, and then sees its row."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    first, second = Database(url), Database(url)
    with first.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (n INTEGER)"))
    opened, release = threading.Event(), threading.Event()

    def first_writer() -> None:
        with first.write() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            opened.set()
            release.wait(10)

    seen: list[int] = []

    def second_writer() -> None:
        with second.write() as conn:
            seen.append(int(conn.scalar(sa.text("SELECT count(*) FROM t"))))
            conn.execute(sa.text("INSERT INTO t VALUES (2)"))

    one = threading.Thread(target=first_writer)
    one.start()
    assert opened.wait(5)
    two = threading.Thread(target=second_writer)
    two.start()
    two.join(0.3)
    assert two.is_alive() and seen == []  # waiting for the lock, not failing
    release.set()
    one.join(5)
    two.join(5)
    assert seen == [1]
    assert (tmp_path / "shared.sqlite-writer.lock").exists()
    first.close()
    second.close()


def test_without_a_lock_file_writes_go_on_without_it(tmp_path: Path, caplog):
    """A directory where the lock file cannot be made: no file lock (SQLite then
    reports the database itself, if it is unreachable too)."""
    lock = WriteLock(tmp_path / "missing" / "db.sqlite")
    with lock.held():
        entered = True
    assert entered
    assert "no write lock file" in caplog.text
    caplog.clear()
    with lock.held():
        pass
    assert "no write lock file" not in caplog.text  # said once
