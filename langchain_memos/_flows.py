"""Logic written once for both clients: flows that yield client calls.

A flow is a generator, as httpx writes its auth flows: it yields a :class:`Call` (a client
method and its arguments), gets the method's answer back at the ``yield`` (or its error raised
there) and returns its own result. :func:`run` drives a flow with a ``MemOSClient``,
:func:`arun` with an ``AsyncMemOSClient``. Both clients have the same methods with the same
signatures (``tests/unit_tests/test_client.py`` holds them to it), so one flow serves both::

    def _read(self) -> Flow[list[BaseMessage]]:
        result = yield call(MemOSClient.get_message, user_id=self.user_id)
        return from_memos_messages(result.message_detail_list)

    messages = run(self._read(), client)  # or: await arun(self._read(), async_client)

The drivers are the clients' own (``_drivers``), given a way to make the call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeAlias, TypeVar

from langchain_core.runnables.config import run_in_executor

from langchain_memos import _drivers
from langchain_memos.client import AsyncMemOSClient, MemOSClient

__all__ = ["Call", "Flow", "arun", "call", "run"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[R]):
    """One call of a client method, by name, made on whichever client drives the flow."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def on(self, client: MemOSClient) -> R:
        result: R = getattr(client, self.method)(*self.args, **self.kwargs)
        return result

    def on_async(self, client: AsyncMemOSClient) -> Awaitable[R]:
        result: Awaitable[R] = getattr(client, self.method)(*self.args, **self.kwargs)
        return result


Flow: TypeAlias = Generator[Call[Any], Any, T]
"""A flow returning ``T``: it yields calls and is sent their answers."""


def call(
    method: Callable[Concatenate[MemOSClient, P], R], *args: P.args, **kwargs: P.kwargs
) -> Call[R]:
    """``method`` (named as ``MemOSClient.method``, so the arguments are type-checked) with
    its arguments, for a flow to yield."""
    return Call(method.__name__, args, kwargs)


def run(flow: Flow[T], client: MemOSClient) -> T:
    """Drive ``flow`` with the sync client: its result, or the error it raised."""
    return _drivers.run(flow, lambda step: step.on(client))


async def arun(flow: Flow[T], client: AsyncMemOSClient | MemOSClient) -> T:
    """Drive ``flow`` with the async client; given a sync one, run it in a thread instead."""
    if isinstance(client, MemOSClient):
        return await run_in_executor(None, run, flow, client)
    return await _drivers.arun(flow, lambda step: step.on_async(client))
