"""The wake pipe between serve and its worker process (worker_process.py), and the
Wakeup relay that feeds it, on a real pipe and a real event loop."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from incidentflow.engine.wakeup import Wakeup
from incidentflow.store import shared_between_processes
from incidentflow.worker_process import WakePipe, listen_to_parent


async def _listen(pipe: WakePipe, wakes: list[int], gone: asyncio.Event) -> None:
    listen_to_parent(pipe.read_fd, lambda: wakes.append(1), gone.set)


def test_a_wake_reaches_the_listener_and_the_end_of_the_pipe_says_the_parent_is_gone() -> None:
    async def scenario() -> tuple[int, bool]:
        pipe = WakePipe()
        wakes: list[int] = []
        gone = asyncio.Event()
        await _listen(pipe, wakes, gone)
        threading.Thread(target=pipe.wake).start()  # from another thread, as the writer
        while not wakes:
            await asyncio.sleep(0.01)
        pipe.close_writing()
        await asyncio.wait_for(gone.wait(), 5)
        pipe.close_reading()
        return len(wakes), gone.is_set()

    woken, parent_gone = asyncio.run(scenario())
    assert woken >= 1 and parent_gone


def test_waking_never_blocks_on_a_full_pipe_nor_fails_after_closing() -> None:
    pipe = WakePipe()
    try:
        for _ in range(200_000):  # far more than a pipe buffer holds; nobody reads
            pipe.wake()
        pipe.close_writing()
        pipe.wake()  # after close: nothing written anywhere, no error
        assert os.read(pipe.read_fd, 10)  # the wakes written before are there
    finally:
        pipe.close_reading()


def test_a_closed_wake_pipe_does_not_write_into_a_file_that_reused_its_number() -> None:
    pipe = WakePipe()
    pipe.close_writing()
    reader, writer = os.pipe()  # likely to get the number just freed
    try:
        pipe.wake()
        os.set_blocking(reader, False)
        with pytest.raises(BlockingIOError):
            os.read(reader, 10)
    finally:
        os.close(reader)
        os.close(writer)
        pipe.close_reading()


def test_wakeup_relays_every_notify() -> None:
    wakeup = Wakeup()
    relayed: list[int] = []
    wakeup.relay(lambda: relayed.append(1))
    wakeup.notify()
    wakeup.notify()
    assert relayed == [1, 1]


@pytest.mark.parametrize(("url", "shared"), [
    ("sqlite:////tmp/x/incidentflow.db", True),
    ("sqlite:///relative.db", True),
    ("sqlite://", False),
    ("sqlite:///:memory:", False),
    ("postgresql+psycopg://postgres@127.0.0.1:5432/test", True),
])
def test_which_databases_another_process_shares(url: str, shared: bool) -> None:
    assert shared_between_processes(url) is shared
