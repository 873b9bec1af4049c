"""What the agents hand to their outbox: split under the request limit, or refused at once.

Issue 11: a turn MemOS would refuse was accepted into the outbox and dead-lettered later, out
of the caller's sight. A dead letter must mean MemOS changed its mind, not that a known refusal
was queued.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from langchain_memos import AsyncMemOSClient, MemOSClient, MemOSInputError
from langchain_memos._agent_memory import AgentMemory
from langchain_memos._writer import BackgroundWriter
from langchain_memos.graph import MemOSGraphMemory
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.outbox import Outbox
from langchain_memos.scope import Scope
from langchain_memos.settings import MemorySettings
from langchain_memos.types import MessageInput
from tests.fakes import CountingEngine, FakeMemOS, ScriptedChatModel, build

ADD = "/add/message"
# About 29k and 30k tokens: each fits one add/message request, the two together do not.
QUESTION = "Plan our summer. " + "We like quiet beaches and small museums. " * 2_830
ANSWER = "Here is the plan. " + "Spend a morning by the sea, then an afternoon indoors. " * 2_180
CONFIG: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": "t1"}}
# The recall's deadline, for searches whose query is a turn of ~30k tokens: these tests are about
# the write-back, and on a loaded machine such a search can outlast the default 2 s.
RECALL_TIMEOUT = 60.0


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


@pytest.fixture
def engine() -> CountingEngine:
    return CountingEngine()


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path / "outbox.sqlite3")


@pytest.fixture
def middleware(engine: CountingEngine, outbox: Outbox) -> Iterator[MemOSMiddleware]:
    memory = MemOSMiddleware(
        MemOSClient(embedded=engine, max_retries=0),
        async_client=AsyncMemOSClient(embedded=engine, max_retries=0),
        fail_open=False,
        outbox=outbox,
        timeout=RECALL_TIMEOUT,
    )
    yield memory
    memory.close(timeout=5)


@pytest.fixture
def nodes(engine: CountingEngine, outbox: Outbox) -> Iterator[MemOSGraphMemory]:
    memory = MemOSGraphMemory(
        MemOSClient(embedded=engine, max_retries=0),
        fail_open=False,
        outbox=outbox,
        timeout=RECALL_TIMEOUT,
    )
    yield memory
    memory.close(timeout=5)


def added(engine: CountingEngine) -> list[list[dict[str, Any]]]:
    """The messages of every add/message request the engine received, in order."""
    return [
        json.loads(body)["messages"]
        for path, body in zip(engine.paths, engine.bodies, strict=True)
        if path == ADD
    ]


async def run(runnable: Any, mode: str, text: str, config: RunnableConfig = CONFIG) -> None:
    payload = {"messages": [HumanMessage(text)]}
    if mode == "sync":
        runnable.invoke(payload, config)
    else:
        await runnable.ainvoke(payload, config)


async def submit(writer: BackgroundWriter, mode: str, text: str, **ids: str) -> None:
    user_id, conversation_id = ids["user_id"], ids["conversation_id"]
    if mode == "sync":
        writer.submit([HumanMessage(text)], user_id=user_id, conversation_id=conversation_id)
    else:
        await writer.asubmit([HumanMessage(text)], user_id=user_id, conversation_id=conversation_id)


def test_the_turn_is_over_the_limit_and_each_message_under_it() -> None:
    client = build("sync", FakeMemOS())
    question: MessageInput = {"role": "user", "content": QUESTION}
    answer: MessageInput = {"role": "assistant", "content": ANSWER}
    client.add_message([question], user_id="alice", conversation_id="t1")
    client.add_message([answer], user_id="alice", conversation_id="t1")
    with pytest.raises(MemOSInputError, match="one request takes at most"):
        client.add_message([question, answer], user_id="alice", conversation_id="t1")


def assert_delivered_in_order(engine: CountingEngine, outbox: Outbox) -> None:
    batches = added(engine)
    assert len(batches) >= 2  # one request could not carry the turn
    assert [m["content"] for batch in batches for m in batch] == [QUESTION, ANSWER]
    assert outbox.dead_letters() == []
    stored = MemOSClient(embedded=engine).get_message(user_id="alice", conversation_id="t1")
    assert [m.content for m in stored.message_detail_list] == [QUESTION, ANSWER]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_large_turn_through_the_middleware_is_split_and_delivered(
    engine: CountingEngine, middleware: MemOSMiddleware, outbox: Outbox, mode: str
) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage(ANSWER)]))
    agent = create_agent(model, [], middleware=[middleware])
    await run(agent, mode, QUESTION)
    assert middleware.flush(timeout=30)
    assert_delivered_in_order(engine, outbox)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_large_turn_through_the_save_node_is_split_and_delivered(
    engine: CountingEngine, nodes: MemOSGraphMemory, outbox: Outbox, mode: str
) -> None:
    graph = StateGraph(State)
    graph.add_node("model", lambda state: {"messages": [AIMessage(ANSWER)]})
    graph.add_node("save", nodes.save_node())
    graph.add_edge(START, "model")
    graph.add_edge("model", "save")
    await run(graph.compile(), mode, QUESTION)
    assert nodes.flush(timeout=30)
    assert_delivered_in_order(engine, outbox)


# ---- what MemOS would refuse is refused at hand-over, never dead-lettered ------------------

LONG_ID = "t" * 101
BAD_IDS = [
    {"user_id": "alice", "conversation_id": LONG_ID},
    {"user_id": LONG_ID, "conversation_id": "t1"},
    {"user_id": " ", "conversation_id": "t1"},
]


def nothing_queued(writer: BackgroundWriter, engine: CountingEngine) -> None:
    assert writer.flush(timeout=5)
    assert writer.pending == 0
    assert writer.outbox.dead_letters() == []
    assert writer.failed == 0
    assert engine.count(ADD) == 0


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("ids", BAD_IDS)
async def test_the_writer_refuses_what_the_client_refuses_with_the_same_error(
    engine: CountingEngine, mode: str, ids: dict[str, str]
) -> None:
    client = MemOSClient(embedded=engine)
    writer = BackgroundWriter(client)
    with pytest.raises(MemOSInputError) as expected:
        client.add_message(
            [{"role": "user", "content": "hi"}],
            user_id=ids["user_id"],
            conversation_id=ids["conversation_id"],
        )
    with pytest.raises(MemOSInputError) as refused:
        await submit(writer, mode, "hi", **ids)
    assert str(refused.value) == str(expected.value)
    nothing_queued(writer, engine)
    writer.close(timeout=5)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_under_fail_open_a_turn_memos_would_refuse_is_a_warning_and_never_queued(
    engine: CountingEngine, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    memory = AgentMemory(
        MemorySettings(client=MemOSClient(embedded=engine))
    )  # fail_open by default
    # As the middleware rebuilds the scope from its state after the turn.
    scope = Scope(user_id="alice", conversation_id=LONG_ID)
    with caplog.at_level(logging.WARNING, logger="langchain_memos"):
        if mode == "sync":
            memory.save([HumanMessage("hi"), AIMessage("hello")], scope)
        else:
            await memory.asave([HumanMessage("hi"), AIMessage("hello")], scope)
    assert "MemOS did not store this turn's 2 messages (human, ai) of user alice" in caplog.text
    assert "conversation_id is 101 characters long" in caplog.text
    assert memory.writer is not None
    nothing_queued(memory.writer, engine)
    memory.close(timeout=5)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_save_node_thread_id_over_100_characters_is_refused_before_the_outbox(
    engine: CountingEngine, nodes: MemOSGraphMemory, mode: str
) -> None:
    graph = StateGraph(State)
    graph.add_node("save", nodes.save_node())
    graph.add_edge(START, "save")
    config: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": LONG_ID}}
    with pytest.raises(MemOSInputError, match="thread_id is 101 characters long"):
        await run(graph.compile(), mode, "hi", config)
    assert nodes.memory.writer is not None
    nothing_queued(nodes.memory.writer, engine)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_message_over_one_requests_limit_is_refused_at_the_hand_over(
    engine: CountingEngine, middleware: MemOSMiddleware, outbox: Outbox, mode: str
) -> None:
    """The client refuses one message it could not send in any request; so does the write-back,
    to the caller's face, before the outbox."""
    text = "a sentence of some length " * 9_000  # about 58k tokens, in one message
    with pytest.raises(MemOSInputError, match="request takes at most 40,000"):
        MemOSClient(embedded=engine).add_message(
            [{"role": "user", "content": text}], user_id="alice", conversation_id="t1"
        )
    agent = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[middleware])
    with pytest.raises(MemOSInputError, match="request takes at most 40,000"):
        await run(agent, mode, text)
    assert middleware.flush(timeout=5)
    assert outbox.dead_letters() == []
    assert engine.count(ADD) == 0
