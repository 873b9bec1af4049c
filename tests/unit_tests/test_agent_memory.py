"""The core the middleware and the graph nodes share: scope, turns, the background writer."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from types import SimpleNamespace

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from langchain_memos import MemOSClient, MemOSInputError
from langchain_memos._agent_memory import _in_a_tool_call
from langchain_memos._writer import BackgroundWriter
from langchain_memos.outbox import Outbox
from langchain_memos.scope import Scope, last_human_text, resolve_scope, turn_start
from tests.fakes import CountingEngine

ADD = "/add/message"


def test_scope_precedence() -> None:
    config = {"configurable": {"user_id": "from-config", "thread_id": "t-config"}}
    context = SimpleNamespace(user_id="from-context", thread_id="t-context")
    assert resolve_scope(
        user_id="explicit", conversation_id="c", config=config, context=context
    ) == Scope("explicit", "c")
    assert resolve_scope(
        user_id=None, conversation_id=None, config=config, context=context
    ) == Scope("from-config", "t-config")
    assert resolve_scope(
        user_id=None, conversation_id=None, config={}, context={"user_id": "from-dict"}
    ) == Scope("from-dict", None)
    assert resolve_scope(
        user_id=None,
        conversation_id=None,
        config={"configurable": {"user_id": "u", "conversation_id": "c2"}},
    ) == Scope("u", "c2")
    with pytest.raises(MemOSInputError, match="configurable"):
        resolve_scope(user_id=None, conversation_id=None, config=None, context=None)


@pytest.mark.parametrize(
    ("configurable", "message"),
    [
        ({"user_id": 42}, "configurable.user_id must be a non-empty string; got 42"),
        ({"user_id": ""}, "configurable.user_id must be a non-empty string"),
        ({"user_id": True}, "configurable.user_id must be a non-empty string"),
        ({"user_id": "u" * 101}, "configurable.user_id is 101 characters long"),
        ({"user_id": "u", "thread_id": ""}, "configurable.thread_id must be a non-empty"),
        ({"user_id": "u", "conversation_id": "c" * 101}, "configurable.conversation_id is 101"),
    ],
)
def test_a_bad_id_is_refused_where_it_was_given_not_coerced_or_skipped(
    configurable: dict[str, object], message: str
) -> None:
    # Before: 42 became the user "42", and "" or True fell through to the context's user.
    context = SimpleNamespace(user_id="from-context", thread_id="t")
    with pytest.raises(MemOSInputError, match=re.escape(message)):
        resolve_scope(
            user_id=None,
            conversation_id=None,
            config={"configurable": configurable},
            context=context,
        )


def test_conversation_ids_are_stringified_and_conversation_id_wins_like_the_retriever() -> None:
    def scope(**configurable: object) -> Scope:
        return resolve_scope(
            user_id=None, conversation_id=None, config={"configurable": configurable}
        )

    assert scope(user_id="u", thread_id=7) == Scope("u", "7")
    assert scope(user_id="u", thread_id="t", conversation_id="c") == Scope("u", "c")
    context = {"user_id": "u", "thread_id": "t", "conversation_id": "c"}
    assert resolve_scope(user_id=None, conversation_id=None, config=None, context=context) == Scope(
        "u", "c"
    )


def test_turn_start_and_query() -> None:
    history = [
        HumanMessage("first"),
        AIMessage("", tool_calls=[{"name": "t", "args": {}, "id": "c"}]),
        ToolMessage("r", tool_call_id="c"),
        AIMessage("done"),
    ]
    assert turn_start(history) == 0
    turn = [HumanMessage("second"), HumanMessage("and a third")]
    assert turn_start([*history, *turn]) == 4
    assert turn_start([*history, *turn, AIMessage("ok")]) == 4
    assert turn_start([SystemMessage("s"), AIMessage("hi")]) == 2
    assert last_human_text([*history, *turn, AIMessage("ok")]) == "and a third"
    assert last_human_text([AIMessage("hi")]) is None
    image = HumanMessage([{"type": "image", "url": "https://example.com/a.png"}])
    assert last_human_text([*history, HumanMessage("Which is cheaper?"), image]) == (
        "Which is cheaper?"  # None before: no recall for a question sent with an attachment
    )
    assert last_human_text([HumanMessage("an earlier turn"), AIMessage("ok"), image]) is None


def test_writer_sends_in_the_background_and_flushes() -> None:
    engine = CountingEngine()
    writer = BackgroundWriter(MemOSClient(embedded=engine))
    engine.gated.add(ADD)
    writer.submit([HumanMessage("hello")], user_id="u", conversation_id="c")
    assert writer.pending == 1
    assert not writer.flush(timeout=0.05)
    engine.gate.set()
    assert writer.close(timeout=5)
    assert engine.count(ADD) == 1
    with pytest.raises(MemOSInputError, match="closed"):
        writer.submit([HumanMessage("late")], user_id="u", conversation_id="c")


def test_writer_checks_input_at_once_and_is_bounded_without_dropping() -> None:
    engine = CountingEngine()
    engine.gated.add(ADD)
    writer = BackgroundWriter(MemOSClient(embedded=engine), max_pending=2)
    with pytest.raises(MemOSInputError, match="LangChain message"):
        writer.submit(["not a message"], user_id="u", conversation_id="c")  # type: ignore[list-item]
    writer.submit([HumanMessage("0")], user_id="u", conversation_id="c")
    deadline = time.monotonic() + 5
    while engine.count(ADD) == 0 and time.monotonic() < deadline:
        time.sleep(0.005)  # until the sender holds the first write
    writer.submit([HumanMessage("1")], user_id="u", conversation_id="c")  # the outbox is full

    # The outbox is full: an async submit waits for room off the event loop, which stays free.
    async def submit_while_the_loop_runs() -> int:
        waiting = asyncio.create_task(
            writer.asubmit([HumanMessage("2")], user_id="u", conversation_id="c")
        )
        ticks = 0
        for _ in range(5):
            await asyncio.sleep(0.01)
            ticks += 1
        assert not waiting.done()  # back-pressure, not a drop
        engine.gate.set()
        await asyncio.wait_for(waiting, timeout=5)
        return ticks

    assert asyncio.run(submit_while_the_loop_runs()) == 5
    assert writer.close(timeout=5)
    sent = [json.loads(body)["messages"][0]["content"] for body in engine.bodies]
    assert sent == ["0", "1", "2"]  # every write delivered, in order


def test_a_write_the_service_fails_is_retried_until_it_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = CountingEngine()
    engine.broken.add(ADD)
    client = MemOSClient(embedded=engine, max_retries=0)
    writer = BackgroundWriter(client, outbox=Outbox(max_backoff=0.05))
    with caplog.at_level(logging.WARNING, logger="langchain_memos"):
        writer.submit([HumanMessage("hello")], user_id="u", conversation_id="c")
        while engine.count(ADD) < 3:
            time.sleep(0.01)
        assert not writer.flush(timeout=0.05)  # still waiting, not dropped
        engine.broken.clear()
        assert writer.close(timeout=5)
    assert writer.failed == 0
    assert "not delivered (InternalServerError: broken on purpose" in caplog.text
    assert json.loads(engine.bodies[-1])["messages"][0]["content"] == "hello"
    assert client.get_message(user_id="u", conversation_id="c").message_detail_list


@pytest.mark.parametrize(
    ("namespace", "nested"),
    [
        ("", False),
        ("model:1", False),  # a top-level agent's own node
        ("planner:1|model:2", False),  # an agent that is a node of a bigger graph
        ("tools:1|model:2", True),  # called from create_agent's (or Deep Agents') tool node
        ("tools:1|researcher:2|model:3", True),
        ("tools:1", False),  # the tool node itself, no agent in it
    ],
)
def test_a_run_called_from_a_tool_is_told_by_its_namespace(namespace: str, nested: bool) -> None:
    assert _in_a_tool_call({"configurable": {"checkpoint_ns": namespace}}) is nested
