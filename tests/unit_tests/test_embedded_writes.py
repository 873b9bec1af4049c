"""What the embedded engine's data-changing endpoints do with every field they are sent.

A write does what it was asked or nothing: a field the engine does not implement is refused
with the documented envelope before anything changes, never ignored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_memos.embedded import EmbeddedEngine

USER = "u1"
TURNS = [
    {"role": "user", "content": "I prefer window seats on long flights."},
    {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "book_seat", "arguments": '{"seat": "12A"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "seat 12A booked"},
]


def wire(engine: EmbeddedEngine, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, content = engine.handle("POST", "/api/openmem/v1" + path, json.dumps(body).encode())
    return status, json.loads(content)


def ok(engine: EmbeddedEngine, path: str, body: dict[str, Any]) -> Any:
    status, answer = wire(engine, path, body)
    assert (status, answer["code"]) == (200, 0), answer
    return answer["data"]


def stored(engine: EmbeddedEngine, user: str = USER) -> dict[str, list[str]]:
    """The user's memories by type, as get/memory lists them."""
    data = ok(engine, "/get/memory", {"user_id": user, "size": 50})
    return {
        "facts": [m["memory_type"] for m in data["memory_detail_list"]],
        "preferences": [m["preference_type"] for m in data["preference_detail_list"]],
        "tools": [m["tool_type"] for m in data["tool_memory_detail_list"]],
    }


@pytest.fixture
def engine() -> EmbeddedEngine:
    engine = EmbeddedEngine()
    ok(
        engine,
        "/add/message",
        {"user_id": USER, "conversation_id": "c1", "agent_id": "a1", "messages": TURNS},
    )
    return engine


EVERYTHING = {
    "facts": ["WorkingMemory"],
    "preferences": ["explicit_preference"],
    "tools": ["ToolTrajectoryMemory"],
}


def test_deleting_by_memory_type_deletes_that_type_only(engine: EmbeddedEngine) -> None:
    assert stored(engine) == EVERYTHING
    # Fast-mode facts are WorkingMemory: a user without long-term memories keeps everything.
    ok(engine, "/delete/memory", {"user_id": USER, "memory_type": "LongTermMemory"})
    assert stored(engine) == EVERYTHING
    ok(engine, "/delete/memory", {"user_id": USER, "memory_type": "PreferenceMemory"})
    assert stored(engine) == {**EVERYTHING, "preferences": []}
    ok(engine, "/delete/memory", {"agent_id": "a1", "memory_type": "ToolTrajectoryMemory"})
    assert stored(engine) == {"facts": ["WorkingMemory"], "preferences": [], "tools": []}
    ok(engine, "/delete/memory", {"user_id": USER, "memory_type": "WorkingMemory"})
    assert stored(engine) == {"facts": [], "preferences": [], "tools": []}


def test_deleting_ids_by_memory_type_spares_the_other_ids(engine: EmbeddedEngine) -> None:
    data = ok(engine, "/get/memory", {"user_id": USER})
    ids = [m["id"] for key in ("memory_detail_list", "preference_detail_list") for m in data[key]]
    ok(engine, "/delete/memory", {"memory_ids": ids, "memory_type": "PreferenceMemory"})
    assert stored(engine) == {**EVERYTHING, "preferences": []}


@pytest.mark.parametrize(
    ("path", "extra", "named"),
    [
        ("/delete/memory", {"memory_type": "Everything"}, "memory_type must be one of"),
        ("/delete/memory", {"memory_type": ["PreferenceMemory"]}, "memory_type must be one of"),
        ("/delete/memory", {"conversation_id": "c1"}, "conversation_id"),
        ("/delete/memory", {"knowledgebase_id": "kb"}, "knowledgebase_id"),
        ("/add/message", {"allow_knowledgebase_ids": ["kb"]}, "allow_knowledgebase_ids"),
        ("/add/message", {"allow_memory_view": ["v"]}, "allow_memory_view"),
        ("/add/feedback", {"allow_knowledgebase_ids": ["kb"]}, "allow_knowledgebase_ids"),
        ("/add/feedback", {"info": {"scene": "x"}}, "info"),
    ],
)
def test_a_field_the_engine_does_not_implement_is_refused_before_any_change(
    engine: EmbeddedEngine, path: str, extra: dict[str, Any], named: str
) -> None:
    bases: dict[str, dict[str, Any]] = {
        "/delete/memory": {"user_id": USER},
        "/add/message": {"user_id": USER, "conversation_id": "c2", "messages": TURNS[:1]},
        "/add/feedback": {"user_id": USER, "feedback_content": "I prefer aisle seats now."},
    }
    status, answer = wire(engine, path, {**bases[path], **extra})
    assert (status, answer["code"], answer["data"]) == (400, 40000, None)
    assert named in answer["message"]
    assert stored(engine) == EVERYTHING
    history = ok(engine, "/get/message", {"user_id": USER, "conversation_id": "c2"})
    assert history["message_detail_list"] == []


def test_a_refused_update_changes_nothing(engine: EmbeddedEngine) -> None:
    (fact,) = ok(engine, "/get/memory", {"user_id": USER})["memory_detail_list"]
    body = {"memory_id": fact["id"], "content": "I prefer aisle seats.", "tags": ["seats"]}
    status, answer = wire(engine, "/update/memory", body)
    assert (status, answer["code"]) == (400, 40000)
    assert "tags" in answer["message"]
    (same,) = ok(engine, "/get/memory", {"user_id": USER})["memory_detail_list"]
    assert same["memory_value"] == fact["memory_value"]


def test_nulls_empty_lists_and_source_ask_for_nothing_and_pass(engine: EmbeddedEngine) -> None:
    body = {
        "user_id": USER,
        "conversation_id": "c2",
        "messages": TURNS[:1],
        "allow_knowledgebase_ids": [],
        "allow_memory_view": None,
        "source": "MODELSCOPE",
    }
    assert ok(engine, "/add/message", body)["success"] is True
    assert ok(engine, "/delete/memory", {"user_id": USER, "filter": None})["success"] is True


@pytest.mark.parametrize("owner", ["user_id", "agent_id"])
def test_deleting_a_user_or_agent_without_memories_succeeds_alike(
    engine: EmbeddedEngine, owner: str
) -> None:
    assert ok(engine, "/delete/memory", {owner: "nobody"}) == {"success": True}
    assert stored(engine) == EVERYTHING
    ok(engine, "/delete/memory", {owner: {"user_id": USER, "agent_id": "a1"}[owner]})
    assert ok(engine, "/delete/memory", {owner: USER}) == {"success": True}


def test_deleting_ids_of_which_none_exists_is_not_found(engine: EmbeddedEngine) -> None:
    status, answer = wire(engine, "/delete/memory", {"memory_ids": ["no-such-memory"]})
    assert (status, answer["code"]) == (404, 40307)


def test_naive_times_are_read_in_the_services_timezone_on_every_path() -> None:
    """chat_time, feedback_time and filter bounds: naive means UTC+8, aware means itself."""
    engine = EmbeddedEngine()
    said = {"role": "user", "content": "I like jazz.", "chat_time": "2025-01-01 08:00:00"}
    ok(engine, "/add/message", {"user_id": USER, "conversation_id": "c", "messages": [said]})
    ok(
        engine,
        "/add/feedback",
        {"user_id": USER, "feedback_content": "I like blues.", "feedback_time": "2025-01-02"},
    )
    listed = ok(engine, "/get/memory", {"user_id": USER})["memory_detail_list"]
    # 2025-01-01 00:00 UTC, and 2025-01-01 16:00 UTC (midnight of the 2nd in UTC+8).
    assert sorted(m["create_time"] for m in listed) == [1735689600000, 1735747200000]

    def created(**bounds: str) -> int:
        query = {"and": [{"create_time": bounds}]}
        return int(ok(engine, "/get/memory", {"user_id": USER, "filter": query})["total"])

    assert created(gte="2025-01-01 08:00:00") == 2
    assert created(gt="2025-01-01 08:00:00") == 1
    assert created(gt="2025-01-01T00:00:00+00:00") == 1
    assert created(lt="2025-01-02") == 1
    assert created(lt="2025-01-01T16:00:00Z") == 1


@pytest.mark.parametrize("flag", ["false", "true", 0, 1])
def test_a_flag_sent_as_a_string_or_number_is_refused(engine: EmbeddedEngine, flag: object) -> None:
    # "false" was read as true: the write was processed asynchronously.
    body = {"user_id": USER, "conversation_id": "c2", "messages": TURNS[:1], "async_mode": flag}
    status, answer = wire(engine, "/add/message", body)
    assert (status, answer["code"]) == (400, 40000)
    assert "async_mode" in answer["message"]
    history = ok(engine, "/get/message", {"user_id": USER, "conversation_id": "c2"})
    assert history["message_detail_list"] == []
