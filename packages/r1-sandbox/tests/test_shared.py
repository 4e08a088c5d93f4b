"""One sandbox per configuration, one concurrency bound across every loop and thread."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from r1_sandbox import Job, RunResult, Sandbox, Status, shared_sandbox


class CountingSandbox(Sandbox):
    """A backend whose runs sleep a little and count how many are in flight at once."""

    name = "counting"

    def __init__(self, concurrency: int = 2) -> None:
        super().__init__(concurrency)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.runs = 0

    async def _run_job(self, job: Job) -> RunResult:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(0.02)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.runs += 1
        return RunResult(status=Status.OK)


def test_one_object_per_configuration():
    a = shared_sandbox("local", concurrency=3, warm_python=0)
    assert shared_sandbox("local", warm_python=0, concurrency=3) is a
    assert shared_sandbox("local", concurrency=3, warm_python=0, output_limit=None) is a
    assert shared_sandbox("local", concurrency=4, warm_python=0) is not a
    assert a.concurrency == 3


def test_the_bound_holds_across_threads_and_their_event_loops():
    # Each sync call runs on an event loop of its own; three callers in three threads
    # (a code reward, an IOI grader, a Codeforces grader) share one backend's bound.
    box = CountingSandbox(concurrency=2)
    jobs = [Job("x", "python") for _ in range(6)]
    results: list[list[RunResult]] = []

    def caller() -> None:
        results.append(box.run_batch_sync(jobs))

    threads = [threading.Thread(target=caller) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert box.runs == 18 and all(r.status is Status.OK for rs in results for r in rs)
    assert box.peak <= 2
    assert box._limit.in_use == 0  # every slot came back


def test_a_cancelled_waiter_gives_its_slot_back():
    box = CountingSandbox(concurrency=1)

    async def scenario() -> None:
        holder = asyncio.create_task(box.run("x"))
        await asyncio.sleep(0)  # the holder takes the only slot
        waiter = asyncio.create_task(box.run("x"))
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await holder
        assert (await box.run("x")).status is Status.OK

    asyncio.run(scenario())
    assert box._limit.in_use == 0


def test_a_slot_released_as_its_waiter_is_cancelled_is_not_lost():
    box = CountingSandbox(concurrency=1)
    limit = box._limit
    loop_started = threading.Event()
    waiter_box: dict = {}

    async def waiting() -> None:
        task = asyncio.ensure_future(limit.acquire())
        waiter_box["task"] = task
        waiter_box["loop"] = asyncio.get_running_loop()
        loop_started.set()
        try:
            await task
        except asyncio.CancelledError:
            return
        limit.release()  # it won the race: it got the slot, and gives it back

    async def main() -> None:
        await limit.acquire()  # held by this loop
        thread = threading.Thread(target=asyncio.run, args=(waiting(),))
        thread.start()
        loop_started.wait(10)
        while not limit._waiters:
            time.sleep(0.001)
        # Release (the slot passes to the other loop's waiter) and cancel that waiter
        # at once: whichever wins, the slot must come back.
        limit.release()
        waiter_box["loop"].call_soon_threadsafe(waiter_box["task"].cancel)
        thread.join(10)

    asyncio.run(main())
    assert limit.in_use == 0 and not limit._waiters
