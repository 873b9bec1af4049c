"""One owner's writes, for async callers, in the order they were asked: blocking ones run in
threads, async ones awaited.

A write handed to a thread cannot be stopped there: a caller cancelled while it runs gets
``CancelledError``, but the write still completes. Left alone, it would commit whenever its
thread got to it, after a write the caller made next: a conversation stored out of order. So
each write waits for the one asked for before it, however that one ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["OrderedWrites"]

T = TypeVar("T")


class OrderedWrites:
    """Runs one owner's blocking writes in threads, one after another, in call order."""

    def __init__(self) -> None:
        self._last: asyncio.Task[Any] | None = None

    async def run(self, write: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``write(*args, **kwargs)`` in a thread, once the write asked for before it ended.

        Cancelled, the caller gets ``CancelledError`` at once; the write still runs, in its
        turn (a thread cannot be stopped)."""
        task = self._in_turn(lambda: asyncio.to_thread(write, *args, **kwargs))
        return await asyncio.shield(task)

    async def run_async(self, write: Callable[[], Awaitable[T]]) -> T:
        """``await write()``, once the write asked for before it ended. Cancelled, the caller
        cancels it (an async write can be stopped), and the next one goes in its turn."""
        return await self._in_turn(write)

    def _in_turn(self, write: Callable[[], Awaitable[T]]) -> asyncio.Task[T]:
        loop = asyncio.get_running_loop()
        before = self._last
        if before is not None and (before.done() or before.get_loop() is not loop):
            before = None  # ended, or another loop's (which this one cannot wait for)

        async def in_turn() -> T:
            if before is not None:
                await asyncio.wait([before])  # however it ended
            return await write()

        task = loop.create_task(in_turn())
        task.add_done_callback(_retrieved)
        self._last = task
        return task


def _retrieved(task: asyncio.Task[Any]) -> None:
    """Mark a write's outcome as seen: its caller, if cancelled, never looks at it."""
    if not task.cancelled():
        task.exception()
