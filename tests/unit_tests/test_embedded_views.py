"""The embedded engine's newer MemOS API, on the wire: agents' own memories, lists of owners,
conversation-less adds, deletes by filter, memory views, events and skills.

Profiles are in ``test_embedded_profiles.py``.
"""

from __future__ import annotations

import base64
from typing import Any, get_args

import pytest

from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.types import MemoryView, SearchMemoryResult

from .test_embedded_writes import ok, wire
from .test_engine_isolation_fuzz import SameVector

SAID = [{"role": "user", "content": "I prefer aisle seats on flights to Lisbon."}]


def facts(data: dict[str, Any]) -> list[str]:
    return [m["memory_value"] for m in data["memory_detail_list"]]


def add(engine: EmbeddedEngine, texts: list[str], **scope: Any) -> Any:
    messages = [{"role": "user", "content": text} for text in texts]
    return ok(engine, "/add/message", {"messages": messages, "conversation_id": "c", **scope})


@pytest.fixture
def engine() -> EmbeddedEngine:
    return EmbeddedEngine()


def test_an_agents_own_memories_are_found_by_the_agent_alone(engine: EmbeddedEngine) -> None:
    add(engine, ["The agent books trains through Trainline."], agent_id="planner")
    add(engine, ["I book trains through the SNCF app."], user_id="u1", agent_id="planner")
    by_agent = ok(engine, "/search/memory", {"agent_id": "planner", "query": "book trains"})
    assert [m.split("] ", 1)[-1] for m in facts(by_agent)] == [
        "The agent books trains through Trainline."
    ]
    by_user = ok(engine, "/search/memory", {"user_id": "u1", "query": "book trains"})
    assert all("SNCF" in m for m in facts(by_user))
    assert facts(by_user)
    listed = ok(engine, "/get/memory", {"agent_id": "planner"})
    assert len(listed["memory_detail_list"]) == 1
    ok(engine, "/delete/memory", {"agent_id": "planner"})
    assert ok(engine, "/get/memory", {"agent_id": "planner"})["memory_detail_list"] == []


def test_a_read_names_exactly_one_of_user_and_agent(engine: EmbeddedEngine) -> None:
    body = {"user_id": "u1", "agent_id": "a1", "query": "x"}
    status, answer = wire(engine, "/search/memory", body)
    assert (status, answer["data"]) == (400, None)
    assert "exactly one of user_id, agent_id" in answer["message"]


def test_a_message_for_a_list_of_users_is_each_users(engine: EmbeddedEngine) -> None:
    add(engine, ["Our team retro is on Friday."], user_id=["u1", "u2"], agent_id=["a1"])
    for user in ("u1", "u2"):
        found = ok(engine, "/search/memory", {"user_id": user, "query": "team retro"})
        assert len(facts(found)) == 1
    filtered = {"user_id": "u2", "filter": {"and": [{"agent_id": "a1"}]}}
    assert len(ok(engine, "/get/memory", filtered)["memory_detail_list"]) == 1


def test_a_message_without_a_conversation_gets_one_and_is_kept(engine: EmbeddedEngine) -> None:
    ok(engine, "/add/message", {"user_id": "u1", "messages": SAID})
    history = ok(engine, "/get/message", {"user_id": "u1"})["message_detail_list"]
    assert [m["content"] for m in history] == [SAID[0]["content"]]
    assert history[0]["conversation_id"].startswith("generated-")


def test_get_message_without_a_conversation_reads_the_latest_ones(engine: EmbeddedEngine) -> None:
    for conversation in ("c1", "c2", "c3"):
        body = {"role": "user", "content": f"hello from {conversation}"}
        ok(
            engine,
            "/add/message",
            {"user_id": "u1", "conversation_id": conversation, "messages": [body]},
        )
    latest = ok(engine, "/get/message", {"user_id": "u1", "conversation_limit_number": 2})
    assert [m["conversation_id"] for m in latest["message_detail_list"]] == ["c2", "c3"]


def test_delete_by_filter_deletes_what_it_selects_of_one_type(engine: EmbeddedEngine) -> None:
    add(engine, ["I prefer tea over coffee."], user_id="u1", app_id="travel")
    add(engine, ["I prefer trains over planes."], user_id="u2", app_id="travel")
    add(engine, ["I prefer cats over dogs."], user_id="u1", app_id="pets")
    travel = {"and": [{"app_id": "travel"}]}
    ok(engine, "/delete/memory", {"filter": travel, "memory_type": "PreferenceMemory"})
    u1 = ok(engine, "/get/memory", {"user_id": "u1"})
    assert len(u1["memory_detail_list"]) == 2  # facts of a narrowed delete stay
    kept = [p["preference"] for p in u1["preference_detail_list"]]
    assert kept == ["The user prefers cats over dogs."]
    ok(engine, "/delete/memory", {"filter": travel})
    assert ok(engine, "/get/memory", {"user_id": "u2"})["memory_detail_list"] == []
    assert len(ok(engine, "/get/memory", {"user_id": "u1"})["memory_detail_list"]) == 1


def test_a_delete_by_a_source_filter_deletes_only_the_sources_it_names(
    engine: EmbeddedEngine,
) -> None:
    """A search's source-specific filter leaves the sources it does not name unfiltered; a
    delete by one must not take that as every memory of those sources (every user's)."""
    add(engine, ["I like green tea very much."], user_id="alice", tags=["drinks"])
    add(engine, ["I play the violin every evening."], user_id="bob", tags=["music"])
    add(engine, ["Espresso is my favourite drink."], user_id="bob", tags=["drinks"])
    add(engine, ["Espresso tastes bitter."], user_id="bob", tags=["drinks"], allow_public=True)
    public_drinks = {"public": {"and": [{"tags": {"contains": "drinks"}}]}}
    ok(engine, "/delete/memory", {"filter": public_drinks})

    def kept(user: str) -> list[str]:
        listed = ok(engine, "/get/memory", {"user_id": user})["memory_detail_list"]
        return sorted(m["memory_value"].split("] ", 1)[-1] for m in listed)

    assert kept("alice") == ["I like green tea very much."]
    assert kept("bob") == ["Espresso is my favourite drink.", "I play the violin every evening."]
    ok(engine, "/delete/memory", {"filter": {"user": {"and": [{"tags": {"contains": "music"}}]}}})
    assert kept("bob") == ["Espresso is my favourite drink."]
    assert kept("alice") == ["I like green tea very much."]


def test_allow_memory_view_makes_only_the_views_it_names(engine: EmbeddedEngine) -> None:
    add(engine, ["I prefer tea over coffee."], user_id="u1", allow_memory_view=["preference"])
    listed = ok(engine, "/get/memory", {"user_id": "u1"})
    assert listed["memory_detail_list"] == []
    assert len(listed["preference_detail_list"]) == 1
    status, answer = wire(
        engine,
        "/add/message",
        {"user_id": "u1", "conversation_id": "c", "messages": SAID, "allow_memory_view": ["x"]},
    )
    assert status == 400
    assert "unknown memory view 'x'" in answer["message"]


@pytest.mark.parametrize("view", get_args(MemoryView))
def test_every_view_the_client_names_is_one_the_engine_answers(
    engine: EmbeddedEngine, view: str
) -> None:
    # The engine keeps its own table of views (kind, answer key) beside the client's literal:
    # a view added to one and not the other fails here, not in a user's search.
    body = {"user_id": "u1", "query": "anything", "include_memory_view": [view]}
    answer = ok(engine, "/search/memory", body)  # a view the engine does not know is a 400
    lists = {key for key, value in answer.items() if isinstance(value, list)}
    assert lists <= set(SearchMemoryResult.model_fields), lists - set(
        SearchMemoryResult.model_fields
    )


def test_include_memory_view_answers_with_those_views_only(engine: EmbeddedEngine) -> None:
    add(engine, ["I prefer aisle seats. Last Tuesday I flew to Lisbon."], user_id="u1")
    found = ok(
        engine,
        "/search/memory",
        {"user_id": "u1", "query": "Lisbon aisle", "include_memory_view": ["event"]},
    )
    assert found["memory_detail_list"] == []
    assert found["preference_detail_list"] == []
    assert [e["event_time"] for e in found["event_detail_list"]] == [["Last Tuesday"]]
    body = {"user_id": "u1", "query": "Lisbon", "context_format": "json"}
    status, answer = wire(engine, "/search/memory", body)
    assert status == 400
    assert "context_format 'json'" in answer["message"]


def test_a_dated_turn_becomes_an_event_and_an_undated_one_does_not(
    engine: EmbeddedEngine,
) -> None:
    messages = [
        {
            "role": "user",
            "content": "I met Ana at the Lisbon office last week.",
            "chat_time": "2026-03-12 10:00:00",
        },
        {"role": "user", "content": "Ana runs the Lisbon office."},
    ]
    ok(engine, "/add/message", {"user_id": "u1", "conversation_id": "c", "messages": messages})
    events = ok(engine, "/get/memory", {"user_id": "u1", "include_memory_view": ["event"]})
    (event,) = events["event_detail_list"]
    assert event["event_value"] == messages[0]["content"]
    assert event["event_time"] == ["2026-03-12 10:00", "last week"]
    assert event["event_type"] == "EventMemory"
    only = {"user_id": "u1", "memory_type": "EventMemory"}
    ok(engine, "/delete/memory", only)
    after = ok(engine, "/get/memory", {"user_id": "u1", "include_memory_view": ["event"]})
    assert after["event_detail_list"] == []


SKILL = """---
name: refund-request
description: How to file a refund request for a cancelled flight
---
1. Open the booking and choose "cancelled flight".
"""


def upload(engine: EmbeddedEngine, kb: str, name: str, text: str) -> Any:
    content = base64.b64encode(text.encode()).decode()
    file = {"name": name, "type": "skill", "content": content}
    return wire(engine, "/add/knowledgebase-file", {"knowledgebase_id": kb, "file": [file]})


def test_a_skill_file_becomes_a_skill_recalled_with_include_skill(engine: EmbeddedEngine) -> None:
    kb = ok(engine, "/create/knowledgebase", {"knowledgebase_name": "manuals"})["id"]
    status, answer = upload(engine, kb, "refund.md", SKILL)
    assert status == 200, answer
    asked = {"user_id": "u1", "query": "refund cancelled flight", "knowledgebase_ids": [kb]}
    assert ok(engine, "/search/memory", asked)["skill_detail_list"] == []
    (skill,) = ok(engine, "/search/memory", {**asked, "include_skill": True})["skill_detail_list"]
    assert skill["skill_value"]["name"] == "refund-request"
    assert skill["skill_value"]["procedure"].startswith("1. Open the booking")
    assert ok(engine, "/search/memory", asked)["memory_detail_list"] == []  # not a fact
    ok(engine, "/delete/knowledgebase-file", {"file_ids": [answer["data"][0]["id"]]})
    assert ok(engine, "/search/memory", {**asked, "include_skill": True})["skill_detail_list"] == []


def test_a_skill_file_without_a_name_and_description_is_refused(engine: EmbeddedEngine) -> None:
    kb = ok(engine, "/create/knowledgebase", {"knowledgebase_name": "manuals"})["id"]
    status, answer = upload(engine, kb, "notes.md", "just some notes")
    assert status == 400
    assert "front matter" in answer["message"]
    listed = ok(engine, "/get/knowledgebase-file", {"knowledgebase_id": kb})
    assert listed["file_detail_list"] == []


def test_extraction_by_a_named_model_needs_the_cloud(engine: EmbeddedEngine) -> None:
    body = {"messages": SAID, "model": "memos-extractor"}
    status, answer = wire(engine, "/extract/memory", body)
    assert (status, answer["data"]) == (400, None)
    assert "MemOS-hosted model" in answer["message"]


def test_updating_an_event_changes_its_own_text(engine: EmbeddedEngine) -> None:
    add(engine, ["Last Tuesday I met Ana in Lisbon."], user_id="u1")
    listed = ok(engine, "/get/memory", {"user_id": "u1", "include_memory_view": ["event"]})
    event_id = listed["event_detail_list"][0]["id"]
    change = {"memory_id": event_id, "content": "Last Tuesday I met Ana in Porto.", "title": "Ana"}
    ok(engine, "/update/memory", change)
    found = ok(
        engine,
        "/search/memory",
        {"user_id": "u1", "query": "Ana Porto", "include_memory_view": ["event"]},
    )
    (event,) = found["event_detail_list"]
    assert (event["event_key"], event["event_value"]) == ("Ana", change["content"])
    assert "preference" not in event


def test_a_skills_text_is_not_updated_in_place(engine: EmbeddedEngine) -> None:
    kb = ok(engine, "/create/knowledgebase", {"knowledgebase_name": "manuals"})["id"]
    upload(engine, kb, "refund.md", SKILL)
    asked = {"user_id": "u1", "query": "refund", "knowledgebase_ids": [kb], "include_skill": True}
    (skill,) = ok(engine, "/search/memory", asked)["skill_detail_list"]
    status, answer = wire(engine, "/update/memory", {"memory_id": skill["id"], "content": "x"})
    assert status == 400
    assert "uploading its file again" in answer["message"]


@pytest.mark.parametrize("vectors", [False, True])
def test_an_agent_and_a_user_of_the_same_name_share_nothing(vectors: bool) -> None:
    # With one vector for every text, only the scoping keeps a search to its owner.
    engine = EmbeddedEngine(embeddings=SameVector() if vectors else None)
    add(engine, ["The agent books trains through Trainline."], agent_id="sam")
    add(engine, ["I book trains through the SNCF app."], user_id="sam")
    for scope, word in (({"agent_id": "sam"}, "Trainline"), ({"user_id": "sam"}, "SNCF")):
        found = facts(ok(engine, "/search/memory", {**scope, "query": "book trains"}))
        listed = facts(ok(engine, "/get/memory", scope))
        assert len(found) == 1
        assert word in found[0]
        assert found == listed
    ok(engine, "/add/message", {"agent_id": "sam", "conversation_id": "c", "messages": SAID})
    history = ok(engine, "/get/message", {"user_id": "sam", "conversation_id": "c"})
    assert [m["content"] for m in history["message_detail_list"]] == [
        "I book trains through the SNCF app."
    ]
