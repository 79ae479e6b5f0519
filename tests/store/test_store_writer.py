"""The group-commit writer on its own: batching, per-job errors, conflict retries."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest

from incidentflow.store.writer import GroupCommitWriter, Hooks


class Conflict(Exception):
    sqlstate = "40P01"  # what psycopg reports for a deadlock


class FakeDatabase:
    """Records what each transaction did; a transaction commits if no error escapes."""

    def __init__(self) -> None:
        self.committed: list[list[str]] = []
        self.durable: list[bool] = []

    @contextmanager
    def transaction(self, durable: bool):
        done: list[str] = []
        yield done
        self.committed.append(done)
        self.durable.append(durable)


def held(writer: GroupCommitWriter) -> threading.Event:
    release, started = threading.Event(), threading.Event()

    def block(conn):
        started.set()
        release.wait(10)

    writer.submit(block)
    started.wait(10)
    return release


def write(name: str):
    def job(conn):
        conn.append(name)
        return name

    return job


def test_waiting_jobs_share_one_commit_and_claims_alone_are_not_durable():
    db = FakeDatabase()
    writer = GroupCommitWriter(db.transaction)
    release = held(writer)
    futures = [writer.submit(write("a")), writer.submit(write("b"), durable=False)]
    release.set()
    assert [f.result(10) for f in futures] == ["a", "b"]
    claim = writer.submit(write("claim"), durable=False)
    assert claim.result(10) == "claim"
    writer.close()
    assert db.committed[1:] == [["a", "b"], ["claim"]]
    assert db.durable[1:] == [True, False]


def test_a_conflict_redoes_the_batch_instead_of_failing_a_job():
    db = FakeDatabase()
    woke: list[bool] = []
    writer = GroupCommitWriter(db.transaction, Hooks(after_commit=lambda: woke.append(True)))
    conflicts = iter([True])

    def conflicted_once(conn):
        if next(conflicts, False):
            raise Conflict("deadlock detected")
        conn.append("c")
        return "c"

    release = held(writer)
    futures = [writer.submit(write("a")), writer.submit(conflicted_once, lambda _: True)]
    release.set()
    assert [f.result(10) for f in futures] == ["a", "c"]
    writer.close()
    assert db.committed[1:] == [["a", "c"]] and woke == [True]


def test_after_hook_learns_whether_its_job_was_committed():
    db = FakeDatabase()
    writer = GroupCommitWriter(db.transaction)
    told: dict[str, bool] = {}

    def broken(conn):
        raise ValueError("bad input")

    release = held(writer)
    ok = writer.submit(write("a"), after=lambda c: told.__setitem__("a", c))
    bad = writer.submit(broken, after=lambda c: told.__setitem__("bad", c))
    release.set()
    assert ok.result(10) == "a"
    with pytest.raises(ValueError, match="bad input"):
        bad.result(10)
    writer.close()
    assert told == {"a": True, "bad": False}


class Doubling:
    """A group whose ``run_many`` records one entry for the whole batch."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_on = fail_on

    def run_many(self, conn, payloads):
        self.calls.append(list(payloads))
        if self.fail_on in payloads:
            raise ValueError(self.fail_on)
        conn.append("+".join(payloads))
        return [p * 2 for p in payloads]


def test_jobs_of_a_group_run_together_in_one_call():
    db = FakeDatabase()
    writer = GroupCommitWriter(db.transaction)
    group = Doubling()
    release = held(writer)
    futures = [writer.submit(write("a")),
               writer.submit(write("x"), group=group, payload="x"),
               writer.submit(write("b")),
               writer.submit(write("y"), group=group, payload="y")]
    release.set()
    assert [f.result(10) for f in futures] == ["a", "xx", "b", "yy"]
    assert group.calls == [["x", "y"]]
    assert db.committed[-1] == ["a", "x+y", "b"]


def test_a_failing_group_is_redone_job_by_job_so_only_the_culprit_fails():
    db = FakeDatabase()
    writer = GroupCommitWriter(db.transaction)
    group = Doubling(fail_on="bad")

    def alone(name):
        def run(conn):
            if name == "bad":
                raise ValueError(name)
            conn.append(name)
            return name * 2
        return run

    release = held(writer)
    good = writer.submit(alone("ok"), group=group, payload="ok")
    bad = writer.submit(alone("bad"), group=group, payload="bad")
    release.set()
    assert good.result(10) == "okok"
    with pytest.raises(ValueError, match="bad"):
        bad.result(10)
    assert db.committed[-1] == ["ok"]


def test_a_bug_in_the_writer_thread_answers_its_batch_and_a_new_thread_takes_over(
    tmp_path, monkeypatch, caplog
):
    """Database errors are answered job by job; anything else that escapes kills the
    thread. Its batch gets the error, and the next submit starts a new thread."""
    from incidentflow.store.database import Database

    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    writer = db.writer
    real = writer._commit
    calls = []

    def broken_once(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            raise RuntimeError("a bug in the batch loop")
        real(batch)

    monkeypatch.setattr(writer, "_commit", broken_once)
    first = writer.submit(lambda conn: 1)
    with pytest.raises(RuntimeError, match="a bug"):
        first.result(10)
    assert writer.submit(lambda conn: 2).result(10) == 2  # a new thread answered
    assert "writer thread failed" in caplog.text
    writer.close()
    db.engine.dispose()
