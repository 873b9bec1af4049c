"""MemOSRetriever: options per field and per call, config scoping, Documents, async."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda

from langchain_memos import AsyncMemOSClient, MemOSClient, MemOSInputError
from langchain_memos.filters import all_of, tag
from langchain_memos.retrievers import MemOSRetriever
from tests.fakes import FakeMemOS, envelope
from tests.unit_tests.test_client import SEARCH_DATA

FULL_DATA = {
    **SEARCH_DATA,
    "tool_memory_detail_list": [
        {
            "id": "t1",
            "tool_type": "ToolSchemaMemory",
            "tool_value": {"name": "get_weather"},
            "experience": "works for Chinese cities",
        }
    ],
    "skill_detail_list": [
        {
            "id": "s1",
            "skill_value": {"name": "trip-planner", "description": "Plans family trips"},
            "skill_url": "https://x.test/skill.zip",
        }
    ],
}


@pytest.fixture
def fake() -> FakeMemOS:
    return FakeMemOS(replies=[envelope(FULL_DATA)])


def retriever(fake: FakeMemOS, mode: str = "sync", **fields: Any) -> MemOSRetriever:
    transport = httpx.MockTransport(fake.handler)
    if mode == "async":
        client = AsyncMemOSClient(api_key="k", http_client=httpx.AsyncClient(transport=transport))
        return MemOSRetriever(async_client=client, **fields)
    sync = MemOSClient(api_key="k", http_client=httpx.Client(transport=transport))
    return MemOSRetriever(client=sync, **fields)


def run(r: MemOSRetriever, mode: str, query: str, config: Any = None, **kwargs: Any) -> Any:
    if mode == "sync":
        return r.invoke(query, config, **kwargs)
    return asyncio.run(r.ainvoke(query, config, **kwargs))


MODES = ["sync", "async", "executor"]


@pytest.mark.parametrize("mode", MODES)
def test_one_document_per_recalled_item(fake: FakeMemOS, mode: str) -> None:
    docs = run(retriever(fake, mode, user_id="u1"), mode, "spicy food")

    assert [(d.id, d.metadata["kind"]) for d in docs] == [
        ("c6c63472", "fact"),
        ("46d8372d", "preference"),
        ("t1", "tool"),
        ("s1", "skill"),
    ]
    fact, preference, tool, skill = docs
    assert fact.page_content == "User likes spicy food."
    assert fact.metadata == {
        "kind": "fact",
        "conversation_id": "memos_conversation_123",
        "status": "activated",
        "relativity": pytest.approx(0.00242424),
        "created_at": "2025-11-09T07:51:34.466000+00:00",
        "updated_at": "2025-11-09T07:51:34.423000+00:00",
        "memory_key": "Spicy Food Preference",
        "memory_type": "UserMemory",
        "tags": ["Dietary Preference"],
        "confidence": 0.99,
    }
    assert preference.metadata["preference_type"] == "explicit_preference"
    assert preference.metadata["reasoning"] == "stated explicitly"
    assert tool.page_content == '{"name": "get_weather"}'
    assert skill.page_content == "trip-planner: Plans family trips"
    assert skill.metadata["skill_url"] == "https://x.test/skill.zip"


@pytest.mark.parametrize("mode", MODES)
def test_fields_are_search_options_and_calls_override_them(fake: FakeMemOS, mode: str) -> None:
    r = retriever(
        fake,
        mode,
        user_id="u1",
        k=5,
        include_tool_memory=True,
        knowledgebase_ids=["kb-1"],
        relativity=0.3,
    )
    run(r, mode, "q")
    run(r, mode, "q", k=2, filter=all_of(tag("travel")), include_preference=False)

    first, second = fake.bodies
    assert first == {
        "query": "q",
        "user_id": "u1",
        "memory_limit_number": 5,
        "knowledgebase_ids": ["kb-1"],
        "include_preference": True,
        "preference_limit_number": 5,
        "include_tool_memory": True,
        "tool_memory_limit_number": 5,
        "include_skill": False,
        "relativity": 0.3,
    }
    assert second["memory_limit_number"] == 2
    assert "preference_limit_number" not in second
    assert second["filter"] == {"and": [{"tags": {"contains": "travel"}}]}
    assert second["include_preference"] is False


@pytest.mark.parametrize("mode", MODES)
def test_user_and_conversation_come_from_the_config(fake: FakeMemOS, mode: str) -> None:
    r = retriever(fake, mode)
    config = {"configurable": {"user_id": "alice", "thread_id": "thread-7"}}
    run(r, mode, "q", config)
    run(r, mode, "q", config, user_id="bob")

    # A conversation_id of None is no value: the thread decides, as everywhere else.
    run(r, mode, "q", {"configurable": {**config["configurable"], "conversation_id": None}})

    assert [(b["user_id"], b["conversation_id"]) for b in fake.bodies] == [
        ("alice", "thread-7"),
        ("bob", "thread-7"),
        ("alice", "thread-7"),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_the_run_it_is_called_within_gives_the_user_and_thread(fake: FakeMemOS, mode: str) -> None:
    """Called inside a step of a run (a chain's lambda, a retriever tool passing only its
    callbacks), the retriever reads that run's configurable, as every runnable does."""
    r = retriever(fake, mode)
    config: Any = {"configurable": {"user_id": "alice", "thread_id": "thread-7"}}
    if mode == "sync":
        step: RunnableLambda[str, Any] = RunnableLambda(lambda q: r.invoke(q, {"callbacks": None}))
        step.invoke("q", config)
    else:

        async def astep(q: str) -> Any:
            return await r.ainvoke(q, {"callbacks": None})

        asyncio.run(RunnableLambda(astep).ainvoke("q", config))
    assert [(b["user_id"], b["conversation_id"]) for b in fake.bodies] == [("alice", "thread-7")]


@pytest.mark.parametrize(
    ("fields", "kwargs", "message"),
    [
        ({}, {}, "needs a user_id"),
        ({"user_id": "u1"}, {"top_k": 3}, "unknown option 'top_k'"),
        ({"user_id": "u1"}, {"k": 26}, "k must be between 1 and 25"),
        ({"user_id": "u1"}, {"k": None}, "k must be between 1 and 25"),
        ({"user_id": "u1"}, {"filter": {}}, "filter must not be empty"),
        ({"user_id": "u1", "relativity": 2.0}, {}, "between 0 and 1"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_mistakes_fail_before_any_request(
    fake: FakeMemOS, mode: str, fields: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(MemOSInputError, match=message):
        run(retriever(fake, mode, **fields), mode, "q", **kwargs)
    assert fake.requests == []


def _fact(id: str, relativity: float) -> dict[str, Any]:
    return {"id": id, "memory_value": f"fact {id}", "relativity": relativity}


def _preference(id: str, relativity: float | None = None) -> dict[str, Any]:
    return {"id": id, "preference": f"preference {id}", "relativity": relativity}


# As the cloud documents them: scored facts, preferences without a relativity.
UNSCORED_PREFERENCES = {
    "memory_detail_list": [_fact("f1", 0.9), _fact("f2", 0.8), _fact("f3", 0.7)],
    "preference_detail_list": [_preference("p1"), _preference("p2")],
}
FACTS_ONLY = {"memory_detail_list": UNSCORED_PREFERENCES["memory_detail_list"]}
# As the embedded engine answers: every item scored.
ALL_SCORED = {
    "memory_detail_list": [_fact("f1", 0.9), _fact("f2", 0.5)],
    "preference_detail_list": [_preference("p1", 0.7), _preference("p2", 0.6)],
}
WITH_TOOLS = {
    **ALL_SCORED,
    "tool_memory_detail_list": [{"id": "t1", "tool_value": "tool", "relativity": 0.8}],
}


def test_a_tool_memory_without_a_value_is_its_experience() -> None:
    tool = {
        "id": "t1",
        "tool_value": None,
        "experience": "Ask for the city first.",
        "relativity": 1,
    }
    fake = FakeMemOS(replies=[envelope({"tool_memory_detail_list": [tool]})])
    r = retriever(fake, user_id="u1", include_tool_memory=True)
    assert [d.page_content for d in r.invoke("weather")] == ["Ask for the city first."]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("data", "fields", "ids"),
    [
        (UNSCORED_PREFERENCES, {}, ["f1", "p1", "f2"]),
        (FACTS_ONLY, {"include_preference": False}, ["f1", "f2", "f3"]),
        (ALL_SCORED, {}, ["f1", "p1", "p2"]),
        (WITH_TOOLS, {"include_tool_memory": True}, ["f1", "t1", "p1"]),
    ],
)
def test_k_is_the_number_of_documents_the_most_relevant_of_every_kind(
    mode: str, data: dict[str, Any], fields: dict[str, Any], ids: list[str]
) -> None:
    fake = FakeMemOS(replies=[envelope(data)])
    docs = run(retriever(fake, mode, user_id="u1", k=3, **fields), mode, "q")

    assert [doc.id for doc in docs] == ids
    body = fake.bodies[0]
    assert body["memory_limit_number"] == 3
    # k of every kind asked for, so that the three most relevant can all be of one kind.
    assert body.get("preference_limit_number") == (3 if body["include_preference"] else None)
    assert body.get("tool_memory_limit_number") == (3 if body["include_tool_memory"] else None)


def test_a_kind_s_own_limit_caps_it_among_the_k() -> None:
    fake = FakeMemOS(replies=[envelope(ALL_SCORED)])
    r = retriever(fake, user_id="u1", k=3, preference_limit_number=1)
    r.invoke("q")
    assert fake.bodies[0]["preference_limit_number"] == 1
    r.invoke("q", k=2, preference_limit_number=2)
    assert fake.bodies[1]["preference_limit_number"] == 2


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"k": 50}, "k must be between 1 and 25; got 50"),
        ({"k": 0}, "k must be between 1 and 25; got 0"),
        ({"k": True}, "k must be an integer"),
        ({"preference_limit_number": 26}, "preference_limit_number must be between 1 and 25"),
        ({"relativity": 1.5}, "relativity must be between 0 and 1"),
    ],
)
def test_a_bad_option_fails_when_the_retriever_is_built(
    fake: FakeMemOS, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(MemOSInputError, match=message) as built:
        retriever(fake, user_id="u1", **fields)
    assert str(built.value).startswith("MemOSRetriever got a bad option: ")
    # Per call, the same mistake gets the same words.
    with pytest.raises(MemOSInputError, match=message):
        retriever(fake, user_id="u1").invoke("q", **fields)
    assert fake.requests == []


def test_search_gives_the_structured_result_with_the_preference_note(fake: FakeMemOS) -> None:
    result = retriever(fake, user_id="u1").search("spicy", k=3)
    assert "preferences" in result.preference_note
    assert fake.bodies[0]["memory_limit_number"] == 3


def test_works_in_an_lcel_chain(fake: FakeMemOS) -> None:
    def join(docs: list[Document]) -> str:
        return "\n".join(f"[{d.metadata['kind']}] {d.page_content}" for d in docs)

    chain = retriever(fake, user_id="u1") | RunnableLambda(join)
    assert chain.invoke("spicy").splitlines()[:2] == [
        "[fact] User likes spicy food.",
        "[preference] User likes spicy food.",
    ]


def test_the_key_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMOS_API_KEY", "mpg-from-the-environment")
    r = MemOSRetriever(user_id="u1")
    assert r.api_key is not None
    assert r.api_key.get_secret_value() == "mpg-from-the-environment"
    assert "mpg-from-the-environment" not in repr(r)
    assert r.lc_secrets == {"api_key": "MEMOS_API_KEY"}
