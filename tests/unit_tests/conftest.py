"""Unit tests run with sockets blocked: every exchange goes through an httpx.MockTransport."""

from __future__ import annotations

import pytest
from pytest_socket import disable_socket, enable_socket

from tests.fakes import Client, FakeMemOS, build


def pytest_runtest_setup() -> None:
    # asyncio needs a socketpair (a unix socket) for its loop; nothing else may open one.
    disable_socket(allow_unix_socket=True)


def pytest_runtest_teardown() -> None:
    enable_socket()


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


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(kind: str, fake: FakeMemOS) -> Client:
    return build(kind, fake)
