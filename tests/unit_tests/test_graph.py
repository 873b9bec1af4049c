"""MemOS nodes in a small StateGraph, and the legacy pre_model_hook adapter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from typing_extensions import TypedDict

from langchain_memos import AsyncMemOSClient, MemOSClient, MemOSInputError
from langchain_memos.graph import (
    MEMORY_MESSAGE_ID,
    MemOSGraphMemory,
    create_memos_pre_model_hook,
)
from tests.fakes import CountingEngine, ScriptedChatModel, remembering_engine

ADD = "/add/message"
SEARCH = "/search/memory"


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


@pytest.fixture
def engine() -> CountingEngine:
    return remembering_engine()


@pytest.fixture
def memory(engine: CountingEngine) -> Iterator[MemOSGraphMemory]:
    memory = MemOSGraphMemory(
        MemOSClient(embedded=engine), async_client=AsyncMemOSClient(embedded=engine)
    )
    yield memory
    memory.close(timeout=5)


def build(memory: MemOSGraphMemory, seen: list[list[BaseMessage]]) -> CompiledStateGraph[Any]:
    def model(state: State) -> dict[str, Any]:
        seen.append(list(state["messages"]))
        return {"messages": [AIMessage("Noted.")]}

    graph = StateGraph(State)
    graph.add_node("recall", memory.memory_node())
    graph.add_node("model", model)
    graph.add_node("save", memory.save_node())
    graph.add_edge(START, "recall")
    graph.add_edge("recall", "model")
    graph.add_edge("model", "save")
    return graph.compile(checkpointer=InMemorySaver())


async def run(graph: Any, mode: str, text: str, cfg: RunnableConfig, **kw: Any) -> Any:
    payload = {"messages": [HumanMessage(text)]}
    if mode == "sync":
        return graph.invoke(payload, cfg, **kw)
    return await graph.ainvoke(payload, cfg, **kw)


def writes(engine: CountingEngine) -> list[dict[str, Any]]:
    return [json.loads(b) for p, b in zip(engine.paths, engine.bodies, strict=True) if p == ADD]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_one_memory_message_in_front_replaced_each_turn(
    engine: CountingEngine, memory: MemOSGraphMemory, mode: str
) -> None:
    seen: list[list[BaseMessage]] = []
    graph = build(memory, seen)
    cfg: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": "t1"}}

    first = await run(graph, mode, "Who do I travel with?", cfg)
    assert first["messages"][0].id == MEMORY_MESSAGE_ID
    assert "my kids and my parents" in first["messages"][0].text
    assert [m.type for m in first["messages"]] == ["system", "human", "ai"]
    assert seen[0][0].id == MEMORY_MESSAGE_ID  # the model node saw it

    second = await run(graph, mode, "And do I travel with my parents?", cfg)
    assert [m.type for m in second["messages"]] == ["system", "human", "ai", "human", "ai"]
    assert sum(m.id == MEMORY_MESSAGE_ID for m in second["messages"]) == 1
    assert engine.count(SEARCH) == 2

    assert memory.flush(timeout=5)
    one, two = writes(engine)
    assert [m["content"] for m in one["messages"]] == ["Who do I travel with?", "Noted."]
    assert [m["content"] for m in two["messages"]] == [
        "And do I travel with my parents?",
        "Noted.",
    ]
    assert (one["user_id"], one["conversation_id"]) == ("alice", "t1")

    # Nothing recalled: the memory message goes away instead of going stale.
    third = await run(graph, mode, "quantum chromodynamics", cfg)
    assert all(m.id != MEMORY_MESSAGE_ID for m in third["messages"])


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_save_twice_writes_nothing_twice(
    engine: CountingEngine, memory: MemOSGraphMemory, mode: str
) -> None:
    graph = StateGraph(State)
    graph.add_node("recall", memory.memory_node())
    graph.add_node("save", memory.save_node())
    graph.add_node("again", memory.save_node())
    graph.add_edge(START, "recall")
    graph.add_edge("recall", "save")
    graph.add_edge("save", "again")
    app = graph.compile()
    await run(app, mode, "Who do I travel with?", {"configurable": {"user_id": "alice"}})
    assert memory.flush(timeout=5)
    [write] = writes(engine)
    assert [m["role"] for m in write["messages"]] == ["user"]
    assert write["conversation_id"] == "langchain-agent"


@dataclass
class Ctx:
    user_id: str


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_user_from_context_and_missing_user(
    engine: CountingEngine, memory: MemOSGraphMemory, mode: str
) -> None:
    seen: list[list[BaseMessage]] = []
    graph = StateGraph(State, context_schema=Ctx)
    graph.add_node("recall", memory.memory_node())
    graph.add_edge(START, "recall")
    app = graph.compile()
    result = await run(app, mode, "Who do I travel with?", {}, context=Ctx(user_id="alice"))
    assert result["messages"][0].id == MEMORY_MESSAGE_ID
    with pytest.raises(MemOSInputError, match="needs a user_id"):
        await run(build(memory, seen), mode, "Who?", {"configurable": {"thread_id": "t"}})
    assert seen == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_pre_model_hook_gives_memory_to_the_model_only(
    engine: CountingEngine, mode: str
) -> None:
    from langgraph.prebuilt import create_react_agent

    model = ScriptedChatModel(tool_calls=0)
    hook = create_memos_pre_model_hook(
        MemOSClient(embedded=engine), async_client=AsyncMemOSClient(embedded=engine)
    )
    agent = create_react_agent(model, [], pre_model_hook=hook)
    cfg: RunnableConfig = {"configurable": {"user_id": "alice"}}
    result = await run(agent, mode, "Who do I travel with?", cfg)
    [call] = model.calls
    assert call[0].id == MEMORY_MESSAGE_ID
    assert "my kids and my parents" in call[0].text
    assert [m.type for m in result["messages"]] == ["human", "ai"]
    assert engine.count(ADD) == 0


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_configurable_ids_follow_the_retrievers_rule(
    engine: CountingEngine, memory: MemOSGraphMemory, mode: str
) -> None:
    seen: list[list[BaseMessage]] = []
    graph = build(memory, seen)
    # Before, the recall and save nodes used the user "42"; the retriever refuses it.
    with pytest.raises(MemOSInputError, match=r"configurable\.user_id must be a non-empty string"):
        await run(graph, mode, "Who?", {"configurable": {"user_id": 42, "thread_id": "t"}})
    assert seen == []
    assert engine.paths == []

    save_only = StateGraph(State)
    save_only.add_node("save", memory.save_node())
    save_only.add_edge(START, "save")
    with pytest.raises(MemOSInputError, match=r"configurable\.user_id must be a non-empty string"):
        await run(save_only.compile(), mode, "Who?", {"configurable": {"user_id": 42}})

    await run(
        graph, mode, "Who do I travel with?", {"configurable": {"user_id": "alice", "thread_id": 7}}
    )
    assert memory.flush(timeout=5)
    [write] = writes(engine)
    assert (write["user_id"], write["conversation_id"]) == ("alice", "7")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_memory_message_carries_the_protocol_by_default(
    engine: CountingEngine, memory: MemOSGraphMemory, mode: str
) -> None:
    # Before, the memory message was the bare <memories> block, without the safety protocol.
    seen: list[list[BaseMessage]] = []
    cfg: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": "t1"}}
    state = await run(build(memory, seen), mode, "Who do I travel with?", cfg)
    text = state["messages"][0].text
    assert text.startswith("# System Context\n")
    assert "- Time zone: UTC+08:00 (Asia/Shanghai)" in text
    assert "# Critical Protocol: Memory Safety" in text
    assert "my kids and my parents" in text
    assert "# Role" not in text
    assert "Who do I travel with?" not in text

    plain = MemOSGraphMemory(MemOSClient(embedded=engine), prompt_mode="memories")
    state = await run(build(plain, seen), mode, "Who do I travel with?", cfg)
    assert state["messages"][0].text.startswith("<memories>\n")
    assert "# Critical Protocol" not in state["messages"][0].text
    plain.close(timeout=5)
    with pytest.raises(MemOSInputError, match="prompt_mode must be"):
        MemOSGraphMemory(MemOSClient(embedded=engine), prompt_mode="all")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_pre_model_hook_gives_the_protocol_too(engine: CountingEngine, mode: str) -> None:
    from langgraph.prebuilt import create_react_agent

    model = ScriptedChatModel(tool_calls=0)
    hook = create_memos_pre_model_hook(MemOSClient(embedded=engine))
    agent = create_react_agent(model, [], pre_model_hook=hook)
    await run(agent, mode, "Who do I travel with?", {"configurable": {"user_id": "alice"}})
    assert "# Critical Protocol: Memory Safety" in model.calls[0][0].text


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_write_back_can_choose_the_messages_it_writes(
    engine: CountingEngine, mode: str
) -> None:
    memory = MemOSGraphMemory(
        MemOSClient(embedded=engine), write_back=lambda message: message.type == "human"
    )
    graph = build(memory, [])
    cfg: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": "t1"}}
    await run(graph, mode, "Who do I travel with?", cfg)
    state = await run(graph, mode, "And where to?", cfg)
    # (Whether "And where to?" recalls anything is not this test's business.)
    turns = [m.type for m in state["messages"] if m.type != "system"]
    assert turns == ["human", "ai", "human", "ai"]
    assert memory.close(timeout=5)
    assert [[m["content"] for m in w["messages"]] for w in writes(engine)] == [
        ["Who do I travel with?"],
        ["And where to?"],
    ]


def _two_step(memory: MemOSGraphMemory, saver: InMemorySaver) -> CompiledStateGraph[Any]:
    """recall -> save -> model -> save: the turn is saved in two steps, paused before the model."""

    def model(state: State) -> dict[str, Any]:
        return {"messages": [AIMessage("Noted.")]}

    graph = StateGraph(State)
    graph.add_node("recall", memory.memory_node())
    graph.add_node("save_question", memory.save_node())
    graph.add_node("model", model)
    graph.add_node("save_answer", memory.save_node())
    graph.add_edge(START, "recall")
    graph.add_edge("recall", "save_question")
    graph.add_edge("save_question", "model")
    graph.add_edge("model", "save_answer")
    return graph.compile(checkpointer=saver, interrupt_before=["model"])


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_what_was_saved_survives_a_new_process(engine: CountingEngine, mode: str) -> None:
    # Before, the save node remembered what it had saved in a dict of its own process: a new
    # process resuming the thread saved the question of the turn a second time.
    saver = InMemorySaver()  # the checkpointer both "processes" share
    cfg: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": "t1"}}

    first = MemOSGraphMemory(MemOSClient(embedded=engine))
    await run(_two_step(first, saver), mode, "Who do I travel with?", cfg)  # paused
    assert first.close(timeout=5)
    assert [[m["content"] for m in w["messages"]] for w in writes(engine)] == [
        ["Who do I travel with?"]
    ]

    second = MemOSGraphMemory(MemOSClient(embedded=engine))
    graph = _two_step(second, saver)
    resumed = graph.invoke(None, cfg) if mode == "sync" else await graph.ainvoke(None, cfg)
    assert "memos_saved_id" not in resumed  # state the graph keeps, not part of its output
    await run(graph, mode, "And where to?", cfg)  # the next turn, paused before the model
    assert second.close(timeout=5)
    assert [[m["content"] for m in w["messages"]] for w in writes(engine)] == [
        ["Who do I travel with?"],
        ["Noted."],
        ["And where to?"],
    ]
    saved = graph.get_state(cfg).values
    assert saved["memos_saved_id"] == saved["messages"][-1].id


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_save_node_leaves_out_the_memory_tools(
    engine: CountingEngine, memory: MemOSGraphMemory, mode: str
) -> None:
    turn: list[BaseMessage] = [
        HumanMessage("Remember I am vegetarian. What should I cook?", id="h"),
        AIMessage(
            "",
            id="a1",
            tool_calls=[
                {"name": "search_memory", "args": {"query": "diet"}, "id": "s"},
                {"name": "add_memory", "args": {"content": "User is vegetarian."}, "id": "n"},
                {"name": "weather", "args": {"city": "Rome"}, "id": "w"},
            ],
        ),
        ToolMessage(
            "<memories>[assistant viewpoint] User is vegetarian</memories>",
            tool_call_id="s",
            name="search_memory",
            id="t1",
        ),
        ToolMessage("Remembered.", tool_call_id="n", name="add_memory", id="t2"),
        ToolMessage("Sunny", tool_call_id="w", name="weather", id="t3"),
        AIMessage("A vegetable risotto.", id="a2"),
    ]
    cfg: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": "t1"}}
    if mode == "sync":
        update = memory.save({"messages": turn}, cfg)
    else:
        update = await memory.asave({"messages": turn}, cfg)
    assert memory.flush(timeout=5)

    assert update == {"memos_saved_id": "a2"}  # the whole turn counts as saved
    [written] = [w["messages"] for w in writes(engine)]
    assert [m["role"] for m in written] == ["user", "assistant", "tool", "assistant"]
    assert [c["function"]["name"] for c in written[1]["tool_calls"]] == ["weather"]
    assert written[2]["content"] == "Sunny"
    assert "vegetarian" not in json.dumps(written[1:])
