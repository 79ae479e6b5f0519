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


async def test_closed_subscription_is_not_notified():
    wakeup = Wakeup()
    subscription = wakeup.subscribe()
    subscription.close()
    wakeup.notify()
    await asyncio.sleep(0)
    assert await subscription.wait(timeout=0) is False


async def test_run_loop_processes_work_until_stopped(store, workers):
    wakeup = Wakeup(poll_seconds=30)  # long poll: only the notification can wake it
    store.on_work = wakeup.notify
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
