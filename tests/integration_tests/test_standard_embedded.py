"""langchain-tests' standard suites on the embedded engine: the retriever and the memory tools.

The engine runs in the process (no socket, no cassette) and ranks every kind of memory with a
relativity, so these runs take the retriever's merge-by-relativity path; the cassette runs in
``test_retriever_cassettes.py`` take the other one (the documented preferences carry none).
The retriever suite runs three times: with the retriever's defaults (preferences included, the
engine's 0.45 relativity threshold), with ``include_preference=False``, and with every memory
view named (``include_memory_view``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import RetrieversIntegrationTests, ToolsIntegrationTests

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.retrievers import MemOSRetriever
from langchain_memos.tools import create_memory_tools
from langchain_memos.types import MessageInput

USER = "standard-suite-user"
QUERY = "family trips by train with the kids"
# Four turns that each share words with QUERY, so that more than three facts and at least two
# preferences pass the default relativity threshold: k=3 can come out of either kind.
CONVERSATION: list[MessageInput] = [
    {"role": "user", "content": "I prefer trains to planes on family trips."},
    {"role": "assistant", "content": "Noted: trains for your family trips."},
    {"role": "user", "content": "I like travelling with the kids by train in summer."},
    {"role": "user", "content": "The kids love the dining car on long train trips."},
    {"role": "assistant", "content": "Family trips by train it is, with a dining car."},
]


@pytest.fixture
def engine() -> EmbeddedEngine:
    engine = EmbeddedEngine()
    with MemOSClient(embedded=engine) as client:
        client.add_message(CONVERSATION, user_id=USER, conversation_id="trips")
    return engine


class _EmbeddedRetrieverSuite(RetrieversIntegrationTests):
    """The standard retriever tests over one seeded engine, through both clients."""

    engine: EmbeddedEngine
    fields: ClassVar[dict[str, Any]] = {}

    @pytest.fixture(autouse=True)
    def _engine(self, engine: EmbeddedEngine) -> None:
        # The standard tests read retriever_constructor_params, a property, not a fixture.
        self.engine = engine

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return MemOSRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {
            "client": MemOSClient(embedded=self.engine),
            "async_client": AsyncMemOSClient(embedded=self.engine),
            "user_id": USER,
            **self.fields,
        }

    @property
    def retriever_query_example(self) -> str:
        return QUERY


class TestRetrieverDefaults(_EmbeddedRetrieverSuite):
    """The retriever as built by default: facts and preferences, k=9."""


class TestRetrieverFactsOnly(_EmbeddedRetrieverSuite):
    fields: ClassVar[dict[str, Any]] = {"include_preference": False}


class TestRetrieverEveryView(_EmbeddedRetrieverSuite):
    """Every memory view named: k is then the number of Documents of all of them."""

    fields: ClassVar[dict[str, Any]] = {
        "include_memory_view": [
            "detail_factual",
            "preference",
            "profile",
            "event",
            "skill",
            "tool_memory",
        ]
    }


class _EmbeddedToolSuite(ToolsIntegrationTests):
    """The standard tool tests for one of ``create_memory_tools``' tools, on a seeded engine."""

    engine: EmbeddedEngine
    index: int

    @pytest.fixture(autouse=True)
    def _engine(self, engine: EmbeddedEngine) -> None:
        self.engine = engine

    @property
    def tool_constructor(self) -> BaseTool:
        tools = create_memory_tools(
            user_id=USER,
            client=MemOSClient(embedded=self.engine),
            async_client=AsyncMemOSClient(embedded=self.engine),
        )
        return tools[self.index]


class TestSearchMemoryTool(_EmbeddedToolSuite):
    index = 0

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"query": QUERY}


class TestAddMemoryTool(_EmbeddedToolSuite):
    index = 1

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"content": "The user books a window seat on every train."}
