"""incidentflow.store.loop_bridge: calls from the writer thread reach the loop in batches,
a store call's answer outlives a cancelled waiter until it is in, and executions handed
over to a local worker reach it on its loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from incidentflow.store.loop_bridge import Answer, Inbox, OnLoop, on_loop, settle


async def test_calls_from_a_thread_run_on_the_loop_in_order_with_one_wakeup():
    loop = asyncio.get_running_loop()
    inbox = Inbox(loop)
    seen: list[tuple[int, bool]] = []
    wakeups = 0
    real = loop.call_soon_threadsafe

    def counting(*args):
        nonlocal wakeups
        wakeups += 1
        return real(*args)

    loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
    try:
        def from_thread() -> None:
            for number in range(50):
                inbox.put(lambda n: seen.append((n, loop.is_running())), number)

        thread = threading.Thread(target=from_thread)
        thread.start()
        thread.join()
        await asyncio.sleep(0.01)
    finally:
        del loop.call_soon_threadsafe
    assert seen == [(n, True) for n in range(50)]
    assert wakeups == 1  # everything queued before the loop ran came with one wakeup


async def test_a_cancelled_waiter_waits_for_the_answer_then_is_cancelled():
    answer: Answer[int] = Answer(loop=asyncio.get_running_loop())
    task = asyncio.create_task(_await(answer))
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0.02)
    assert not task.done()  # still waiting: the store call has not answered
    settle(answer, 7, None)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert answer.result() == 7


async def test_errors_reach_the_waiter():
    answer: Answer[int] = Answer(loop=asyncio.get_running_loop())
    settle(answer, None, RuntimeError("database is locked"))
    with pytest.raises(RuntimeError, match="locked"):
        await answer


async def _await(answer: Answer[int]) -> int:
    return await answer


class Slots:
    """A local worker that notes in which thread it was handed executions."""

    id, lease_seconds = "local", 60.0

    def __init__(self) -> None:
        self.free, self.handed_in = 2, []

    def reserve(self, wanted: int) -> int:
        granted = min(wanted, self.free)
        self.free -= granted
        return granted

    def unreserve(self, count: int) -> None:
        self.free += count

    def hand_over(self, jobs) -> None:
        self.handed_in.append((threading.current_thread(), list(jobs)))


async def test_hand_overs_from_another_thread_reach_the_worker_on_its_loop():
    worker = Slots()
    attached = on_loop(worker)
    assert isinstance(attached, OnLoop) and attached.id == "local"
    assert attached.reserve(5) == 2 and worker.free == 0  # slots are the worker's own
    thread = threading.Thread(target=attached.hand_over, args=(["job-1", "job-2"],))
    thread.start()
    thread.join()
    assert worker.handed_in == []  # not in the committing thread
    deadline = time.monotonic() + 5
    while not worker.handed_in and time.monotonic() < deadline:
        await asyncio.sleep(0.001)
    assert worker.handed_in == [(threading.current_thread(), ["job-1", "job-2"])]


def test_a_hand_over_to_a_closed_loop_gives_its_slots_back():
    loop = asyncio.new_event_loop()
    worker = Slots()
    attached = loop.run_until_complete(_attached(worker))
    loop.close()
    assert attached.reserve(2) == 2
    attached.hand_over(["job-1", "job-2"])
    assert (worker.free, worker.handed_in) == (2, [])


def test_without_a_running_loop_the_worker_is_handed_its_executions_as_it_is():
    worker = Slots()
    assert on_loop(worker) is worker


async def _attached(worker: Slots):
    return on_loop(worker)


def test_each_loop_gets_its_own_inbox_even_after_another_loop_asked():
    """``inbox()`` remembers the last loop's inbox for speed; a second loop (a test's,
    a thread's) must still get its own, and the first loop its own again."""
    from incidentflow.store.loop_bridge import inbox

    async def mine() -> tuple[Inbox, asyncio.AbstractEventLoop]:
        return inbox(), asyncio.get_running_loop()

    first_loop, second_loop = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        first, seen_first = first_loop.run_until_complete(mine())
        second, seen_second = second_loop.run_until_complete(mine())
        again, _ = first_loop.run_until_complete(mine())
    finally:
        first_loop.close()
        second_loop.close()
    assert first.loop is seen_first and second.loop is seen_second
    assert first is not second
    assert again is first
