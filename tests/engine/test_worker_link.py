"""The link between serve and its worker process (worker_process.py): wakes, metrics
requests and the end of the link, on a real socket pair and a real event loop; the
Wakeup relay that feeds it; the sum of two processes' counters."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from incidentflow.engine.wakeup import Wakeup
from incidentflow.metrics import summed
from incidentflow.store import shared_between_processes
from incidentflow.worker_process import WorkerLink, answer_parent


class Child:
    """``answer_parent`` on the child's end, in this process."""

    def __init__(self, link: WorkerLink, metrics: bytes = b"m 1.0\n"):
        self.wakes = 0
        self.gone = asyncio.Event()
        self.metrics = metrics
        self.task = asyncio.create_task(
            answer_parent(link.child_fd, self._woken, self.gone.set, lambda: self.metrics))

    def _woken(self) -> None:
        self.wakes += 1


def test_wakes_and_metrics_cross_the_link_and_its_end_stops_the_child() -> None:
    async def scenario() -> None:
        link = WorkerLink()
        child = Child(link, b"incidentflow_x_total 3.0\n")
        threading.Thread(target=link.wake).start()  # from another thread, as the writer
        assert await link.ask_metrics() == b"incidentflow_x_total 3.0\n"
        while not child.wakes:
            await asyncio.sleep(0.01)
        child.metrics = b"incidentflow_x_total 4.0\n"
        assert await link.ask_metrics() == b"incidentflow_x_total 4.0\n"
        link.close_writing()
        await asyncio.wait_for(child.gone.wait(), 5)
        await child.task

    asyncio.run(scenario())


def test_a_late_answer_is_not_taken_for_the_next_one() -> None:
    async def scenario() -> None:
        link = WorkerLink()
        answers = iter([b"first\n", b"second\n"])
        hold = asyncio.Event()

        async def slow_child() -> None:
            # answers the first request only after the parent gave up on it
            loop = asyncio.get_running_loop()
            import socket
            import struct
            end = socket.socket(fileno=link.child_fd)
            end.setblocking(False)
            numbers = []
            pending = b""
            while len(numbers) < 2:
                pending += await loop.sock_recv(end, 64)
                while len(pending) >= 9:
                    numbers.append(struct.unpack("!Q", pending[1:9])[0])
                    pending = pending[9:]
                if len(numbers) == 1:
                    hold.set()
            for number in numbers:
                body = next(answers)
                await loop.sock_sendall(end, struct.pack("!QQ", number, len(body)) + body)
            end.close()

        task = asyncio.create_task(slow_child())
        assert await link.ask_metrics(timeout=0.2) is None  # no answer in time
        await hold.wait()
        assert await link.ask_metrics() == b"second\n"  # not "first", which came late
        await task
        link.close_writing()

    asyncio.run(scenario())


def test_asking_a_closed_or_silent_link_is_none_not_an_error() -> None:
    async def scenario() -> None:
        link = WorkerLink()
        assert await link.ask_metrics(timeout=0.2) is None  # nobody answers
        link.close_writing()
        assert await link.ask_metrics() is None
        link.close_child_end()

    asyncio.run(scenario())


def test_waking_never_blocks_on_a_full_buffer_nor_fails_after_closing() -> None:
    link = WorkerLink()
    try:
        for _ in range(2_000_000):  # far more than a socket buffer holds; nobody reads
            link.wake()
        link.close_writing()
        link.wake()  # after close: nothing written anywhere, no error
        assert os.read(link.child_fd, 10) == b"w" * 10  # the wakes written before
    finally:
        link.close_child_end()


def test_a_closed_link_does_not_write_into_a_file_that_reused_its_number() -> None:
    link = WorkerLink()
    link.close_writing()
    reader, writer = os.pipe()  # likely to get the number just freed
    try:
        link.wake()
        os.set_blocking(reader, False)
        with pytest.raises(BlockingIOError):
            os.read(reader, 10)
    finally:
        os.close(reader)
        os.close(writer)
        link.close_child_end()


def test_wakeup_relays_every_notify() -> None:
    wakeup = Wakeup()
    relayed: list[int] = []
    wakeup.relay(lambda: relayed.append(1))
    wakeup.notify()
    wakeup.notify()
    assert relayed == [1, 1]


def _process_counters(succeeded: float, failed: float | None, seconds: list[float]) -> (
        CollectorRegistry):
    registry = CollectorRegistry()
    runs = Counter("incidentflow_executions", "attempts", ["result"], registry=registry)
    runs.labels(result="succeeded").inc(succeeded)
    if failed is not None:
        runs.labels(result="failed").inc(failed)
    timing = Histogram("incidentflow_t_seconds", "t", buckets=(0.1, 1), registry=registry)
    for value in seconds:
        timing.observe(value)
    return registry


def test_two_processes_counters_are_summed_and_one_sided_series_kept() -> None:
    ours = _process_counters(2, None, [0.05])
    theirs = generate_latest(_process_counters(5, 1, [0.05, 0.5, 3]))
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in summed(ours.collect(), [theirs]) for s in family.samples}
    assert samples[("incidentflow_executions_total", (("result", "succeeded"),))] == 7
    assert samples[("incidentflow_executions_total", (("result", "failed"),))] == 1
    assert samples[("incidentflow_t_seconds_bucket", (("le", "0.1"),))] == 2
    assert samples[("incidentflow_t_seconds_bucket", (("le", "1.0"),))] == 3
    assert samples[("incidentflow_t_seconds_count", ())] == 4


@pytest.mark.parametrize(("url", "shared"), [
    ("sqlite:////tmp/x/incidentflow.db", True),
    ("sqlite:///relative.db", True),
    ("sqlite://", False),
    ("sqlite:///:memory:", False),
    ("postgresql+psycopg://postgres@127.0.0.1:5432/test", True),
])
def test_which_databases_another_process_shares(url: str, shared: bool) -> None:
    assert shared_between_processes(url) is shared
