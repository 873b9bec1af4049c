"""The engine's own threads: its SQLite work off the event loop, one hop each way.

Each call is a future of the calling loop that an engine thread completes with
``call_soon_threadsafe``: no executor future chained to an asyncio one per request, as
``run_in_executor`` does. One thread runs the calls in arrival order; the others are spares that
step in only while that thread has been on one call for ``stall`` seconds (a large knowledge-base
file), so that a slow call holds up nothing else for longer. Calls handed round to several
threads in turn cost more than they overlap: the engine's SQLite connection takes one at a time,
and each change of thread moves a search to a cold core and through the GIL. Measured in paired
blocks against two threads fed from one queue (README, "`serve` under load"), this answered 3-5%
more at 1 connection, 14-25% more at 16 and 10% more at 64.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["STALL_SECONDS", "EngineThreads"]

T = TypeVar("T")
_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]

# How long the first thread may be on one call before a spare takes the next: ten searches' worth.
STALL_SECONDS = 0.05


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # its task was cancelled: the server gave up waiting on shutdown
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _complete(handed: _Call) -> None:
    loop, future, call = handed
    result: Any = None
    error: BaseException | None = None
    try:
        result = call()
    except BaseException as exc:  # the awaiting task decides what it means
        error = exc
    # A closed loop raises RuntimeError: nobody waits for this answer any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, future, result, error)


class EngineThreads:
    """``count`` threads (one, and spares) that run calls in arrival order and hand each result
    back to its loop."""

    def __init__(
        self, count: int, name: str = "memos-engine", stall: float = STALL_SECONDS
    ) -> None:
        lock = threading.Lock()
        self._for_first = threading.Condition(lock)
        self._for_spares = threading.Condition(lock)
        self._waiting: deque[_Call] = deque()
        self._first_since: float | None = None  # when the first thread began its call
        self._closing = False
        self._stall = stall
        targets = [self._first, *[self._spare] * (count - 1)]
        self._threads = [
            threading.Thread(target=target, name=f"{name}-{i}", daemon=True)
            for i, target in enumerate(targets)
        ]
        for thread in self._threads:
            thread.start()

    def run(self, call: Callable[[], T]) -> asyncio.Future[T]:
        """A future of the running loop that ``call``'s result (or exception) completes."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._for_first:
            self._waiting.append((loop, future, call))
            if self._first_since is None:
                self._for_first.notify()
            else:  # the first thread is busy: a spare times its call from now on
                self._for_spares.notify()
        return future

    def close(self) -> None:
        """Let the calls already queued finish, then stop the threads; harmless twice."""
        with self._for_first:
            self._closing = True
            self._for_first.notify_all()
            self._for_spares.notify_all()
        for thread in self._threads:
            thread.join()

    def _first(self) -> None:
        while True:
            with self._for_first:
                while not self._waiting and not self._closing:
                    self._for_first.wait()
                if not self._waiting:
                    return
                handed = self._waiting.popleft()
                self._first_since = time.monotonic()
                if self._waiting:  # calls that came while this thread was idle: a spare times them
                    self._for_spares.notify()
            _complete(handed)
            del handed  # hold no request between calls
            with self._for_first:
                self._first_since = None

    def _spare(self) -> None:
        while (handed := self._stalled_call()) is not None:
            _complete(handed)
            del handed

    def _stalled_call(self) -> _Call | None:
        """A waiting call, once the first thread has been on its own for ``stall`` seconds;
        ``None`` when closed with nothing left waiting."""
        with self._for_spares:
            while True:
                since = self._first_since
                if not self._waiting or since is None:  # nothing, or the first thread takes it
                    if self._closing:
                        return None
                    self._for_spares.wait()
                else:
                    left = since + self._stall - time.monotonic()
                    if left <= 0:
                        return self._waiting.popleft()
                    self._for_spares.wait(left)
