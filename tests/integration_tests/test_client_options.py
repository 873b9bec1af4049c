"""Per-call options over real sockets: ``with_options`` copies share the pool, timeouts apply."""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from typing import Any

import pytest

from langchain_memos import APITimeoutError, AsyncMemOSClient, ClosedError, MemOSClient
from langchain_memos.types import SearchMemoryResult

from .fault_server import Fault, FaultServer

pytestmark = pytest.mark.loopback

SEARCH = "/search/memory"
SLOW = 3.0  # a hung server (cut short when the server closes)
SHORT = 0.2  # the timeout the tests give a single call
SLACK = 2.0  # a call cut short by SHORT ends well within this: bounds a hang, not speed

Client = MemOSClient | AsyncMemOSClient


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_client(kind: str, server: FaultServer, **options: Any) -> Client:
    cls = MemOSClient if kind == "sync" else AsyncMemOSClient
    return cls(base_url=server.base_url, max_retries=0, **options)


async def search(client: Client, **options: Any) -> SearchMemoryResult:
    result = client.search_memory("travel", user_id="alice", **options)
    found: SearchMemoryResult = await result if inspect.isawaitable(result) else result
    return found


async def close(client: Client) -> None:
    if isinstance(client, MemOSClient):
        client.close()
    else:
        await client.aclose()


async def test_a_copy_sends_through_the_original_pool(kind: str, server: FaultServer) -> None:
    client = make_client(kind, server)
    try:
        await search(client)
        copy = client.with_options(timeout=5.0, max_retries=1, extra_headers={"X-Trace": "t1"})
        await search(copy)
        await close(copy)  # the pool is the original's: still open
        await search(client)
        await search(copy.with_options(timeout=4.0))  # a copy of a copy: the same pool too
    finally:
        await close(client)

    assert server.count(SEARCH) == 4
    assert server.connections_opened == 1  # one keep-alive connection served all four


async def test_closing_the_original_closes_the_pool_of_its_copies(
    kind: str, server: FaultServer
) -> None:
    client = make_client(kind, server)
    copy = client.with_options(timeout=5.0)
    await search(copy)
    await close(client)

    with pytest.raises(ClosedError, match="is closed"):
        await search(copy)
    assert server.count(SEARCH) == 1


@pytest.mark.parametrize("how", ["per-call", "with_options"])
async def test_a_short_timeout_cuts_one_slow_call_short(
    kind: str, how: str, server: FaultServer
) -> None:
    server.plan(SEARCH, [Fault.slow(SLOW)])  # then healthy
    client = make_client(kind, server, timeout=SLOW * 2)
    slow_call = (
        search(client, timeout=SHORT)
        if how == "per-call"
        else search(client.with_options(timeout=SHORT))
    )
    try:
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="did not answer in time"):
            await slow_call
        took = time.monotonic() - started
        await search(client)  # the client's own timeout is unchanged, and the service healthy
    finally:
        await close(client)

    assert took < SHORT + SLACK
    assert server.count(SEARCH) == 2
