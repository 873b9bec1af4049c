"""MemorySettings: one object of options, checked once, taken by every agent integration."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, MessagesState, StateGraph

from langchain_memos import (
    AsyncMemOSClient,
    MemorySettings,
    MemOSClient,
    MemOSGraphMemory,
    MemOSInputError,
    MemOSMiddleware,
    create_memory_tools,
    create_memos_pre_model_hook,
)
from langchain_memos import outbox as outbox_module
from tests.fakes import CountingEngine, ScriptedChatModel, remembering_engine

ADD = "/add/message"
CONFIG: RunnableConfig = {"configurable": {"thread_id": "t1"}}


def test_the_defaults() -> None:
    settings = MemorySettings()
    assert settings.client is None
    assert settings.async_client is None
    assert settings.user_id is None
    assert settings.conversation_id is None
    assert settings.timeout == 2.0
    assert settings.fail_open is True
    assert settings.write_back is True
    assert settings.prompt_mode == "protocol"
    assert settings.outbox is None
    assert dict(settings.search_options) == {}


def test_one_default_for_max_pending_the_outboxs() -> None:
    # Before, the agents waited for room at 1,000 writes and an Outbox made directly at 10,000.
    assert MemorySettings().max_pending == outbox_module.DEFAULT_MAX_PENDING == 1_000
    assert outbox_module.Outbox().max_pending == 1_000


def test_frozen_and_replace_checks_again() -> None:
    settings = MemorySettings(timeout=1)
    assert settings.timeout == 1.0
    assert isinstance(settings.timeout, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.timeout = 3  # type: ignore[misc]
    with pytest.raises(MemOSInputError, match="timeout must be a positive number"):
        dataclasses.replace(settings, timeout=0)


def test_search_options_are_a_read_only_copy() -> None:
    options = {"memory_limit_number": 3}
    settings = MemorySettings(search_options=options)
    options["memory_limit_number"] = 99
    assert settings.search_options == {"memory_limit_number": 3}
    with pytest.raises(TypeError):
        settings.search_options["memory_limit_number"] = 5  # type: ignore[index]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"client": "x"}, "client must be a MemOSClient; got str"),
        ({"async_client": MemOSClient(embedded=":memory:")}, "async_client must be an Async"),
        ({"user_id": 42}, "user_id must be a non-empty string; got 42"),
        ({"conversation_id": " "}, "conversation_id must be a non-empty string"),
        ({"builder": "x"}, "builder must be a MemoryPromptBuilder"),
        ({"search_options": "x"}, "search_options must be a dict"),
        ({"search_options": {"user_id": "bob"}}, "search_options cannot set query or user_id"),
        ({"search_options": {"timeout": 9}}, r"search_options cannot set .*timeout"),
        (
            {"search_options": {"top_k": 5}},
            "search_memory has no option 'top_k'; it takes context_format, filter",
        ),
        ({"search_options": {"agent_id": "a1"}}, "search_memory has no option 'agent_id'"),
        ({"search_options": {"memory_limit_number": 99}}, "between 1 and 25"),
        ({"search_options": {"filter": {}}}, "filter must not be empty"),
        ({"timeout": float("nan")}, "timeout must be a positive number of seconds"),
        ({"timeout": 0}, "timeout must be a positive number of seconds"),
        ({"fail_open": "false"}, "fail_open must be True or False"),
        ({"write_back": "human"}, "write_back must be True, False or a function of a message"),
        ({"prompt_mode": "all"}, "prompt_mode must be 'memories', 'protocol' or 'full'"),
        ({"outbox": 5}, "outbox must be a file path"),
        ({"max_pending": 0}, "max_pending must be a positive integer"),
        ({"max_pending": True}, "max_pending must be a positive integer"),
    ],
)
def test_every_option_is_checked_when_the_settings_are_made(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(MemOSInputError, match=message):
        MemorySettings(**options)


def test_the_repr_shows_no_key() -> None:
    client = MemOSClient(api_key="sk-settings-secret", base_url="https://memos.example")
    settings = MemorySettings(client=client)
    assert "sk-settings-secret" not in repr(settings)
    assert "memos.example" in repr(settings)


def _engine_settings(engine: CountingEngine, **options: Any) -> MemorySettings:
    return MemorySettings(
        client=MemOSClient(embedded=engine),
        async_client=AsyncMemOSClient(embedded=engine),
        user_id="alice",
        prompt_mode="memories",
        write_back=lambda message: message.type == "human",
        **options,
    )


def _writes(engine: CountingEngine) -> list[list[str]]:
    return [
        [m["content"] for m in json.loads(body)["messages"]]
        for path, body in zip(engine.paths, engine.bodies, strict=True)
        if path == ADD
    ]


def test_one_settings_object_for_the_middleware_the_nodes_and_the_tools() -> None:
    engine = remembering_engine()
    settings = _engine_settings(engine)

    # The middleware: the pinned user, the memories-only block, only what the user said.
    middleware = MemOSMiddleware(settings=settings)
    assert middleware.settings is settings
    model = ScriptedChatModel(tool_calls=0)
    agent = create_agent(model, [], middleware=[middleware])
    agent.invoke({"messages": [HumanMessage("Who do I travel with?")]}, CONFIG)
    system = model.calls[0][0]
    assert "my kids and my parents" in system.text
    assert "# Critical Protocol" not in system.text  # prompt_mode="memories"
    assert middleware.close(timeout=5)
    assert _writes(engine) == [["Who do I travel with?"]]

    # The graph nodes: the same options.
    nodes = MemOSGraphMemory(settings=settings)
    assert nodes.settings is settings
    builder = StateGraph(MessagesState)
    builder.add_node("recall", nodes.memory_node())
    builder.add_node("save", nodes.save_node())
    builder.add_edge(START, "recall")
    builder.add_edge("recall", "save")
    state = builder.compile().invoke(
        {"messages": [HumanMessage("And who do I travel with?")]}, CONFIG
    )
    assert state["messages"][0].text.startswith("<memories>\n")
    assert nodes.close(timeout=5)
    assert _writes(engine)[-1] == ["And who do I travel with?"]

    # The legacy hook: the same options, and no writer.
    hook = create_memos_pre_model_hook(settings=settings)
    hook_messages: list[BaseMessage] = hook.invoke(
        {"messages": [HumanMessage("Who do I travel with?")]}, CONFIG
    )["llm_input_messages"]
    assert hook_messages[0].text.startswith("<memories>\n")

    # The tools: the pinned user's memories.
    search, add = create_memory_tools(settings)
    assert "my kids and my parents" in str(search.invoke({"query": "Who do I travel with?"}))
    assert add.invoke({"content": "The user likes trains."}) == "Remembered."
    [stored] = [
        write
        for path, body in zip(engine.paths, engine.bodies, strict=True)
        if path == ADD and "trains" in (write := json.loads(body))["messages"][0]["content"]
    ]
    assert (stored["user_id"], stored["conversation_id"]) == ("alice", "memory-tool")


def test_keywords_over_settings_make_a_checked_copy() -> None:
    engine = remembering_engine()
    settings = _engine_settings(engine)
    middleware = MemOSMiddleware(settings=settings, write_back=False, timeout=0.5)
    assert (middleware.settings.write_back, middleware.settings.timeout) == (False, 0.5)
    assert middleware.settings.user_id == "alice"
    assert settings.write_back is not False
    assert settings.timeout == 2.0
    assert middleware.memory.writer is None

    full = MemOSGraphMemory(settings=settings, full_instruction=True, write_back=False)
    assert full.prompt_mode == "full"
    with pytest.raises(MemOSInputError, match="timeout must be a positive number"):
        MemOSGraphMemory(settings=settings, timeout=-1)
    with pytest.raises(
        MemOSInputError, match=r"MemOSMiddleware\(\) got an unknown option 'timout'"
    ):
        MemOSMiddleware(settings=settings, timout=1)
    with pytest.raises(MemOSInputError, match="settings must be a MemorySettings"):
        MemOSMiddleware(settings={"timeout": 1})  # type: ignore[arg-type]


def test_the_tools_need_a_user() -> None:
    settings = MemorySettings(client=MemOSClient(embedded=":memory:"))
    with pytest.raises(MemOSInputError, match="create_memory_tools needs a user_id"):
        create_memory_tools(settings)
    assert len(create_memory_tools(settings, user_id="bob")) == 2
