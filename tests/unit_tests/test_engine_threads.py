"""The engine's threads under ``serve``: one runs the calls in order, a spare steps in for a slow
one."""

from __future__ import annotations

import asyncio
import functools
import threading
import time

import pytest

from langchain_memos.embedded._engine_thread import EngineThreads


def test_calls_run_in_arrival_order_on_one_thread() -> None:
    threads = EngineThreads(2)
    ran: list[tuple[int, str]] = []

    def call(i: int) -> int:
        ran.append((i, threading.current_thread().name))
        return i

    async def main() -> list[int]:
        calls = [threads.run(functools.partial(call, i)) for i in range(50)]
        return list(await asyncio.gather(*calls))

    try:
        assert asyncio.run(main()) == list(range(50))
    finally:
        threads.close()
    assert [i for i, _ in ran] == list(range(50))
    assert {name for _, name in ran} == {"memos-engine-0"}  # fast calls never change thread


def test_a_slow_call_holds_up_the_others_no_longer_than_the_stall() -> None:
    threads = EngineThreads(2, stall=0.05)
    release = threading.Event()

    async def main() -> float:
        slow = threads.run(lambda: release.wait(10))
        await asyncio.sleep(0.01)  # the slow call is running
        started = time.monotonic()
        quick = [threads.run(functools.partial(int, i)) for i in range(3)]
        assert await asyncio.gather(*quick) == [0, 1, 2]
        took = time.monotonic() - started
        release.set()
        assert await slow is True
        return took

    try:
        assert asyncio.run(main()) < 5  # not the slow call's 10 s
    finally:
        release.set()
        threads.close()


def test_an_error_reaches_its_caller_and_the_thread_goes_on() -> None:
    threads = EngineThreads(2)

    def fails() -> None:
        raise ValueError("bad request")

    async def main() -> int:
        with pytest.raises(ValueError, match="bad request"):
            await threads.run(fails)
        return await threads.run(lambda: 7)

    try:
        assert asyncio.run(main()) == 7
    finally:
        threads.close()


def test_close_lets_the_queued_calls_finish() -> None:
    threads = EngineThreads(2)
    done: list[int] = []
    gate = threading.Event()

    async def main() -> None:
        futures: list[asyncio.Future[object]] = [threads.run(gate.wait)]
        futures += [threads.run(functools.partial(done.append, i)) for i in range(5)]
        await asyncio.sleep(0)
        closing = threading.Thread(target=threads.close)
        closing.start()
        gate.set()
        closing.join(5)
        assert not closing.is_alive()
        del futures

    asyncio.run(main())
    assert done == list(range(5))
    threads.close()  # harmless twice
