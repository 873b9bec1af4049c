"""The two drivers of a flow: one does its steps with blocking calls, the other with ``await``.

A flow is a generator, as httpx writes its auth flows: it yields a step and is sent back what
came of it, or has the step's exception raised at its ``yield``, and returns its result. A
:class:`~langchain_memos._base_client.Sleep` step the drivers do themselves (these are the only
places the clients sleep); every other step goes to the ``perform`` they are given: the
clients' own for their requests (``_base_client``), a client method call for the flows of the
history and the tools (``_flows``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar

from langchain_memos._base_client import Sleep

__all__ = ["arun", "run"]

T = TypeVar("T")


class _Driving(Generic[T]):
    """A flow under way: the next step it asks for, given what came of the last one."""

    __slots__ = ("failure", "flow", "reply", "result")

    def __init__(self, flow: Generator[Any, Any, T]) -> None:
        self.flow = flow
        self.reply: Any = None
        self.failure: Exception | None = None

    def next_step(self) -> Any:
        """The next step, or ``None`` once the flow returned its :attr:`result`."""
        reply, failure, self.reply, self.failure = self.reply, self.failure, None, None
        try:
            return self.flow.send(reply) if failure is None else self.flow.throw(failure)
        except StopIteration as stop:
            self.result: T = stop.value
            return None


def run(flow: Generator[Any, Any, T], perform: Callable[[Any], Any]) -> T:
    """Drive ``flow`` to its result, blocking."""
    driving = _Driving(flow)
    try:
        while (step := driving.next_step()) is not None:
            try:
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                else:
                    driving.reply = perform(step)
            except Exception as exc:  # the flow decides what becomes of it
                driving.failure = exc
        return driving.result
    finally:
        flow.close()


async def arun(flow: Generator[Any, Any, T], perform: Callable[[Any], Awaitable[Any]]) -> T:
    """Drive ``flow`` to its result in the running event loop."""
    driving = _Driving(flow)
    try:
        while (step := driving.next_step()) is not None:
            try:
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                else:
                    driving.reply = await perform(step)
            except Exception as exc:  # the flow decides what becomes of it
                driving.failure = exc
        return driving.result
    finally:
        flow.close()
