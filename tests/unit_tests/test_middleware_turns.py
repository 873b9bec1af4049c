"""What each user turn of a ``create_agent`` agent writes, whatever the rest of its stack does.

Found by a red team: the middleware found a turn's messages by their index in the state, so a
middleware that summarized or deleted messages during the turn made it write part of the turn,
or nothing; a run without a human message wrote the previous turn again; a guardrail ending
the run before this middleware's ``before_agent`` made it write the previous turn again with
the text the guardrail refused; and one content block MemOS has no form for dropped the turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    PIIMiddleware,
    SummarizationMiddleware,
    after_model,
    before_model,
    hook_config,
)
from langchain.agents.structured_output import AutoStrategy, ToolStrategy
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel

from langchain_memos import MemOSClient, MemOSInputError
from langchain_memos.middleware import MemOSMiddleware
from tests.fakes import CountingEngine, ScriptedChatModel

CONFIG: RunnableConfig = {"configurable": {"user_id": "alice", "thread_id": "t1"}}
ANSWER = "Here is your answer."  # what ScriptedChatModel says last


@tool
def lookup(item: str) -> str:
    """Look up an item."""
    return f"info about {item}"


@pytest.fixture
def engine() -> CountingEngine:
    return CountingEngine()


@pytest.fixture
def memory(engine: CountingEngine) -> Iterator[MemOSMiddleware]:
    middleware = MemOSMiddleware(MemOSClient(embedded=engine, max_retries=0), fail_open=False)
    yield middleware
    middleware.close(timeout=5)


def written(engine: CountingEngine, memory: MemOSMiddleware) -> list[list[tuple[str, str]]]:
    """Each add/message request so far, as (role, text) pairs."""
    assert memory.flush(timeout=10)
    return [
        [(m["role"], c if isinstance(c := m.get("content"), str) else "") for m in sent]
        for path, body in zip(engine.paths, engine.bodies, strict=True)
        if path == "/add/message" and (sent := json.loads(body)["messages"])
    ]


def searches(engine: CountingEngine) -> list[str]:
    return [
        json.loads(body)["query"]
        for path, body in zip(engine.paths, engine.bodies, strict=True)
        if path == "/search/memory"
    ]


def agent_of(*middleware: Any, model: Any = None, tools: Sequence[Any] = ()) -> Any:
    """An agent with ``middleware`` whose runs are turns of one thread (a checkpointer); its
    model answers at once unless given."""
    model = model if model is not None else ScriptedChatModel(tool_calls=0)
    return create_agent(
        model, list(tools), middleware=list(middleware), checkpointer=InMemorySaver()
    )


def ask(agent: Any, text: str) -> None:
    """One user turn of ``agent``'s thread."""
    agent.invoke({"messages": [HumanMessage(text)]}, CONFIG)


def turn(question: str) -> list[tuple[str, str]]:
    """What one turn of ``ScriptedChatModel(tool_calls=1)`` with ``lookup`` writes."""
    return [("user", question), ("assistant", ""), ("tool", "info about x0"), ("assistant", ANSWER)]


QUESTIONS = [f"Question {n} about the kids?" for n in range(4)]


@pytest.mark.parametrize("keep", [3, 4])  # a turn's four messages survive its summary
def test_each_turn_is_written_once_while_a_middleware_summarizes_the_conversation(
    engine: CountingEngine, memory: MemOSMiddleware, keep: int
) -> None:
    summarize = SummarizationMiddleware(
        model=ScriptedChatModel(), summarizer=lambda _: "Questions about kids.",
        trigger=("messages", 6), keep=("messages", keep),
    )  # fmt: skip
    agent = agent_of(summarize, memory, model=ScriptedChatModel(tool_calls=1), tools=[lookup])
    for question in QUESTIONS:
        ask(agent, question)
    assert written(engine, memory) == [turn(q) for q in QUESTIONS]


def test_each_turn_is_written_once_while_old_messages_are_deleted(
    engine: CountingEngine, memory: MemOSMiddleware
) -> None:
    @after_model
    def keep_the_last_two(state: Any, runtime: Any) -> dict[str, Any] | None:
        old = state["messages"][:-2]
        return {"messages": [RemoveMessage(id=m.id) for m in old]} if old else None

    agent = agent_of(keep_the_last_two, memory)
    for question in QUESTIONS:
        ask(agent, question)
    assert written(engine, memory) == [[("user", q), ("assistant", ANSWER)] for q in QUESTIONS]


@pytest.mark.parametrize(
    "given",
    [[], [SystemMessage("Be brief.")], [AIMessage("By the way, your booking is confirmed.")]],
    ids=["nothing", "system", "ai"],
)
def test_a_run_without_a_human_message_searches_nothing_and_writes_only_its_own(
    engine: CountingEngine, memory: MemOSMiddleware, given: list[Any]
) -> None:
    agent = agent_of(memory)
    ask(agent, QUESTIONS[0])
    agent.invoke({"messages": given}, CONFIG)
    assert searches(engine) == [QUESTIONS[0]]
    own = [("assistant", m.text) for m in given if isinstance(m, AIMessage)]
    assert written(engine, memory) == [
        [("user", QUESTIONS[0]), ("assistant", ANSWER)],
        [*own, ("assistant", ANSWER)],
    ]


class Guardrail(AgentMiddleware[Any, Any, Any]):
    """Ends the run before the model when the user's message is about a forbidden topic."""

    @hook_config(can_jump_to=["end"])
    def before_agent(self, state: Any, runtime: Any) -> dict[str, Any] | None:
        if "forbidden" in state["messages"][-1].text:
            return {"messages": [AIMessage("I can't help with that.")], "jump_to": "end"}
        return None


def test_a_turn_a_guardrail_ends_is_never_written_and_the_last_one_not_again(
    engine: CountingEngine, memory: MemOSMiddleware
) -> None:
    agent = agent_of(Guardrail(), memory)
    for question in ("Where do the kids want to go?", "A forbidden topic", "And the parents?"):
        ask(agent, question)
    assert written(engine, memory) == [
        [("user", "Where do the kids want to go?"), ("assistant", ANSWER)],
        [("user", "And the parents?"), ("assistant", ANSWER)],
    ]


def test_a_block_memos_has_no_form_for_is_left_out_and_the_turn_written(
    engine: CountingEngine, memory: MemOSMiddleware
) -> None:
    """A model's web search results (an Anthropic server tool block) beside its answer."""
    results = {"type": "web_search_tool_result", "tool_use_id": "s1", "content": []}
    model = ScriptedChatModel(
        script=[AIMessage(content=[results, {"type": "text", "text": "Try the coast."}])]
    )
    agent = agent_of(memory, model=model)
    ask(agent, QUESTIONS[0])
    assert written(engine, memory) == [[("user", QUESTIONS[0]), ("assistant", "Try the coast.")]]


def test_the_memory_block_is_not_kept_in_the_state_once_the_turn_is_over(
    engine: CountingEngine, memory: MemOSMiddleware
) -> None:
    agent = agent_of(memory)
    ask(agent, QUESTIONS[0])
    ask(agent, QUESTIONS[1])
    state = agent.get_state(CONFIG).values
    assert not state.get("memos_memory")
    assert not state.get("memos_turn_input")
    assert len(written(engine, memory)) == 2


@pytest.mark.parametrize("then", ["resume", "new message"])
def test_a_turn_a_tool_failed_in_is_written_if_resumed_and_left_behind_if_not(
    engine: CountingEngine, memory: MemOSMiddleware, then: str
) -> None:
    """A failed run's turn is open: a resume writes it; a new message leaves it behind (what a
    run that failed holds may be what a middleware refused by raising), never written."""
    failures = [RuntimeError("tool exploded")]

    @tool("lookup")
    def flaky(item: str) -> str:
        """Look up an item."""
        if failures:
            raise failures.pop()
        return f"info about {item}"

    agent = agent_of(memory, model=ScriptedChatModel(tool_calls=1), tools=[flaky])
    with pytest.raises(RuntimeError, match="tool exploded"):
        ask(agent, QUESTIONS[0])
    if then == "resume":
        agent.invoke(None, CONFIG)
    ask(agent, QUESTIONS[1])
    asked = [[text for role, text in turn if role == "user"] for turn in written(engine, memory)]
    expected = [[QUESTIONS[0]], [QUESTIONS[1]]] if then == "resume" else [[QUESTIONS[1]]]
    assert asked == expected


def test_the_callers_system_message_keeps_its_id_name_and_kwargs() -> None:
    model = ScriptedChatModel(tool_calls=0)
    client = MemOSClient(embedded=CountingEngine(), max_retries=0)
    said: Any = [{"role": "user", "content": "My kids love the beach."}]
    client.add_message(said, user_id="alice", conversation_id="c0", async_mode=False)
    memory = MemOSMiddleware(client)
    system = SystemMessage("You plan trips.", id="sys1", name="policy", additional_kwargs={"k": 1})
    agent = create_agent(model, [], system_prompt=system, middleware=[memory])
    ask(agent, "Where do my kids love to go?")
    memory.close(timeout=5)
    sent = model.calls[0][0]
    assert (sent.id, sent.name, sent.additional_kwargs) == ("sys1", "policy", {"k": 1})
    assert sent.content_blocks[0] == {"type": "text", "text": "You plan trips."}
    assert "My kids love the beach." in sent.text  # the memory block, added to it


# ---- what a middleware did to the turn's own messages is what is written (review findings) --


def test_a_message_another_middleware_redacted_is_written_redacted(
    engine: CountingEngine, memory: MemOSMiddleware
) -> None:
    redact = PIIMiddleware("email", strategy="redact", apply_to_input=True)
    agent = agent_of(memory, redact)
    ask(agent, "My email is alice@example.com")
    assert written(engine, memory) == [
        [("user", "My email is [REDACTED_EMAIL]"), ("assistant", ANSWER)]
    ]


@before_model(can_jump_to=["end"])
def remove_secrets(state: Any, runtime: Any) -> dict[str, Any] | None:
    last = state["messages"][-1]
    if isinstance(last, HumanMessage) and "secret" in last.text:
        refusal = AIMessage("I removed that message.")
        return {"messages": [RemoveMessage(id=last.id or ""), refusal], "jump_to": "end"}
    return None


def test_a_message_another_middleware_removed_is_not_written_nor_the_last_turn_again(
    engine: CountingEngine, memory: MemOSMiddleware
) -> None:
    agent = agent_of(memory, remove_secrets)
    ask(agent, QUESTIONS[0])
    ask(agent, "My secret password is hunter2")
    assert written(engine, memory) == [
        [("user", QUESTIONS[0]), ("assistant", ANSWER)],
        [("assistant", "I removed that message.")],
    ]


def test_text_a_middleware_blocked_by_raising_is_never_written(
    engine: CountingEngine, memory: MemOSMiddleware
) -> None:
    block = PIIMiddleware("email", strategy="block", apply_to_input=True)
    agent = agent_of(memory, block)
    with pytest.raises(Exception, match=r"(?i)email"):
        ask(agent, "My email is alice@example.com")
    ask(agent, QUESTIONS[0])
    assert written(engine, memory) == [[("user", QUESTIONS[0]), ("assistant", ANSWER)]]


def test_a_turn_memos_refused_does_not_hold_up_the_next(engine: CountingEngine) -> None:
    client = MemOSClient(embedded=engine, max_retries=0)
    memory = MemOSMiddleware(client, fail_open=False, timeout=60)  # a long query's search
    agent = agent_of(memory)
    huge = "word " * 50_000  # one message over what one add/message request takes
    with pytest.raises(MemOSInputError):
        ask(agent, huge)
    for question in QUESTIONS[:2]:
        ask(agent, question)
    assert written(engine, memory) == [[("user", q), ("assistant", ANSWER)] for q in QUESTIONS[:2]]
    memory.close(timeout=5)


def test_a_human_message_a_middleware_adds_mid_turn_is_part_of_the_turn(
    engine: CountingEngine, memory: MemOSMiddleware
) -> None:
    """As a tool's image or a reminder comes back: the turn is written whole, answer included."""

    @before_model
    def remind(state: Any, runtime: Any) -> dict[str, Any] | None:
        if isinstance(state["messages"][-1], ToolMessage):
            return {"messages": [HumanMessage("(reminder: answer concisely)")]}
        return None

    call = AIMessage("", tool_calls=[{"name": "lookup", "args": {"item": "x0"}, "id": "c1"}])
    model = ScriptedChatModel(script=[call, AIMessage(ANSWER)])
    agent = agent_of(memory, remind, model=model, tools=[lookup])
    ask(agent, QUESTIONS[0])
    assert written(engine, memory) == [
        [
            ("user", QUESTIONS[0]),
            ("assistant", ""),
            ("tool", "info about x0"),
            ("user", "(reminder: answer concisely)"),
            ("assistant", ANSWER),
        ]
    ]


class Hotel(BaseModel):
    """A hotel pick."""

    name: str


@pytest.mark.parametrize("strategy", [ToolStrategy, AutoStrategy])
def test_a_structured_response_is_not_written_as_a_tool_memory(
    engine: CountingEngine, memory: MemOSMiddleware, strategy: Any
) -> None:
    """create_agent's ToolStrategy has the model call a tool named after the schema and answers
    it "Returning structured response: ...": how the agent returns, not a tool it used."""
    pick = {"name": "Hotel", "args": {"name": "Hilton"}, "id": "s1"}
    model = ScriptedChatModel(script=[AIMessage("My pick.", tool_calls=[pick])])
    agent = create_agent(
        model, [], middleware=[memory], response_format=strategy(Hotel), checkpointer=None
    )
    out = agent.invoke({"messages": [HumanMessage(QUESTIONS[0])]}, CONFIG)
    assert out["structured_response"] == Hotel(name="Hilton")
    assert written(engine, memory) == [[("user", QUESTIONS[0]), ("assistant", "My pick.")]]
