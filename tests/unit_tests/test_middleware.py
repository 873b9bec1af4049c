"""MemOSMiddleware in a real create_agent tool loop, backed by the embedded engine."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest.mock import ANY

import pytest
from langchain.agents import create_agent
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from langchain_memos import (
    APITimeoutError,
    AsyncMemOSClient,
    DeadlineExceededError,
    InternalServerError,
    MemOSClient,
    MemOSInputError,
    MemOSRetriever,
)
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.scope import Scope
from langchain_memos.tools import create_memory_tools
from tests.fakes import (
    CountingEngine,
    ScriptedChatModel,
    remembering_engine,
)

SEARCH = "/search/memory"
ADD = "/add/message"
QUESTION = "Where should I travel with my kids this summer?"


@tool
def lookup(item: str) -> str:
    """Look an item up."""
    return f"found {item}"


@pytest.fixture
def engine() -> CountingEngine:
    return remembering_engine()


@pytest.fixture
def middleware(engine: CountingEngine) -> Iterator[MemOSMiddleware]:
    memory = MemOSMiddleware(
        MemOSClient(embedded=engine, max_retries=0),
        async_client=AsyncMemOSClient(embedded=engine, max_retries=0),
    )
    yield memory
    memory.close(timeout=5)


def config(user: str = "alice", thread: str = "t1") -> RunnableConfig:
    return {"configurable": {"user_id": user, "thread_id": thread}}


async def run(agent: Any, mode: str, text: str, cfg: RunnableConfig, **kw: Any) -> Any:
    payload = {"messages": [HumanMessage(text)]}
    if mode == "sync":
        return agent.invoke(payload, cfg, **kw)
    return await agent.ainvoke(payload, cfg, **kw)


def added(engine: CountingEngine) -> list[list[dict[str, Any]]]:
    """The messages of every add/message request, in order."""
    return [
        json.loads(body)["messages"]
        for path, body in zip(engine.paths, engine.bodies, strict=True)
        if path == ADD
    ]


def has_memory_block(messages: list[BaseMessage]) -> bool:
    return any("<memories>" in m.text for m in messages)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_one_search_per_turn_injected_on_every_call_written_once(
    engine: CountingEngine, middleware: MemOSMiddleware, mode: str
) -> None:
    model = ScriptedChatModel(tool_calls=3)
    agent = create_agent(model, [lookup], middleware=[middleware], checkpointer=InMemorySaver())

    result = await run(agent, mode, QUESTION, config())

    assert engine.count(SEARCH) == 1
    assert len(model.calls) == 4  # three tool calls, then the answer
    for call in model.calls:
        system = call[0]
        assert isinstance(system, SystemMessage)  # made although the agent has no prompt
        assert "<memories>" in system.text
        assert "I always travel with my kids and my parents." in system.text
        assert not has_memory_block(call[1:])
    assert result["messages"][-1].text == "Here is your answer."
    assert not has_memory_block(result["messages"])
    assert not any(key.startswith("memos_") for key in result)

    assert middleware.flush(timeout=5)
    [first] = added(engine)
    assert [m["role"] for m in first] == ["user", *["assistant", "tool"] * 3, "assistant"]
    assert first[0]["content"] == QUESTION
    assert [m["tool_call_id"] for m in first if m["role"] == "tool"] == [
        "call_0",
        "call_1",
        "call_2",
    ]

    second = await run(agent, mode, "And what about the winter?", config())
    assert middleware.flush(timeout=5)
    assert engine.count(SEARCH) == 2
    assert len(second["messages"]) == 16  # the checkpointer keeps both turns
    assert not has_memory_block(second["messages"])
    _, again = added(engine)
    assert [m["role"] for m in again] == ["user", *["assistant", "tool"] * 3, "assistant"]
    assert again[0]["content"] == "And what about the winter?"
    assert engine.count(ADD) == 2


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_existing_system_prompt_is_kept_and_extended(
    engine: CountingEngine, middleware: MemOSMiddleware, mode: str
) -> None:
    model = ScriptedChatModel(tool_calls=0)
    agent = create_agent(model, [], system_prompt="You are terse.", middleware=[middleware])
    await run(agent, mode, QUESTION, config())
    [call] = model.calls
    assert call[0].text.startswith("You are terse.")
    assert "<memories>" in call[0].text


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_write_is_off_the_critical_path(
    engine: CountingEngine, middleware: MemOSMiddleware, mode: str
) -> None:
    engine.gated.add(ADD)  # add/message hangs until the gate opens
    agent = create_agent(ScriptedChatModel(tool_calls=1), [lookup], middleware=[middleware])
    result = await run(agent, mode, QUESTION, config())
    assert result["messages"][-1].text == "Here is your answer."
    assert middleware.memory.writer is not None
    assert middleware.memory.writer.pending == 1
    engine.gate.set()
    assert middleware.flush(timeout=5)
    assert engine.count(ADD) == 1


def failing_search(engine: CountingEngine, failure: str, **options: Any) -> MemOSMiddleware:
    """A middleware whose search errors (well within its 30 s timeout, however loaded the
    machine), or outlasts its 0.05 s timeout."""
    if failure == "error":
        engine.broken.add(SEARCH)
    else:
        engine.delay = {SEARCH: 0.5}
    return MemOSMiddleware(
        MemOSClient(embedded=engine, max_retries=0),
        async_client=AsyncMemOSClient(embedded=engine, max_retries=0),
        timeout=30.0 if failure == "error" else 0.05,
        **options,
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("failure", ["error", "timeout"])
async def test_a_failed_search_answers_without_memories(
    engine: CountingEngine, mode: str, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    memory = failing_search(engine, failure)
    model = ScriptedChatModel(tool_calls=1)
    agent = create_agent(model, [lookup], middleware=[memory])
    with caplog.at_level(logging.WARNING, logger="langchain_memos"):
        result = await run(agent, mode, QUESTION, config())
    assert result["messages"][-1].text == "Here is your answer."
    assert all(call[0].type != "system" for call in model.calls)  # nothing injected
    assert "answering without memories" in caplog.text
    assert memory.close(timeout=5)
    assert engine.count(ADD) == 1  # the turn is still remembered


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("failure", ["error", "timeout"])
async def test_fail_closed_raises(engine: CountingEngine, mode: str, failure: str) -> None:
    memory = failing_search(engine, failure, fail_open=False)
    agent = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[memory])
    # The embedded engine cannot be cut short: a sync search's answer comes late (a deadline
    # that ran out); an async one is cut at the deadline, without an answer.
    late = DeadlineExceededError if mode == "sync" else APITimeoutError
    expected = InternalServerError if failure == "error" else late
    with pytest.raises(expected):
        await run(agent, mode, QUESTION, config())
    memory.close(timeout=5)


BAD_TEXT = "bad \udc80 text"  # a lone surrogate, as surrogateescape decoding makes


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_message_memos_cannot_take_answers_without_memories_and_stores_the_rest(
    engine: CountingEngine,
    middleware: MemOSMiddleware,
    mode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = ScriptedChatModel(tool_calls=0)
    agent = create_agent(model, [], middleware=[middleware])
    with caplog.at_level(logging.WARNING, logger="langchain_memos"):
        result = await run(agent, mode, BAD_TEXT, config())
    assert middleware.flush(timeout=5)

    assert result["messages"][-1].text == "Here is your answer."
    assert all(call[0].type != "system" for call in model.calls)  # nothing recalled
    assert "query holds a lone surrogate" in caplog.text
    assert "answering without memories" in caplog.text
    # The write-back stores the answer, and says what it did not store, and why.
    assert "did not store 1 of this turn's 2 messages of user alice" in caplog.text
    assert "messages[0] (human).content holds a lone surrogate" in caplog.text
    assert engine.count(SEARCH) == 0
    assert engine.count(ADD) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_tool_result_too_big_to_store_leaves_the_rest_of_the_turn_stored(
    engine: CountingEngine,
    middleware: MemOSMiddleware,
    mode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A fetched page over one request's 40,000 tokens: the user's words and the answer are
    stored, the tool step (the call and its result) is left out whole, so that no stored
    call lacks its result, and a warning names the result (the whole turn was lost)."""

    @tool("lookup")
    def fetch(item: str) -> str:
        """Fetch a page."""
        return "page text " * 20_000

    agent = create_agent(ScriptedChatModel(tool_calls=1), [fetch], middleware=[middleware])
    with caplog.at_level(logging.WARNING, logger="langchain_memos"):
        await run(agent, mode, QUESTION, config())
    assert middleware.flush(timeout=5)
    [stored] = added(engine)
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert [m.get("tool_calls") for m in stored] == [None, None]
    assert stored[0]["content"] == QUESTION
    assert "did not store 2 of this turn's 4 messages of user alice" in caplog.text
    assert "messages[2] (tool) alone holds about 50,0" in caplog.text
    assert "and the tool steps they belong to" in caplog.text


def test_a_tool_call_memos_cannot_store_takes_its_results_out_with_it(
    engine: CountingEngine, middleware: MemOSMiddleware
) -> None:
    """A call with a NaN argument: the call and the result answering it are left out, so
    no stored result answers a call no stored message has; the rest is written."""
    turn: list[BaseMessage] = [
        HumanMessage("Book it."),
        AIMessage("", tool_calls=[{"id": "c1", "name": "book", "args": {"n": float("nan")}}]),
        ToolMessage("booked", tool_call_id="c1"),
        AIMessage("Done."),
    ]
    middleware.memory.save(turn, Scope(user_id="alice", conversation_id="t1"))
    assert middleware.flush(timeout=5)
    [stored] = added(engine)
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "Book it."),
        ("assistant", "Done."),
    ]


def test_a_result_without_a_call_id_takes_its_empty_id_call_out_with_it(
    engine: CountingEngine, middleware: MemOSMiddleware
) -> None:
    """A call with id "" and its result: MemOS refuses the result (no call id), so the call
    goes with it, instead of being stored under a made-up id nothing answers."""
    turn: list[BaseMessage] = [
        HumanMessage("q"),
        AIMessage("", tool_calls=[{"id": "", "name": "lookup", "args": {"item": "x"}}]),
        ToolMessage("found x", tool_call_id=""),
        AIMessage("done"),
    ]
    middleware.memory.save(turn, Scope(user_id="alice", conversation_id="t1"))
    assert middleware.flush(timeout=5)
    [stored] = added(engine)
    assert [(m["role"], m.get("tool_calls")) for m in stored] == [
        ("user", None),
        ("assistant", None),
    ]


def test_a_turn_memos_cannot_store_at_all_names_every_reason(
    engine: CountingEngine, middleware: MemOSMiddleware, caplog: pytest.LogCaptureFixture
) -> None:
    turn: list[BaseMessage] = [
        HumanMessage(BAD_TEXT),
        AIMessage("", tool_calls=[{"id": "c1", "name": "book", "args": {"n": float("nan")}}]),
        ToolMessage("booked", tool_call_id="c1"),
    ]
    with caplog.at_level(logging.WARNING, logger="langchain_memos"):
        middleware.memory.save(turn, Scope(user_id="alice", conversation_id="t1"))
    assert "did not store this turn's 3 messages" in caplog.text
    assert "messages[0] (human).content holds a lone surrogate" in caplog.text
    assert "messages[1] (ai): tool call 'book' args.n is nan" in caplog.text
    assert engine.count(ADD) == 0


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_fail_closed_refuses_a_message_memos_cannot_take(
    engine: CountingEngine, mode: str
) -> None:
    memory = MemOSMiddleware(
        MemOSClient(embedded=engine),
        async_client=AsyncMemOSClient(embedded=engine),
        fail_open=False,
    )
    agent = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[memory])
    with pytest.raises(MemOSInputError, match="query holds a lone surrogate"):
        await run(agent, mode, BAD_TEXT, config())
    assert memory.close(timeout=5)
    assert engine.count(SEARCH) == engine.count(ADD) == 0


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_message_longer_than_a_request_is_searched_by_its_end(
    engine: CountingEngine, mode: str
) -> None:
    """A pasted document longer than one request: the turn searches its last 40,000
    characters (where the question is) instead of having its search refused, which with
    fail_open=False would fail the turn."""
    memory = MemOSMiddleware(
        MemOSClient(embedded=engine),
        async_client=AsyncMemOSClient(embedded=engine),
        fail_open=False,
        write_back=False,
    )
    agent = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[memory])
    pasted = "lorem ipsum " * 20_000 + "Which airline do I fly with?"
    result = await run(agent, mode, pasted, config())
    assert result["messages"][-1].text == "Here is your answer."
    assert engine.count(SEARCH) == 1
    assert memory.close(timeout=5)


async def test_async_run_with_only_a_sync_client(engine: CountingEngine) -> None:
    memory = MemOSMiddleware(MemOSClient(embedded=engine))
    model = ScriptedChatModel(tool_calls=0)
    agent = create_agent(model, [], middleware=[memory])
    await run(agent, "async", QUESTION, config())
    assert "<memories>" in model.calls[0][0].text
    assert memory.close(timeout=5)
    assert engine.count(SEARCH) == engine.count(ADD) == 1


@dataclass
class Ctx:
    user_id: str
    thread_id: str | None = None


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_scope_from_context_and_explicit_arguments(
    engine: CountingEngine, middleware: MemOSMiddleware, mode: str
) -> None:
    model = ScriptedChatModel(tool_calls=0)
    agent = create_agent(model, [], middleware=[middleware], context_schema=Ctx)
    await run(agent, mode, QUESTION, {}, context=Ctx(user_id="alice", thread_id="ctx-thread"))
    assert "<memories>" in model.calls[0][0].text
    assert middleware.flush(timeout=5)
    [body] = [json.loads(b) for p, b in zip(engine.paths, engine.bodies, strict=True) if p == ADD]
    assert (body["user_id"], body["conversation_id"]) == ("alice", "ctx-thread")

    # The config wins over the context; a user without memories recalls nothing.
    model.calls.clear()
    await run(agent, mode, QUESTION, config(user="bob"), context=Ctx(user_id="alice"))
    assert model.calls[0][0].type != "system"

    pinned = MemOSMiddleware(MemOSClient(embedded=engine), user_id="alice", write_back=False)
    agent = create_agent(model, [], middleware=[pinned])
    model.calls.clear()
    await run(agent, mode, QUESTION, config(user="bob"))
    assert "<memories>" in model.calls[0][0].text


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_run_without_a_user_is_an_error(
    engine: CountingEngine, middleware: MemOSMiddleware, mode: str
) -> None:
    agent = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[middleware])
    with pytest.raises(MemOSInputError, match="needs a user_id"):
        await run(agent, mode, QUESTION, {})
    assert engine.paths == []


def test_options_are_checked_before_any_run(engine: CountingEngine) -> None:
    client = MemOSClient(embedded=engine)
    with pytest.raises(MemOSInputError, match="timeout"):
        MemOSMiddleware(client, timeout=0)
    with pytest.raises(MemOSInputError, match="search_options"):
        MemOSMiddleware(client, search_options={"user_id": "x"})
    with pytest.raises(MemOSInputError, match="sync client"):
        MemOSMiddleware(async_client=AsyncMemOSClient(embedded=engine))
    with pytest.raises(MemOSInputError, match="prompt_mode must be"):
        MemOSMiddleware(client, prompt_mode="block")
    with pytest.raises(MemOSInputError, match="full_instruction=True means prompt_mode='full'"):
        MemOSMiddleware(client, prompt_mode="memories", full_instruction=True)
    assert MemOSMiddleware(async_client=AsyncMemOSClient(embedded=engine), write_back=False)


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_configurable_ids_follow_the_retrievers_rule(
    engine: CountingEngine, middleware: MemOSMiddleware, mode: str
) -> None:
    agent = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[middleware])
    retriever = MemOSRetriever(client=MemOSClient(embedded=engine))
    refused: RunnableConfig = {"configurable": {"user_id": 42, "thread_id": "t1"}}
    # Before, the middleware silently used the user "42" while the retriever refused it.
    with pytest.raises(MemOSInputError, match="user_id must be a non-empty string; got 42"):
        retriever.invoke(QUESTION, config=refused)
    with pytest.raises(MemOSInputError, match=r"configurable\.user_id must be a non-empty string"):
        await run(agent, mode, QUESTION, refused)
    assert engine.paths == []  # refused before any request

    # A numeric thread id is LangGraph's to give: the retriever takes it, and so does the
    # middleware, which files the turn under its string.
    numeric: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": 7}}
    await run(agent, mode, QUESTION, numeric)
    assert retriever.invoke(QUESTION, config=numeric)
    assert middleware.flush(timeout=5)
    [body] = [json.loads(b) for p, b in zip(engine.paths, engine.bodies, strict=True) if p == ADD]
    assert body["conversation_id"] == "7"


PROTOCOL = "# Critical Protocol: Memory Safety"


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_by_default_the_model_gets_the_memory_safety_protocol(
    engine: CountingEngine, middleware: MemOSMiddleware, mode: str
) -> None:
    # Before, the default injected the bare <memories> block: nothing told the model that
    # "[assistant viewpoint]" memories are past guesses, nor which zone the times are in.
    model = ScriptedChatModel(tool_calls=1)
    agent = create_agent(model, [lookup], system_prompt="You are terse.", middleware=[middleware])
    await run(agent, mode, QUESTION, config())
    for call in model.calls:
        system = call[0].text
        assert system.startswith("You are terse.\n\n# System Context\n- Current time: ")
        assert "- Time zone: UTC+08:00 (Asia/Shanghai)" in system
        assert "I always travel with my kids and my parents." in system
        assert PROTOCOL in system
        assert "'[assistant viewpoint]'" in system
        assert "# Role" not in system  # the agent's own prompt is its role
        assert QUESTION not in system  # the query is in the conversation, not the system prompt


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_protocol_speaks_the_querys_language(
    engine: CountingEngine, middleware: MemOSMiddleware, mode: str
) -> None:
    MemOSClient(embedded=engine).add_message(
        [{"role": "user", "content": "我每次旅行都带着孩子和父母。"}],
        user_id="alice",
        conversation_id="zh",
    )
    model = ScriptedChatModel(tool_calls=0)
    agent = create_agent(model, [], middleware=[middleware])
    await run(agent, mode, "这次旅行我应该带孩子去哪里？", config())
    system = model.calls[0][0].text
    assert "我每次旅行都带着孩子和父母。" in system
    assert "# Critical Protocol: Memory Safety (记忆安全协议)" in system
    assert "- 时区: UTC+08:00 (Asia/Shanghai)" in system


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_each_prompt_mode_injects_its_rendering(engine: CountingEngine, mode: str) -> None:
    client = MemOSClient(embedded=engine)
    seen: dict[str, str] = {}
    for options in (
        {"prompt_mode": "memories"},
        {"prompt_mode": "full"},
        {"full_instruction": True},
    ):
        model = ScriptedChatModel(tool_calls=0)
        memory = MemOSMiddleware(client, write_back=False, **options)
        await run(create_agent(model, [], middleware=[memory]), mode, QUESTION, config())
        seen[str(options)] = model.calls[0][0].text
    memories, full, legacy = seen.values()
    assert memories.startswith("<memories>\n")
    assert "</memories>\nAll times above are in UTC+08:00 (Asia/Shanghai)." in memories
    assert PROTOCOL not in memories
    assert full.startswith("# Role\n")
    assert PROTOCOL in full
    assert full.endswith(f"# Original Query\n{QUESTION}")
    assert legacy == full


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_write_back_can_choose_the_messages_it_writes(
    engine: CountingEngine, mode: str
) -> None:
    memory = MemOSMiddleware(
        MemOSClient(embedded=engine),
        async_client=AsyncMemOSClient(embedded=engine),
        write_back=lambda message: message.type == "human",
    )
    agent = create_agent(ScriptedChatModel(tool_calls=2), [lookup], middleware=[memory])
    result = await run(agent, mode, QUESTION, config())
    assert len(result["messages"]) == 6  # the conversation itself is untouched
    assert memory.close(timeout=5)
    assert added(engine) == [[{"role": "user", "content": QUESTION, "chat_time": ANY}]]
    with pytest.raises(MemOSInputError, match="write_back must be True, False or a function"):
        MemOSMiddleware(MemOSClient(embedded=engine), write_back="human")


def recall_then_answer() -> ScriptedChatModel:
    """Calls search_memory, then search_memory and lookup together, then answers."""
    search = {"name": "search_memory", "args": {"query": "who do I travel with"}}
    return ScriptedChatModel(
        script=[
            AIMessage("", tool_calls=[{**search, "id": "s1"}]),
            AIMessage(
                "Let me check.",
                tool_calls=[
                    {**search, "id": "s2"},
                    {"name": "lookup", "args": {"item": "beach"}, "id": "l1"},
                ],
            ),
            AIMessage("You travel with your kids and parents: try the beach."),
        ]
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_memory_tools_output_is_not_stored_again(
    engine: CountingEngine, middleware: MemOSMiddleware, mode: str
) -> None:
    client = MemOSClient(embedded=engine)
    tools = [*create_memory_tools(client=client, user_id="alice"), lookup]
    agent = create_agent(recall_then_answer(), tools, middleware=[middleware])

    result = await run(agent, mode, QUESTION, config())
    assert middleware.flush(timeout=5)

    recalled = [m.text for m in result["messages"] if m.type == "tool" and m.name != "lookup"]
    assert len(recalled) == 2
    assert all("I always travel with my kids" in text for text in recalled)  # the tool worked
    [written] = added(engine)
    assert [m["role"] for m in written] == ["user", "assistant", "tool", "assistant"]
    assert written[1]["content"] == "Let me check."
    assert [c["function"]["name"] for c in written[1]["tool_calls"]] == ["lookup"]
    assert written[2] == {
        "role": "tool",
        "content": "found beach",
        "tool_call_id": "l1",
        "chat_time": ANY,
    }
    assert not any("travel with my kids" in json.dumps(m) for m in written[1:])


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_what_has_nothing_to_remember_or_no_memos_role_is_not_written(
    engine: CountingEngine,
    middleware: MemOSMiddleware,
    mode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent: Any = create_agent(ScriptedChatModel(tool_calls=0), [], middleware=[middleware])
    turn = [
        HumanMessage("Plan my trip."),
        HumanMessage("   \n"),  # sent by mistake: nothing to remember
        ChatMessage(role="critic", content="Too vague."),
        ChatMessage(role="human", content="To Rome."),  # LangChain's name for the user
    ]
    payload = {"messages": turn}
    with caplog.at_level(logging.INFO, logger="langchain_memos"):
        if mode == "sync":
            agent.invoke(payload, config())
        else:
            await agent.ainvoke(payload, config())
    assert middleware.flush(timeout=5)

    [written] = added(engine)
    assert [(m["role"], m["content"]) for m in written] == [
        ("user", "Plan my trip."),
        ("user", "To Rome."),
        ("assistant", "Here is your answer."),
    ]
    assert "MemOS has no role for a ChatMessage with role 'critic': left out" in caplog.text


def test_a_subagent_that_writes_back_is_warned_about_once(
    middleware: MemOSMiddleware, caplog: pytest.LogCaptureFixture
) -> None:
    """A subagent called from a tool is given its task by the calling agent's model, which a
    memory writing back stores as the user's own words: recalled later as "[user viewpoint]"."""
    sub = create_agent(
        ScriptedChatModel(script=[AIMessage("Found: Hotel Ibis.")]),
        middleware=[middleware],
        name="researcher",
    )

    @tool
    def research(task: str) -> str:
        """Hand a task to the researcher."""
        return str(sub.invoke({"messages": [HumanMessage(task)]})["messages"][-1].text)

    call = {"name": "research", "args": {"task": "The user smokes: find a smoking room."}}
    delegate = AIMessage("", tool_calls=[{**call, "id": "r1"}])
    parent = create_agent(
        ScriptedChatModel(script=[AIMessage("Hi."), delegate, AIMessage("ok"), delegate]),
        tools=[research],
        middleware=[middleware],
        checkpointer=InMemorySaver(),
    )
    caplog.set_level(logging.WARNING, logger="langchain_memos")
    parent.invoke({"messages": [HumanMessage("Hello")]}, config())  # no subagent runs
    assert not [r for r in caplog.records if "subagent" in r.message]
    for _ in range(2):  # the subagent runs in each
        parent.invoke({"messages": [HumanMessage("Find me a hotel.")]}, config())
    warned = [r for r in caplog.records if "subagent" in r.message]
    assert len(warned) == 1
    assert "write_back=False" in warned[0].message
