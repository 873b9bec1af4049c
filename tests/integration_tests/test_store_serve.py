"""The store conformance suite through ``serve``: MemOSStore over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from langchain_memos import AsyncMemOSClient, EmbeddedEngine, MemOSClient, MemOSStore
from langchain_memos.embedded.server import MemOSServer, serve
from tests.store_conformance import CASES, Ops

pytestmark = pytest.mark.loopback
TOKEN = "store-token"


@pytest.fixture
def server() -> Iterator[MemOSServer]:
    with serve(EmbeddedEngine(":memory:"), token=TOKEN) as running:
        yield running


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("name", list(CASES))
async def test_conformance_through_serve(server: MemOSServer, name: str, use_async: bool) -> None:
    client = MemOSClient(base_url=server.base_url, api_key=TOKEN)
    async_client = AsyncMemOSClient(base_url=server.base_url, api_key=TOKEN)
    try:
        await CASES[name](Ops(MemOSStore(client, async_client=async_client, user=1), use_async))
    finally:
        client.close()
        await async_client.aclose()
