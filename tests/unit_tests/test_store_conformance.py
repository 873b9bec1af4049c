"""The store conformance suite: langgraph's InMemoryStore as the reference, and MemOSStore on the
embedded engine, each through the sync and the async methods."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from langchain_memos import AsyncMemOSClient, EmbeddedEngine, MemOSClient, MemOSStore
from tests.store_conformance import CASES, Ops


def memos_sync() -> BaseStore:
    return MemOSStore(MemOSClient(embedded=EmbeddedEngine(":memory:")), user=1)


def memos_async() -> BaseStore:
    engine = EmbeddedEngine(":memory:")
    return MemOSStore(
        MemOSClient(embedded=engine), async_client=AsyncMemOSClient(embedded=engine), user=1
    )


STORES: dict[str, Callable[[], BaseStore]] = {
    "InMemoryStore": InMemoryStore,
    "MemOSStore": memos_sync,
    "MemOSStore-async-client": memos_async,
}


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("store", list(STORES))
@pytest.mark.parametrize("name", list(CASES))
async def test_conformance(name: str, store: str, use_async: bool) -> None:
    await CASES[name](Ops(STORES[store](), use_async))
