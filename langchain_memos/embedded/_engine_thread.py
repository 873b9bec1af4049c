"""The engine's own threads, fed by a queue: its SQLite work off the event loop, one hop each way.

Each call is a future of the calling loop that the engine thread completes with
``call_soon_threadsafe``: no executor future chained to an asyncio one per request, as
``run_in_executor`` does, and a thread that finds more calls queued takes the next without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["EngineThreads"]

T = TypeVar("T")
_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # its task was cancelled: the server gave up waiting on shutdown
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class EngineThreads:
    """``count`` threads that run calls in arrival order and hand each result back to its loop."""

    def __init__(self, count: int, name: str = "memos-engine") -> None:
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
            for i in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def run(self, call: Callable[[], T]) -> asyncio.Future[T]:
        """A future of the running loop that ``call``'s result (or exception) completes."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, call))
        return future

    def close(self) -> None:
        """Let the calls already queued finish, then stop the threads; harmless twice."""
        for _ in self._threads:
            self._calls.put(None)
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while (queued := self._calls.get()) is not None:
            loop, future, call = queued
            result: Any = None
            error: BaseException | None = None
            try:
                result = call()
            except BaseException as exc:  # the awaiting task decides what it means
                error = exc
            # A closed loop raises RuntimeError: nobody waits for this answer any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, result, error)
            del queued, future, call, result, error  # hold no request between calls
