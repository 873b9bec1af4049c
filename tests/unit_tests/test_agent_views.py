"""The memory views reach the model through one MemorySettings: the middleware, the graph nodes
and the search tool recall the profile and events it names, on the embedded engine, in English
and Chinese, sync and async."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph

from langchain_memos import AsyncMemOSClient, MemorySettings, MemOSClient, MemOSInputError
from langchain_memos.graph import MemOSGraphMemory
from langchain_memos.middleware import MemOSMiddleware
from langchain_memos.tools import create_memory_tools
from tests.fakes import CountingEngine, ScriptedChatModel
from tests.unit_tests.test_graph import State

VIEWS = ["detail_factual", "preference", "profile", "event"]


@dataclass(frozen=True)
class Conversation:
    """What a user told, what they ask later, and what the model must then be shown."""

    profile: dict[str, Any]
    said: str
    query: str
    shown: tuple[str, ...]
    described: str  # in the system prompt: what the events section is


CONVERSATIONS = {
    "en": Conversation(
        profile={"Family": {"Daughter": {"value": "Mia, 7"}}},
        said="Last Tuesday I went hiking with my daughter Mia.",
        query="Where can I go hiking with my daughter this weekend?",
        shown=(
            "  <profile>\n    -[",
            "] Family.Daughter: Mia, 7\n  </profile>",
            "] [When: Last Tuesday] Last Tuesday I went hiking with my daughter Mia.",
        ),
        described="- **Events**: things that happened",
    ),
    "zh": Conversation(
        profile={"家庭": {"女儿": {"value": "米娅，7岁"}}},
        said="上周二我和女儿去爬山了。",
        query="周末带女儿去哪里爬山？",
        shown=(
            "  <profile>\n    -[",
            "] 家庭.女儿: 米娅，7岁\n  </profile>",
            "] [时间：上周二] 上周二我和女儿去爬山了。",
        ),
        described="- **事件 (Events)**：发生过的事情",
    ),
}
CASES = [(language, mode) for language in CONVERSATIONS for mode in ("sync", "async")]


@pytest.fixture
def engine() -> CountingEngine:
    return CountingEngine()


@pytest.fixture
def settings(engine: CountingEngine) -> MemorySettings:
    return MemorySettings(
        client=MemOSClient(embedded=engine),
        async_client=AsyncMemOSClient(embedded=engine),
        search_options={"include_memory_view": VIEWS},
        write_back=False,
    )


def seed(engine: CountingEngine, conversation: Conversation) -> None:
    client = MemOSClient(embedded=engine)
    client.bind_profile_template([{"user_id": "mia_parent", "profile_template_id": "tpl_family"}])
    client.edit_profile("tpl_family", user_id="mia_parent", metadata=conversation.profile)
    client.add_message(
        [{"role": "user", "content": conversation.said}],
        user_id="mia_parent",
        conversation_id="earlier",
    )


def searched_views(engine: CountingEngine) -> list[Any]:
    return [
        json.loads(body).get("include_memory_view")
        for path, body in zip(engine.paths, engine.bodies, strict=True)
        if path == "/search/memory"
    ]


def assert_shown(text: str, conversation: Conversation) -> None:
    for part in conversation.shown:
        assert part in text


CONFIG: RunnableConfig = {"configurable": {"user_id": "mia_parent", "thread_id": "weekend"}}


@pytest.mark.parametrize(("language", "mode"), CASES)
async def test_the_middleware_shows_the_model_the_profile_and_events(
    engine: CountingEngine, settings: MemorySettings, language: str, mode: str
) -> None:
    conversation = CONVERSATIONS[language]
    seed(engine, conversation)
    memory = MemOSMiddleware(settings=settings)
    model = ScriptedChatModel(tool_calls=0)
    agent = create_agent(model, [], middleware=[memory])
    payload: Any = {"messages": [HumanMessage(conversation.query)]}

    if mode == "sync":
        agent.invoke(payload, CONFIG)
    else:
        await agent.ainvoke(payload, CONFIG)

    [call] = model.calls
    assert_shown(call[0].text, conversation)
    assert conversation.described in call[0].text
    assert searched_views(engine) == [VIEWS]
    memory.close()


@pytest.mark.parametrize(("language", "mode"), CASES)
async def test_the_graph_s_memory_message_holds_the_profile_and_events(
    engine: CountingEngine, settings: MemorySettings, language: str, mode: str
) -> None:
    conversation = CONVERSATIONS[language]
    seed(engine, conversation)
    memory = MemOSGraphMemory(settings=settings)
    graph = StateGraph(State)
    graph.add_node("recall", memory.memory_node())
    graph.add_node("model", lambda state: {"messages": [AIMessage("ok")]})
    graph.add_edge(START, "recall")
    graph.add_edge("recall", "model")
    app = graph.compile()
    payload: Any = {"messages": [HumanMessage(conversation.query)]}

    result = app.invoke(payload, CONFIG) if mode == "sync" else await app.ainvoke(payload, CONFIG)

    assert_shown(result["messages"][0].text, conversation)
    assert conversation.described in result["messages"][0].text
    assert searched_views(engine) == [VIEWS]
    memory.close()


@pytest.mark.parametrize(("language", "mode"), CASES)
async def test_the_search_tool_answers_with_the_profile_and_events(
    engine: CountingEngine, settings: MemorySettings, language: str, mode: str
) -> None:
    conversation = CONVERSATIONS[language]
    seed(engine, conversation)
    search, _ = create_memory_tools(dataclasses.replace(settings, user_id="mia_parent"))
    args = {"query": conversation.query}

    answer = search.invoke(args) if mode == "sync" else await search.ainvoke(args)

    assert_shown(answer, conversation)
    assert "(facts, preferences, profile, events)" in search.description
    assert searched_views(engine) == [VIEWS]


def test_the_tool_names_the_default_kinds_without_views(settings: MemorySettings) -> None:
    plain = dataclasses.replace(settings, user_id="u1", search_options={})
    search, _ = create_memory_tools(plain)
    assert "(facts, preferences)" in search.description


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"include_memory_view": ["events"]}, "unknown memory views \\['events'\\]"),
        (
            {"include_memory_view": ["profile"], "include_preference": True},
            "include_memory_view replaces include_preference",
        ),
    ],
)
def test_a_view_mistake_fails_when_the_settings_are_made(
    engine: CountingEngine, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(MemOSInputError, match=message):
        MemorySettings(client=MemOSClient(embedded=engine), search_options=options)
    assert engine.paths == []
