"""Unit tests run with sockets blocked: every exchange goes through an httpx.MockTransport."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_socket import disable_socket, enable_socket

from langchain_memos import AsyncMemOSClient, MemOSClient

Client = MemOSClient | AsyncMemOSClient
Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def pytest_runtest_setup() -> None:
    # asyncio needs a socketpair (a unix socket) for its loop; nothing else may open one.
    disable_socket(allow_unix_socket=True)


def pytest_runtest_teardown() -> None:
    enable_socket()


def envelope(data: object = None, code: int = 0, message: str = "ok", status: int = 200) -> Any:
    return httpx.Response(status, json={"code": code, "data": data, "message": message})


@dataclass
class FakeMemOS:
    """A scripted MemOS: answers with ``replies`` in order (the last one repeats) and records
    every request it was sent."""

    replies: list[Reply] = field(default_factory=lambda: [envelope({"success": True})])
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.replies[min(len(self.requests), len(self.replies)) - 1]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            # A fresh copy: httpx consumes a response's stream, and replies are reused.
            return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)
        return reply(request)

    @property
    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]

    @property
    def paths(self) -> list[str]:
        return [r.url.path.removeprefix("/api/openmem/v1") for r in self.requests]


@pytest.fixture
def fake() -> FakeMemOS:
    return FakeMemOS()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record what the clients' drivers sleep instead of sleeping: the retry waits and
    ``wait_for_task``'s polls. (``no_backoff`` records the retry waits the policy asks for.)"""
    recorded: list[float] = []

    async def fake_async_sleep(delay: float) -> None:
        recorded.append(delay)

    monkeypatch.setattr("langchain_memos._drivers.time.sleep", recorded.append)
    monkeypatch.setattr("langchain_memos._drivers.asyncio.sleep", fake_async_sleep)
    return recorded


def build(kind: str, fake: FakeMemOS, **options: Any) -> Client:
    transport = httpx.MockTransport(fake.handler)
    options.setdefault("api_key", "test-key")
    if kind == "sync":
        return MemOSClient(http_client=httpx.Client(transport=transport), **options)
    return AsyncMemOSClient(http_client=httpx.AsyncClient(transport=transport), **options)


def call(client: Client, method: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``method`` on either client and return its result, awaiting it when needed."""
    result = getattr(client, method)(*args, **kwargs)
    if inspect.isawaitable(result):
        return asyncio.run(_awaited(result))
    if inspect.isasyncgen(result):
        return asyncio.run(_collected(result))
    if isinstance(result, Iterator):
        return list(result)
    return result


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


async def _collected(generator: Any) -> list[Any]:
    return [item async for item in generator]


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(kind: str, fake: FakeMemOS) -> Client:
    return build(kind, fake)
