"""incidentflow.store.loop_bridge: calls from the writer thread reach the loop in batches,
and a store
call's answer outlives a cancelled waiter until it is in."""

from __future__ import annotations

import asyncio
import threading

import pytest

from incidentflow.store.loop_bridge import Answer, Inbox, settle


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
