"""MemOSRetriever end to end, against recorded MemOS answers.

``test_retriever_sync`` and ``test_retriever_async`` replay ``cassettes/retriever.yaml``, so the
sync and the async path must send the very same ``search/memory`` requests. The assertions hold
for a recording made against the MemOS cloud as well as for one made against the doc server:
they compare the Documents with the ``search/memory`` answer they came from (seen on the wire
through the ``traffic`` fixture), not with the documented example texts.

``TestMemOSRetrieverStandard`` runs langchain-tests' standard ``RetrieversIntegrationTests``
with facts only, each test replaying its own cassette,
``cassettes/TestMemOSRetrieverStandard.<test>.yaml``; ``TestMemOSRetrieverStandardDefaults``
runs them with the retriever's defaults (preferences included).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos.filters import all_of, created, tag
from langchain_memos.retrievers import MemOSRetriever
from langchain_memos.types import SERVICE_TIMEZONE, MessageInput, parse_timestamp

from .conftest import RECORD_TIMEOUT, Exchange, Target

USER = "langchain-memos-cassettes-retriever"
QUERY = "国庆去哪玩"
# The search page's filter example: memories tagged 学习计划 and created after 2025-11-09.
PROFILE_QUERY = "我的人物关键词是什么？"
STUDY_TAG = "学习计划"
STUDY_SINCE = "2025-11-09"
STUDY_FILTER = all_of(tag(STUDY_TAG), created(gt=STUDY_SINCE))
THREAD = "0928"  # the conversation of the quick start's search example


# ---- memories to recall, when recording against the cloud ---------------------------------------

# What the cloud is told before the retriever cassettes are recorded, so that USER has memories
# (3 at least: the standard tests ask for k=3), a preference and a memory tagged 学习计划. The
# doc server answers every user with the documented memories, so it is not told anything.
SEED: list[tuple[str, list[str], list[MessageInput]]] = [
    (
        "0610",
        [],
        [
            {"role": "user", "content": "我想暑假出去玩,你能帮我推荐下吗?"},
            {"role": "assistant", "content": "好的!是自己出行还是和家人朋友一起呢?"},
            {"role": "user", "content": "对,带上孩子和老人,一般都是全家行动。"},
            {"role": "assistant", "content": "收到,那我会帮你推荐适合家庭出游的目的地。"},
        ],
    ),
    (
        "memos_conversation_123",
        [],
        [
            {"role": "user", "content": "我喜欢吃辣的食物，但不太喜欢重油的菜，比如麻辣火锅。"},
            {"role": "assistant", "content": "明白了，你喜欢清爽又带辣味的菜。"},
        ],
    ),
    (
        "memos_conversation_456",
        [STUDY_TAG],
        [
            {
                "role": "user",
                "content": "我希望你帮我规划日常学习计划、推荐电影和书籍，也陪我聊聊心情。",
            },
            {"role": "assistant", "content": "没问题，我们先从每天的学习计划开始。"},
        ],
    ),
]


@pytest.fixture(scope="module", autouse=True)
def _memories_to_recall(memos_target: Target) -> Iterator[None]:
    """Against the cloud only: give USER memories, and delete them all after the module.

    This runs outside every cassette (it is module-scoped), so none of it is recorded.
    """
    if memos_target.name != "cloud":
        yield
        return
    with MemOSClient(
        api_key=memos_target.api_key,
        base_url=memos_target.base_url,
        max_retries=0,
        timeout=RECORD_TIMEOUT,
    ) as client:
        for conversation_id, tags, messages in SEED:
            client.add_message(
                messages,
                user_id=USER,
                conversation_id=conversation_id,
                tags=tags or None,
                async_mode=False,
            )
        yield
        client.delete_memory(user_id=USER)


# ---- what a user relies on ----------------------------------------------------------------------


def _search(exchange: Exchange) -> dict[str, Any]:
    """The data of a search/memory answer."""
    assert exchange.endpoint == "/search/memory"
    assert isinstance(exchange.answer, dict)
    assert exchange.answer.get("code") in (0, 200), exchange.answer
    data: dict[str, Any] = exchange.answer["data"]
    return data


def check_documents(docs: list[Document], exchange: Exchange, *, k: int) -> list[Document]:
    """Documents for one search: k of them, each kind in the order answered, kinds in turn.

    Returns the facts.
    """
    assert exchange.body["memory_limit_number"] == k
    if exchange.body["include_preference"]:
        # k of each kind are asked for, so that the k most relevant can all be of one kind.
        assert exchange.body["preference_limit_number"] == k
    answered = _search(exchange)
    facts = answered.get("memory_detail_list") or []
    preferences = answered.get("preference_detail_list") or []
    assert all(isinstance(doc, Document) for doc in docs)
    assert len(facts) == k  # relativity=0: no threshold cuts the recall below k
    assert len(docs) == k  # k counts every Document, whatever its kind
    # The answered preferences carry no relativity to compare with the facts': the kinds take
    # turns, each in the order MemOS ranked it (no tool memories or skills were asked for).
    assert all(item.get("relativity") is None for item in preferences)
    turns = [item for pair in zip(facts, preferences, strict=False) for item in pair]
    expected = [*turns, *facts[len(turns) // 2 :], *preferences[len(turns) // 2 :]][:k]
    assert [doc.id for doc in docs] == [item["id"] for item in expected]
    assert [doc.metadata["kind"] for doc in docs] == [
        "fact" if "memory_value" in item else "preference" for item in expected
    ]
    for doc in docs:
        assert isinstance(doc.id, str)
        assert doc.id
        assert isinstance(doc.page_content, str)
        assert doc.page_content
    by_id = {item["id"]: item for item in facts}
    fact_docs = _facts(docs)
    for doc in fact_docs:
        assert doc.page_content == by_id[doc.id]["memory_value"]
        assert doc.metadata["tags"] == by_id[doc.id].get("tags", [])
    return fact_docs


def check_scoped_request(exchange: Exchange) -> None:
    """The config's user_id and thread_id went out as user_id and conversation_id."""
    assert exchange.body["user_id"] == USER
    assert exchange.body["conversation_id"] == THREAD


def check_filtered(facts: list[Document], exchange: Exchange) -> None:
    """The filter went out as built, and every fact recalled meets it."""
    assert exchange.body["filter"] == {
        "and": [{"tags": {"contains": STUDY_TAG}}, {"create_time": {"gt": STUDY_SINCE}}]
    }
    since = datetime.fromisoformat(STUDY_SINCE).replace(tzinfo=SERVICE_TIMEZONE)
    for fact in facts:
        assert STUDY_TAG in fact.metadata["tags"]
        created_at = parse_timestamp(fact.metadata["created_at"])
        assert created_at is not None
        assert created_at > since


def _facts(docs: list[Document]) -> list[Document]:
    return [doc for doc in docs if doc.metadata["kind"] == "fact"]


# ---- the tests ----------------------------------------------------------------------------------

RETRIEVER_FIELDS: dict[str, Any] = {"user_id": USER, "k": 3, "relativity": 0}


@pytest.mark.vcr
@pytest.mark.default_cassette("retriever")
def test_retriever_sync(sync_client: MemOSClient, traffic: list[Exchange]) -> None:
    retriever = MemOSRetriever(client=sync_client, **RETRIEVER_FIELDS)

    # The fields: k=3 Documents, facts and preferences in turn.
    docs = retriever.invoke(QUERY)
    check_documents(docs, traffic[-1], k=3)
    assert any(doc.metadata["kind"] == "preference" for doc in docs)

    # Per call: k=1 and no preferences is exactly one fact.
    docs = retriever.invoke(QUERY, k=1, include_preference=False)
    check_documents(docs, traffic[-1], k=1)
    assert traffic[-1].body["include_preference"] is False

    # Per call: a filter built with the helpers.
    docs = retriever.invoke(PROFILE_QUERY, k=1, filter=STUDY_FILTER, include_preference=False)
    check_filtered(check_documents(docs, traffic[-1], k=1), traffic[-1])

    # The user and the conversation from the run's config, for a retriever without a user_id.
    shared = MemOSRetriever(client=sync_client, k=2, relativity=0)
    config: Any = {"configurable": {"user_id": USER, "thread_id": THREAD}}
    docs = shared.invoke(QUERY, config=config)
    check_scoped_request(traffic[-1])
    check_documents(docs, traffic[-1], k=2)
    assert len(traffic) == 4


@pytest.mark.vcr
@pytest.mark.default_cassette("retriever")
async def test_retriever_async(async_client: AsyncMemOSClient, traffic: list[Exchange]) -> None:
    retriever = MemOSRetriever(async_client=async_client, **RETRIEVER_FIELDS)

    docs = await retriever.ainvoke(QUERY)
    check_documents(docs, traffic[-1], k=3)
    assert any(doc.metadata["kind"] == "preference" for doc in docs)

    docs = await retriever.ainvoke(QUERY, k=1, include_preference=False)
    check_documents(docs, traffic[-1], k=1)
    assert traffic[-1].body["include_preference"] is False

    docs = await retriever.ainvoke(
        PROFILE_QUERY, k=1, filter=STUDY_FILTER, include_preference=False
    )
    check_filtered(check_documents(docs, traffic[-1], k=1), traffic[-1])

    shared = MemOSRetriever(async_client=async_client, k=2, relativity=0)
    config: Any = {"configurable": {"user_id": USER, "thread_id": THREAD}}
    docs = await shared.ainvoke(QUERY, config=config)
    check_scoped_request(traffic[-1])
    check_documents(docs, traffic[-1], k=2)
    assert len(traffic) == 4


# ---- langchain-tests' standard retriever tests --------------------------------------------------


@pytest.mark.vcr
class TestMemOSRetrieverStandard(RetrieversIntegrationTests):
    """The standard suite, from cassettes.

    The standard tests build their retrievers from ``retriever_constructor_params``, a property,
    and not from pytest fixtures; the autouse fixture below hands the property the clients of
    this test (pytest runs it on the same instance as the test). Each test replays its own
    cassette, named by pytest-recording after the class and the test, and fails on any request
    that the cassette does not hold. ``test_no_overrides_DO_NOT_OVERRIDE`` sends nothing, so it
    has no cassette.
    """

    clients: tuple[MemOSClient, AsyncMemOSClient]

    @pytest.fixture(autouse=True)
    def _clients(self, sync_client: MemOSClient, async_client: AsyncMemOSClient) -> None:
        self.clients = (sync_client, async_client)

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return MemOSRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        client, async_client = self.clients
        return {
            "client": client,  # invoke
            "async_client": async_client,  # ainvoke
            "user_id": USER,
            # Facts only here; TestMemOSRetrieverStandardDefaults runs with preferences.
            "include_preference": False,
            # No relevance threshold (the default is 0.45), so that a recall is not cut below k.
            "relativity": 0,
        }

    @property
    def retriever_query_example(self) -> str:
        return QUERY


@pytest.mark.vcr
class TestMemOSRetrieverStandardDefaults(TestMemOSRetrieverStandard):
    """The standard suite again, from cassettes, with the retriever's defaults.

    Preferences are included and no relativity is sent (the service's threshold applies; a
    recording against the cloud needs three seeded memories above it). The documented
    preferences carry no relativity, so these runs take the retriever's path where the kinds
    take turns: k counts facts and preferences together.
    """

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        client, async_client = self.clients
        return {"client": client, "async_client": async_client, "user_id": USER}
