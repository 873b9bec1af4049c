"""Memory tools: the model chooses the query or the content, never the user."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_memos import AsyncMemOSClient, MemOSClient, MemOSInputError
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.tools import NOTHING_FOUND, create_memory_tools
from tests.fakes import remembering_engine


@pytest.fixture
def engine() -> EmbeddedEngine:
    return remembering_engine()


def test_the_model_sees_only_the_query_and_the_content(engine: EmbeddedEngine) -> None:
    search, add = create_memory_tools(client=MemOSClient(embedded=engine), user_id="alice")
    assert search.name == "search_memory"
    assert set(search.args) == {"query"}
    assert add.name == "add_memory"
    assert set(add.args) == {"content"}


@pytest.mark.parametrize("mode", ["sync", "async", "executor"])
def test_search_and_add_for_the_pinned_user(engine: EmbeddedEngine, mode: str) -> None:
    sync = MemOSClient(embedded=engine)
    if mode == "async":
        tools = create_memory_tools(async_client=AsyncMemOSClient(embedded=engine), user_id="alice")
    else:
        tools = create_memory_tools(client=sync, user_id="alice")

    def run(tool_index: int, **args: str) -> str:
        tool = tools[tool_index]
        if mode == "sync":
            return str(tool.invoke(args))
        return str(asyncio.run(tool.ainvoke(args)))

    found = run(0, query="Who do I travel with?")
    assert found.startswith("<memories>")
    assert "[user viewpoint] I always travel with my kids and my parents." in found

    assert run(1, content="The user prefers trains to planes.") == "Remembered."
    again = sync.search_memory("trains planes", user_id="alice")
    assert [m.memory_value for m in again.memory_detail_list] == [
        "[assistant viewpoint] The user prefers trains to planes."
    ]
    assert sync.search_memory("trains planes", user_id="bob").memory_detail_list == []
    assert run(0, query="quantum chromodynamics") == NOTHING_FOUND


@pytest.mark.parametrize("mode", ["sync", "async", "executor"])
def test_errors_come_back_to_the_model(engine: EmbeddedEngine, mode: str) -> None:
    clients: dict[str, Any] = {"client": MemOSClient(embedded=engine)}
    if mode == "async":
        clients = {"async_client": AsyncMemOSClient(embedded=engine)}
    search, add = create_memory_tools(user_id="alice", search_options={"relativity": 0}, **clients)

    def run(tool: BaseTool, **args: str) -> str:
        return str(tool.invoke(args) if mode == "sync" else asyncio.run(tool.ainvoke(args)))

    assert run(add, content="  ") == "Nothing to remember: content is empty."
    assert run(search, query="").startswith("Memory search failed")
    assert run(add, content="x" * 200_000).startswith("Could not store the memory")


def test_the_application_must_pin_a_valid_user(engine: EmbeddedEngine) -> None:
    client = MemOSClient(embedded=engine)
    with pytest.raises(MemOSInputError, match="user_id"):
        create_memory_tools(client=client, user_id="")
    with pytest.raises(MemOSInputError, match="cannot set query or user_id"):
        create_memory_tools(client=client, user_id="alice", search_options={"user_id": "bob"})


# ---- langchain-tests' standard tool unit tests ---------------------------------------------------


class _ToolUnitSuite(ToolsUnitTests):
    index: int

    @property
    def tool_constructor(self) -> BaseTool:
        return create_memory_tools(client=MemOSClient(embedded=EmbeddedEngine()), user_id="u1")[
            self.index
        ]


class TestSearchMemoryToolUnit(_ToolUnitSuite):
    index = 0

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": "Who do I travel with?"}


class TestAddMemoryToolUnit(_ToolUnitSuite):
    index = 1

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"content": "The user prefers trains to planes."}
