"""One ``AsyncMemOSClient`` used from several event loops, as scripts and tools do.

Each ``asyncio.run()`` makes a new event loop and closes it at the end, and httpx's pooled
connections belong to the loop that opened them. Over real sockets (``FaultServer``): a client
that made its own pool works in every loop and leaves no socket open; a caller's own
``http_client`` cannot move, and says so with the package's own error.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator

import httpx
import pytest

from langchain_memos import AsyncMemOSClient, ConfigurationError
from langchain_memos.embedded import EmbeddedEngine

from .fault_server import FaultServer

pytestmark = pytest.mark.loopback

FACT = "I always travel with my kids."


@pytest.fixture
def server() -> Iterator[FaultServer]:
    engine = EmbeddedEngine(":memory:")
    with FaultServer(engine) as running:
        yield running
    engine.close()


async def remember_and_recall(client: AsyncMemOSClient, conversation: str) -> list[str]:
    await client.add_message(
        [{"role": "user", "content": FACT}],
        user_id="u1",
        conversation_id=conversation,
        async_mode=False,
    )
    found = await client.search_memory("travel with kids", user_id="u1")
    return [memory.memory_value or "" for memory in found.memory_detail_list]


def test_a_client_works_in_one_asyncio_run_after_another(server: FaultServer) -> None:
    client = AsyncMemOSClient(base_url=server.base_url, max_retries=0, timeout=5)

    for run in range(3):
        assert FACT in asyncio.run(remember_and_recall(client, f"c{run}"))[0]
    asyncio.run(client.aclose())

    # Each loop's pool was closed with its loop: no socket is left for the collector to find
    # (an unclosed one would be a ResourceWarning, an error in this suite).
    gc.collect()


# The caller's connection stays in the first loop's pool, where nothing can close it any more.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_callers_http_client_in_a_second_loop_is_a_clear_error(server: FaultServer) -> None:
    client = AsyncMemOSClient(
        base_url=server.base_url, max_retries=0, http_client=httpx.AsyncClient(timeout=5)
    )
    asyncio.run(remember_and_recall(client, "c1"))

    with pytest.raises(ConfigurationError, match="new http_client per event loop") as caught:
        asyncio.run(remember_and_recall(client, "c2"))

    assert "Event loop is closed" in str(caught.value)
    del client, caught
    gc.collect()


def test_two_loops_running_at_once_are_refused(server: FaultServer) -> None:
    client = AsyncMemOSClient(base_url=server.base_url, max_retries=0, timeout=5)
    started, finish = threading.Event(), threading.Event()

    async def hold_a_loop() -> None:
        await client.search_memory("q", user_id="u1")
        started.set()
        await asyncio.to_thread(finish.wait, 10)

    holder = threading.Thread(target=asyncio.run, args=(hold_a_loop(),))
    holder.start()
    try:
        assert started.wait(10)
        with pytest.raises(ConfigurationError, match="one AsyncMemOSClient per loop"):
            asyncio.run(remember_and_recall(client, "c0"))
    finally:
        finish.set()
        holder.join(10)
    # Once that loop is over, the client serves the next one.
    assert FACT in asyncio.run(remember_and_recall(client, "c1"))[0]
    asyncio.run(client.aclose())


# The first loop's connection is left behind: its loop is gone, nothing can close it.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_client_closes_in_a_new_loop_after_one_closed_without_cleanup(
    server: FaultServer,
) -> None:
    """``loop.run_until_complete(...); loop.close()`` skips what ``asyncio.run`` finalizes: the
    client's pool is left to a closed loop. Sending from the next loop worked; closing there
    raised a bare RuntimeError("Event loop is closed")."""
    client = AsyncMemOSClient(base_url=server.base_url, max_retries=0, timeout=5)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(client.search_memory("q", user_id="u1"))
    loop.close()

    asyncio.run(client.aclose())

    assert client.is_closed
    del client
    gc.collect()
