"""What the agents hand to their outbox: split under the request limit, or refused at once.

Issue 11: a turn MemOS would refuse was accepted into the outbox and dead-lettered later, out
of the caller's sight. A dead letter must mean MemOS changed its mind, not that a known refusal
was queued.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos._agent_memory import AgentMemory
from langchain_memos._validation import MAX_REQUEST_TOKENS, message_tokens
from langchain_memos.graph import MemOSGraphMemory
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.outbox import Outbox
from tests.unit_tests.agent_fakes import CountingEngine

ADD = "/add/message"
# About 29k and 30k tokens: each fits one add/message request, the two together do not.
QUESTION = "Plan our summer. " + "We like quiet beaches and small museums. " * 2_830
ANSWER = "Here is the plan. " + "Spend a morning by the sea, then an afternoon indoors. " * 2_180
CONFIG: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": "t1"}}


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


@pytest.fixture
def engine() -> CountingEngine:
    return CountingEngine()


@pytest.fixture
def middleware(engine: CountingEngine) -> Iterator[MemOSMiddleware]:
    memory = MemOSMiddleware(
        MemOSClient(embedded=engine, max_retries=0),
        async_client=AsyncMemOSClient(embedded=engine, max_retries=0),
        fail_open=False,
    )
    yield memory
    memory.close(timeout=5)


@pytest.fixture
def nodes(engine: CountingEngine) -> Iterator[MemOSGraphMemory]:
    memory = MemOSGraphMemory(MemOSClient(embedded=engine, max_retries=0), fail_open=False)
    yield memory
    memory.close(timeout=5)


def outbox_of(memory: AgentMemory) -> Outbox:
    assert memory.writer is not None
    return memory.writer.outbox


def added(engine: CountingEngine) -> list[list[dict[str, Any]]]:
    """The messages of every add/message request the engine received, in order."""
    return [
        json.loads(body)["messages"]
        for path, body in zip(engine.paths, engine.bodies, strict=True)
        if path == ADD
    ]


async def run(runnable: Any, mode: str, text: str) -> None:
    payload = {"messages": [HumanMessage(text)]}
    if mode == "sync":
        runnable.invoke(payload, CONFIG)
    else:
        await runnable.ainvoke(payload, CONFIG)


def test_the_turn_is_over_the_limit_and_each_message_under_it() -> None:
    question = message_tokens([{"role": "user", "content": QUESTION}])
    answer = message_tokens([{"role": "assistant", "content": ANSWER}])
    assert 28_000 < question < MAX_REQUEST_TOKENS
    assert 29_000 < answer < MAX_REQUEST_TOKENS
    assert question + answer > MAX_REQUEST_TOKENS


def assert_delivered_in_order(engine: CountingEngine, outbox: Outbox) -> None:
    batches = added(engine)
    assert len(batches) >= 2  # one request could not carry the turn
    assert [m["content"] for batch in batches for m in batch] == [QUESTION, ANSWER]
    assert outbox.dead_letters() == []
    stored = MemOSClient(embedded=engine).get_message(user_id="alice", conversation_id="t1")
    assert [m.content for m in stored.message_detail_list] == [QUESTION, ANSWER]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_large_turn_through_the_middleware_is_split_and_delivered(
    engine: CountingEngine, middleware: MemOSMiddleware, mode: str
) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(ANSWER)]))
    agent = create_agent(model, [], middleware=[middleware])
    await run(agent, mode, QUESTION)
    assert middleware.flush(timeout=30)
    assert_delivered_in_order(engine, outbox_of(middleware.memory))


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_large_turn_through_the_save_node_is_split_and_delivered(
    engine: CountingEngine, nodes: MemOSGraphMemory, mode: str
) -> None:
    graph = StateGraph(State)
    graph.add_node("model", lambda state: {"messages": [AIMessage(ANSWER)]})
    graph.add_node("save", nodes.save_node())
    graph.add_edge(START, "model")
    graph.add_edge("model", "save")
    await run(graph.compile(), mode, QUESTION)
    assert nodes.flush(timeout=30)
    assert_delivered_in_order(engine, outbox_of(nodes.memory))
