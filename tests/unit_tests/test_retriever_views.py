"""MemOSRetriever over every memory view: profile fields, events, skills and tool memories as
Documents, the view options as fields and per call, ``k`` across all of them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langchain_memos import AsyncMemOSClient, MemOSClient, MemOSInputError
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.retrievers import MemOSRetriever
from tests.fakes import FakeMemOS, envelope
from tests.integration_tests.doc_views import EVENT, PROFILE_FIELDS
from tests.unit_tests.test_retrievers import MODES, retriever, run

ALL_VIEWS = ["detail_factual", "preference", "profile", "event", "skill", "tool_memory"]
# Every view scored, as the profile and event pages show them (their items are the docs').
VIEWS_DATA = {
    "memory_detail_list": [
        {"id": "f1", "memory_value": "User lives in Hangzhou.", "relativity": 0.9}
    ],
    "preference_detail_list": [{"id": "p1", "preference": "Short answers.", "relativity": 0.5}],
    "tool_memory_detail_list": [{"id": "t1", "tool_value": "get_weather", "relativity": 0.7}],
    "skill_detail_list": [
        {"id": "s1", "skill_value": {"name": "trip-planner"}, "relativity": 0.3},
    ],
    "profile_detail_list": PROFILE_FIELDS,
    "event_detail_list": [EVENT],
}
OCCUPATION, LOCATION = (field["id"] for field in PROFILE_FIELDS)
# By relativity, each view's list kept in MemOS's order (Occupation 0.6782 comes before
# Location 0.6808 in its list).
RANKED = [
    ("f1", "fact"),
    ("t1", "tool"),
    (OCCUPATION, "profile"),
    (LOCATION, "profile"),
    (EVENT["id"], "event"),
    ("p1", "preference"),
    ("s1", "skill"),
]


@pytest.fixture
def fake() -> FakeMemOS:
    return FakeMemOS(replies=[envelope(VIEWS_DATA)])


@pytest.mark.parametrize("mode", MODES)
def test_every_recalled_view_is_a_document_with_its_own_metadata(
    fake: FakeMemOS, mode: str
) -> None:
    docs = run(retriever(fake, mode, user_id="u1", k=7, include_memory_view=ALL_VIEWS), mode, "q")

    assert [(doc.id, doc.metadata["kind"]) for doc in docs] == RANKED
    occupation = docs[2]
    assert occupation.page_content == "Basic Info.Occupation: Product Manager"
    assert occupation.metadata == {
        "kind": "profile",
        "status": "activated",
        "relativity": 0.6782,
        "profile_path": "Basic Info.Occupation",
        "profile_category": "Basic Info",
        "profile_field": "Occupation",
        "template_id": "tpl_bb0948b22fe7",
        "algorithm_updatable": True,
        "memory_type": "ProfileMemory",
        "confidence": 0.99,
    }
    event = docs[4]
    assert event.page_content == EVENT["event_value"]
    assert event.metadata["event_time"] == ["上周二下午", "七月底"]
    assert event.metadata["event_roles"] == ["用户", "李四", "客户"]
    assert event.metadata["event_key"] == "方案评审与交付调整"
    assert event.metadata["conversation_id"] == "conv_event_verify_001"
    assert event.metadata["created_at"] == "2026-07-13T08:02:31.765000+00:00"
    # The views, and k as the budget of them all: none of the per-kind switches and limits.
    assert fake.bodies == [
        {"query": "q", "user_id": "u1", "memory_limit_number": 7, "include_memory_view": ALL_VIEWS}
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k", [1, 3, 5])
def test_k_is_the_number_of_documents_of_every_view(fake: FakeMemOS, mode: str, k: int) -> None:
    r = retriever(fake, mode, user_id="u1", include_memory_view=ALL_VIEWS)
    docs = run(r, mode, "q", k=k)
    assert [(doc.id, doc.metadata["kind"]) for doc in docs] == RANKED[:k]
    assert fake.bodies[0]["memory_limit_number"] == k


@pytest.mark.parametrize("mode", MODES)
def test_views_per_call_override_the_default_kinds(fake: FakeMemOS, mode: str) -> None:
    r = retriever(fake, mode, user_id="u1", k=4)
    docs = run(r, mode, "q", include_memory_view=["profile", "event"])
    run(r, mode, "q")

    with_views, default = fake.bodies
    assert with_views == {
        "query": "q",
        "user_id": "u1",
        "memory_limit_number": 4,
        "include_memory_view": ["profile", "event"],
    }
    assert default["include_preference"] is True  # the retriever's own default again
    assert "include_memory_view" not in default
    assert len(docs) == 4


@pytest.mark.parametrize(
    ("fields", "kwargs", "message"),
    [
        ({"include_memory_view": ["profile"]}, {"include_preference": False}, "replaces"),
        ({"preference_limit_number": 3}, {"include_memory_view": ["event"]}, "replaces"),
        ({}, {"include_memory_view": ["events"]}, "unknown memory views \\['events'\\]"),
        ({}, {"include_memory_view": []}, "include_memory_view"),
        ({}, {"include_memory_view": ["event", "event"]}, "names a view twice"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_a_view_mistake_in_a_call_fails_before_any_request(
    fake: FakeMemOS, mode: str, fields: dict[str, Any], kwargs: dict[str, Any], message: str
) -> None:
    r = retriever(fake, mode, user_id="u1", **fields)
    with pytest.raises(MemOSInputError, match=message):
        run(r, mode, "q", **kwargs)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"include_memory_view": ["profiles"]}, "unknown memory views \\['profiles'\\]"),
        (
            {"include_memory_view": ["profile"], "include_skill": True},
            "include_memory_view replaces include_skill",
        ),
    ],
)
def test_a_view_mistake_on_the_retriever_fails_when_it_is_built(
    fake: FakeMemOS, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(MemOSInputError, match=message) as built:
        retriever(fake, user_id="u1", **fields)
    assert str(built.value).startswith("MemOSRetriever got a bad option: ")


# ---- on the embedded engine ------------------------------------------------------------------


@pytest.fixture
def engine_clients() -> tuple[MemOSClient, AsyncMemOSClient]:
    engine = EmbeddedEngine()
    client = MemOSClient(embedded=engine)
    client.bind_profile_template([{"user_id": "u1", "profile_template_id": "tpl_family"}])
    client.edit_profile(
        "tpl_family",
        user_id="u1",
        metadata={"Family": {"Daughter": {"value": "Mia, 7", "algorithm_updatable": False}}},
    )
    client.add_message(
        [
            {"role": "user", "content": "Last Tuesday I went hiking with my daughter Mia."},
            {"role": "user", "content": "I prefer short answers with a packing list."},
        ],
        user_id="u1",
        conversation_id="weekend",
    )
    return client, AsyncMemOSClient(embedded=engine)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_engine_s_profile_and_events_come_back_as_documents(
    engine_clients: tuple[MemOSClient, AsyncMemOSClient], mode: str
) -> None:
    client, async_client = engine_clients
    r = MemOSRetriever(
        client=client,
        async_client=async_client,
        user_id="u1",
        include_memory_view=["detail_factual", "preference", "profile", "event"],
    )
    query = "a hike with my daughter"
    docs = r.invoke(query) if mode == "sync" else asyncio.run(r.ainvoke(query))

    by_kind = {doc.metadata["kind"]: doc for doc in reversed(docs)}
    assert by_kind["profile"].page_content == "Family.Daughter: Mia, 7"
    assert by_kind["profile"].metadata["algorithm_updatable"] is False
    assert by_kind["event"].page_content == "Last Tuesday I went hiking with my daughter Mia."
    assert by_kind["event"].metadata["event_time"] == ["Last Tuesday"]
    assert "fact" in by_kind
