"""The in-process wakeup and the worker's run loop."""

from __future__ import annotations

import asyncio
import threading

from engine_fixtures import NOW, chain

from incidentflow.canvas import Node
from incidentflow.engine.router import first_executions
from incidentflow.engine.wakeup import Wakeup
from incidentflow.events import Event


async def test_notification_from_another_thread_wakes_the_waiter():
    wakeup = Wakeup(poll_seconds=30)
    subscription = wakeup.subscribe()
    threading.Thread(target=wakeup.notify).start()
    assert await subscription.wait() is True


async def test_notification_while_busy_is_kept():
    wakeup = Wakeup(poll_seconds=30)
    subscription = wakeup.subscribe()
    wakeup.notify()
    await asyncio.sleep(0)  # let the thread-safe callback land
    assert await subscription.wait() is True
    assert await subscription.wait(timeout=0) is False  # consumed


async def test_notification_on_the_loop_itself_needs_no_thread_safe_call(monkeypatch):
    loop = asyncio.get_running_loop()
    crossings: list[object] = []
    monkeypatch.setattr(loop, "call_soon_threadsafe", lambda *args: crossings.append(args))
    wakeup = Wakeup(poll_seconds=30)
    subscription = wakeup.subscribe()
    wakeup.notify()
    assert crossings == []  # no self-pipe write, no extra turn of the loop
    assert await subscription.wait(timeout=0) is True


async def test_closed_subscription_is_not_notified():
    wakeup = Wakeup()
    subscription = wakeup.subscribe()
    subscription.close()
    wakeup.notify()
    await asyncio.sleep(0)
    assert await subscription.wait(timeout=0) is False


async def test_run_loop_processes_work_until_stopped(store, workers):
    wakeup = Wakeup(poll_seconds=30)  # long poll: only the notification can wake it
    store.wake_on_work(wakeup.notify)
    worker = workers.make(wakeup=wakeup)
    stop = asyncio.Event()
    loop_task = asyncio.create_task(worker.run(stop))
    canvas = chain("c", Node("One", "t.echo", {"message": "a"}), Node("Two", "t.echo"))
    store.save_canvas(canvas, "", [], NOW)
    event = Event("start.manual", {})
    run_id = await asyncio.to_thread(
        store.start_run, "c", "Start", event, first_executions(canvas, "Start", event), NOW
    )

    async def finished() -> None:
        while store.get_run(run_id).state == "running":
            await asyncio.sleep(0.01)

    await asyncio.wait_for(finished(), 10)
    stop.set()
    await asyncio.wait_for(loop_task, 10)
    assert [e.state for e in store.get_run(run_id).executions] == ["succeeded"] * 2


async def test_heartbeat_extends_the_lease_of_a_slow_execution(store, workers):
    from engine_fixtures import Block

    Block.started.clear()
    Block.release = asyncio.Event()
    workers.lease_seconds = 0.3  # a beat every 0.1 s of real time
    worker = workers.make()
    stop = asyncio.Event()
    loop_task = asyncio.create_task(worker.run(stop))
    canvas = chain("c", Node("Slow", "t.block"))
    store.save_canvas(canvas, "", [], NOW)
    event = Event("start.manual", {})
    run_id = await asyncio.to_thread(
        store.start_run, "c", "Start", event, first_executions(canvas, "Start", event), NOW
    )
    try:
        async with asyncio.timeout(10):
            while not Block.started:
                await asyncio.sleep(0.01)
        workers.clock.advance(seconds=10)  # far past the first lease's end

        def taken_over() -> bool:
            return bool(store.claim("thief", workers.clock(), 0.3, 1))

        async def extended() -> None:  # the next beat leases from the new "now"
            while store.queue_depth(workers.clock()) != 0:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(extended(), 10)
        assert not await asyncio.to_thread(taken_over)
    finally:
        Block.release.set()
        stop.set()
        await asyncio.wait_for(loop_task, 10)
    [execution] = store.get_run(run_id).executions
    assert (execution.state, execution.attempts) == ("succeeded", 1)


async def test_same_concurrency_key_waits_for_the_earlier_execution(store, workers):
    from engine_fixtures import Block

    Block.started.clear()
    Block.release = asyncio.Event()
    canvas = chain("c", Node("Slow", "t.block", concurrency_key="{{ root.data.incident }}"))
    store.save_canvas(canvas, "", [], NOW)
    runs = {}
    for name, incident in (("a1", "A"), ("b1", "B"), ("a2", "A")):
        event = Event("start.manual", {"incident": incident})
        runs[name] = store.start_run(
            "c", "Start", event, first_executions(canvas, "Start", event), NOW
        )
    worker = workers.make()
    stop = asyncio.Event()
    loop_task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(10):
            while len(Block.started) < 2:
                await asyncio.sleep(0.01)
        # A's second execution waits while A's first runs; B runs alongside.
        states = {n: store.get_run(r).executions[0].state for n, r in runs.items()}
        assert states == {"a1": "running", "b1": "running", "a2": "queued"}
        Block.release.set()

        async def all_done() -> None:
            while any(store.get_run(r).state == "running" for r in runs.values()):
                await asyncio.sleep(0.01)

        await asyncio.wait_for(all_done(), 10)
    finally:
        Block.release.set()
        stop.set()
        await asyncio.wait_for(loop_task, 10)
    order = {store.get_run(r).executions[0].id: n for n, r in runs.items()}
    assert [order[e] for e in Block.started][-1] == "a2"
