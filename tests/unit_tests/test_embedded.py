"""The embedded engine, through the real clients (its httpx transport), sync and async."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from langchain_memos import (
    AsyncMemOSClient,
    BadRequestError,
    ConfigurationError,
    MemOSClient,
    NotFoundError,
)
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._preferences import find_preferences
from langchain_memos.embedded._text import parse_chat_time, terms
from langchain_memos.filters import all_of, created, tag

Client = MemOSClient | AsyncMemOSClient

TRIP = [
    "I want to travel during summer vacation, can you recommend something?",
    "Sure! Are you traveling alone or with family?",
    "Our family always travels together, with the kids and my parents.",
    "Got it: a family trip with children and elderly.",
    "I prefer cheap hotels like 7 Days Inn.",
]


@pytest.fixture(params=["sync", "async"])
def client(request: pytest.FixtureRequest) -> Client:
    engine = EmbeddedEngine(":memory:")
    if request.param == "sync":
        return MemOSClient(embedded=engine, max_retries=0)
    return AsyncMemOSClient(embedded=engine, max_retries=0)


def call(client: Client, method: str, *args: Any, **kwargs: Any) -> Any:
    result = getattr(client, method)(*args, **kwargs)
    if asyncio.iscoroutine(result):
        return asyncio.run(result)
    return result


def add(client: Client, user: str, conversation: str, texts: list[str], **kwargs: Any) -> Any:
    messages = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": text}
        for i, text in enumerate(texts)
    ]
    return call(
        client, "add_message", messages, user_id=user, conversation_id=conversation, **kwargs
    )


def test_messages_come_back_in_order_and_limited(client: Client) -> None:
    add(client, "u1", "0610", TRIP, async_mode=False)
    stored = call(
        client, "get_message", user_id="u1", conversation_id="0610", message_limit_number=3
    )
    assert [m.content for m in stored.message_detail_list] == TRIP[-3:]
    assert [m.role for m in stored.message_detail_list] == ["user", "assistant", "user"]
    assert stored.message_detail_list[0].created_at is not None


def test_messages_come_back_as_sent_and_a_key_the_engine_keeps_is_refused(
    client: Client,
) -> None:
    sent: Any = [
        {"role": "user", "content": "Hi", "chat_time": "2025-06-10 09:00:00"},
        {"role": "assistant", "content": "Hello", "chat_time": "2025-06-10T01:00:05+00:00"},
        {"role": "user", "content": "Bye", "name": "Ana"},
    ]
    call(client, "add_message", sent, user_id="u1", conversation_id="c", async_mode=False)
    stored = call(client, "get_message", user_id="u1", conversation_id="c")
    assert [m.chat_time for m in stored.message_detail_list] == [
        "2025-06-10 09:00:00",
        "2025-06-10T01:00:05+00:00",
        None,
    ]
    bad: Any = [{"role": "user", "content": "Hi", "~absent": ["chat_time"]}]
    with pytest.raises(BadRequestError, match="has the key '~absent': the embedded engine keeps"):
        call(client, "add_message", bad, user_id="u1", conversation_id="c")


def test_a_write_is_a_task_that_is_done(client: Client) -> None:
    task = add(client, "u1", "0610", TRIP)
    assert (task.success, task.status) == (True, "running")
    assert call(client, "get_status", task.task_id).status == "completed"
    assert add(client, "u1", "0610", TRIP[:1], async_mode=False).status == "completed"
    with pytest.raises(NotFoundError):
        call(client, "get_status", "no-such-task")


def test_search_recalls_facts_and_preferences_of_that_user_only(client: Client) -> None:
    add(client, "u1", "0610", TRIP)
    add(client, "u2", "x", ["I travel alone and stay in luxury hotels."])

    found = call(client, "search_memory", "Which hotels does my family like?", user_id="u1")

    facts = [m.memory_value for m in found.memory_detail_list]
    assert "[user viewpoint] I prefer cheap hotels like 7 Days Inn." in facts
    assert not [fact for fact in facts if "luxury" in fact]
    (preference,) = found.preference_detail_list
    assert preference.preference == "The user prefers cheap hotels like 7 Days Inn."
    assert preference.preference_type == "explicit_preference"
    assert found.preference_note.startswith("\n# Note:")
    assert all(0.45 <= (m.relativity or 0) <= 1 for m in found.memory_detail_list)
    assert call(client, "search_memory", "hotels", user_id="nobody").memory_detail_list == []


def test_relativity_and_limits(client: Client) -> None:
    add(client, "u1", "0610", TRIP)
    unrelated = call(client, "search_memory", "quantum chromodynamics lecture", user_id="u1")
    assert len(unrelated) == 0
    loose = call(client, "search_memory", "family travel", user_id="u1", relativity=0)
    assert len(loose.memory_detail_list) >= 2
    one = call(client, "search_memory", "family travel", user_id="u1", memory_limit_number=1)
    assert len(one.memory_detail_list) == 1
    no_prefs = call(client, "search_memory", "hotels", user_id="u1", include_preference=False)
    assert no_prefs.preference_detail_list == []
    assert no_prefs.preference_note == ""


def test_the_current_conversation_is_boosted(client: Client) -> None:
    add(client, "u1", "old", ["We visited Paris in spring."])
    add(client, "u1", "new", ["We visited Paris in autumn."])
    for conversation in ("old", "new"):
        found = call(
            client, "search_memory", "Paris visit", user_id="u1", conversation_id=conversation
        )
        assert found.memory_detail_list[0].conversation_id == conversation


def test_chinese_text_is_searchable(client: Client) -> None:
    texts = ["我们国庆想去南方旅游，带上孩子和老人。", "我喜欢吃辣的食物。"]
    messages = [{"role": "user", "content": text} for text in texts]  # preferences: the user's own
    call(client, "add_message", messages, user_id="u1", conversation_id="c1")
    found = call(client, "search_memory", "国庆旅游去哪里", user_id="u1")
    assert (
        found.memory_detail_list[0].memory_value
        == "[user观点] 我们国庆想去南方旅游，带上孩子和老人。"
    )
    spicy = call(client, "search_memory", "吃辣", user_id="u1")
    assert [p.preference for p in spicy.preference_detail_list] == ["用户喜欢吃辣的食物。"]
    assert spicy.preference_note.startswith("\n# 注意")


def test_filters_apply_before_ranking(client: Client) -> None:
    add(client, "u1", "c1", ["We love hiking in the Alps."], tags=["outdoor"], agent_id="guide")
    messages = [
        {
            "role": "user",
            "content": "We love hiking in Scotland.",
            "chat_time": "2023-05-01 10:00:00",
        }
    ]
    call(client, "add_message", messages, user_id="u1", conversation_id="c2")

    def values(flt: Any) -> list[str]:
        found = call(client, "search_memory", "hiking", user_id="u1", filter=flt)
        return [m.memory_value for m in found.memory_detail_list]

    assert values(all_of(tag("outdoor"))) == ["[user viewpoint] We love hiking in the Alps."]
    assert values({"and": [{"agent_id": "guide"}]}) == [
        "[user viewpoint] We love hiking in the Alps."
    ]
    assert values(all_of(created(lt="2024-01-01"))) == [
        "[user viewpoint] We love hiking in Scotland."
    ]
    assert values({"or": [{"agent_id": "nobody"}]}) == []


def test_tool_calls_become_tool_memories(client: Client) -> None:
    messages = [
        {"role": "user", "content": "Weather in Beijing?"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Beijing"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "Beijing: 7C, cloudy"},
    ]
    call(client, "add_message", messages, user_id="u1", conversation_id="c1")
    found = call(client, "search_memory", "Beijing weather", user_id="u1", include_tool_memory=True)
    (tool,) = found.tool_memory_detail_list
    assert tool.tool_type == "ToolTrajectoryMemory"
    assert tool.tool_value == 'get_weather({"city": "Beijing"}) -> Beijing: 7C, cloudy'
    assert tool.tool_used_status[0].used_tool == "get_weather"
    assert tool.tool_used_status[0].success_rate == 1.0
    assert (
        call(client, "search_memory", "Beijing weather", user_id="u1").tool_memory_detail_list == []
    )


def test_listing_reading_updating_and_deleting(client: Client) -> None:
    add(client, "u1", "c1", [f"fact number {i}" for i in range(5)])
    page = call(client, "get_memory", user_id="u1", page=2, size=2)
    assert (page.total, page.pages, page.current, len(page.memory_detail_list)) == (5, 3, 2, 2)
    memory = page.memory_detail_list[0]
    assert memory.id is not None

    one = call(client, "get_memory_by_id", memory.id)
    assert one.memory_value == memory.memory_value
    # An id is read as it is written: "%30..." is not "0..." (it was decoded twice).
    escaped = f"%{ord(memory.id[0]):02X}{memory.id[1:]}"
    with pytest.raises(NotFoundError):
        call(client, "get_memory_by_id", escaped)
    assert one.model_extra["metadata"]["sources"][0]["role"] in ("user", "assistant")

    call(client, "update_memory", memory.id, content="an edited fact")
    assert call(client, "get_memory_by_id", memory.id).memory_value == "an edited fact"
    found = call(client, "search_memory", "edited", user_id="u1")
    assert [m.id for m in found.memory_detail_list] == [memory.id]

    call(client, "delete_memory", memory_ids=[memory.id])
    with pytest.raises(NotFoundError):
        call(client, "get_memory_by_id", memory.id)
    with pytest.raises(NotFoundError):
        call(client, "delete_memory", memory_ids=[memory.id])
    call(client, "delete_memory", user_id="u1")
    assert call(client, "get_memory", user_id="u1").total == 0
    # Idempotent, as for an agent: the user is gone either way.
    assert call(client, "delete_memory", user_id="u1").success


def test_feedback_is_recalled_first(client: Client) -> None:
    said = [{"role": "user", "content": "I live in Shanghai.", "chat_time": "2025-01-01 10:00:00"}]
    call(client, "add_message", said, user_id="u1", conversation_id="c1")
    task = call(
        client, "add_feedback", user_id="u1", feedback_content="Correction: I live in Nanjing now."
    )
    assert task.status == "completed"
    found = call(client, "search_memory", "Where do I live?", user_id="u1")
    assert "Nanjing" in (found.memory_detail_list[0].memory_value or "")


def test_text_knowledge_bases(client: Client) -> None:
    kb = call(client, "create_knowledgebase", "faq").id
    text = "Refunds take 7 days.\n\nShipping to Europe takes 2 weeks."
    content = "data:text/plain;base64," + base64.b64encode(text.encode()).decode()
    (file,) = call(client, "add_knowledgebase_files", kb, [{"name": "faq.md", "content": content}])
    assert file.status == "completed"
    assert call(client, "get_knowledgebase_files", knowledgebase_id=kb).total == 1

    with_kb = call(client, "search_memory", "refunds", user_id="u1", knowledgebase_ids=[kb])
    assert "Refunds take 7 days." in (with_kb.memory_detail_list[0].memory_value or "")
    assert with_kb.memory_detail_list[0].conversation_id == "default_session"
    assert call(client, "search_memory", "refunds", user_id="u1").memory_detail_list == []
    everything = call(client, "search_memory", "refunds", user_id="u1", knowledgebase_ids=["all"])
    assert len(everything.memory_detail_list) == 1

    call(client, "delete_knowledgebase_files", [file.id])
    assert (
        call(
            client, "search_memory", "refunds", user_id="u1", knowledgebase_ids=[kb]
        ).memory_detail_list
        == []
    )
    with pytest.raises(BadRequestError, match="cannot fetch URLs"):
        call(
            client,
            "add_knowledgebase_files",
            kb,
            [{"name": "a.md", "content": "https://x.test/a.md"}],
        )
    call(client, "delete_knowledgebase", kb)
    with pytest.raises(NotFoundError):
        call(client, "get_knowledgebase_files", knowledgebase_id=kb)


def test_a_knowledge_base_request_stores_all_its_files_or_none(client: Client) -> None:
    """The first file was stored before the second was refused, and a retry stored it twice
    (a crash red team)."""
    kb = call(client, "create_knowledgebase", "faq").id
    good = {"name": "faq.md", "content": base64.b64encode(b"Refunds take 7 days.").decode()}
    refused = {"name": "scan.pdf", "content": base64.b64encode(b"%PDF-1.4").decode()}
    with pytest.raises(BadRequestError, match="reads text files"):
        call(client, "add_knowledgebase_files", kb, [good, refused])
    assert call(client, "get_knowledgebase_files", knowledgebase_id=kb).total == 0
    call(client, "add_knowledgebase_files", kb, [good])
    assert call(client, "get_knowledgebase_files", knowledgebase_id=kb).total == 1


def test_a_knowledge_base_deleted_while_its_file_is_read_takes_no_file() -> None:
    """Checked before the (slow) embedding only: a delete meanwhile left the file's memories
    under a knowledge base that was gone, still searched by its id (a crash red team)."""
    engine = EmbeddedEngine(":memory:")
    client = MemOSClient(embedded=engine, max_retries=0)
    kb = client.create_knowledgebase("faq").id
    assert kb is not None
    embed = engine._knowledge._writer.embed

    def deleted_meanwhile(memories: list[dict[str, Any]]) -> Any:
        client.delete_knowledgebase(kb)
        return embed(memories)

    engine._knowledge._writer.embed = deleted_meanwhile  # type: ignore[method-assign]
    good = {"name": "faq.md", "content": base64.b64encode(b"Refunds take 7 days.").decode()}
    with pytest.raises(NotFoundError):
        client.add_knowledgebase_files(kb, [good])  # type: ignore[list-item]
    assert (
        client.search_memory("refunds", user_id="u1", knowledgebase_ids=[kb]).memory_detail_list
        == []
    )


@pytest.mark.parametrize(
    "content",
    [
        # GNU base64 and email's encoders wrap lines at 76 characters.
        base64.encodebytes(("Refunds take 7 days. " * 6).encode()).decode(),
        "data:text/plain," + quote("Refunds take 7 days. " * 6),  # RFC 2397, not base64
    ],
    ids=["wrapped-base64", "percent-encoded-data-uri"],
)
def test_file_content_is_read_as_memos_reads_it(client: Client, content: str) -> None:
    kb = call(client, "create_knowledgebase", "faq").id
    call(client, "add_knowledgebase_files", kb, [{"name": "faq.txt", "content": content}])
    found = call(client, "search_memory", "refunds", user_id="u1", knowledgebase_ids=[kb])
    assert "Refunds take 7 days." in (found.memory_detail_list[0].memory_value or "")


def test_times_near_year_1_or_9999_are_taken_as_any_other(client: Client) -> None:
    for stamp in ("0001-01-01 00:00:00", "9999-12-31T23:00:00Z"):
        said: Any = [{"role": "user", "content": "I renewed my card.", "chat_time": stamp}]
        call(client, "add_message", said, user_id="u1", conversation_id="c", async_mode=False)
    since = {"and": [{"create_time": {"gte": "0001-01-01"}}]}
    assert len(call(client, "get_memory", user_id="u1", filter=since).memory_detail_list) == 2
    before = {"and": [{"create_time": {"lt": "9999-12-31T23:59:59-12:00"}}]}
    query = "Did I renew my card until 9999年12月31日?"
    found = call(client, "search_memory", query, user_id="u1", filter=before, relativity=0)
    assert len(found.memory_detail_list) == 2


def test_a_time_bound_finds_the_memories_said_at_it(client: Client) -> None:
    for stamp in ("1424-06-10 09:00:00.914", "2025-06-10 09:00:00.914"):
        said: Any = [{"role": "user", "content": "I renewed my card.", "chat_time": stamp}]
        call(client, "add_message", said, user_id=stamp, conversation_id="c", async_mode=False)
        for bound in ({"lte": stamp}, {"gte": stamp}):
            at = {"and": [{"create_time": bound}]}
            assert len(call(client, "get_memory", user_id=stamp, filter=at).memory_detail_list) == 1


def test_multipart_upload(client: Client, tmp_path: Path) -> None:
    kb = call(client, "create_knowledgebase", "docs").id
    note = tmp_path / "notes.txt"
    note.write_text("The office opens at 9 am.")
    (file,) = call(client, "upload_knowledgebase_files", kb, [note])
    assert file.name == "notes.txt"
    found = call(client, "search_memory", "office opening", user_id="u", knowledgebase_ids=[kb])
    assert found.memory_detail_list[0].memory_value == "The office opens at 9 am."


def test_what_needs_a_hosted_model_is_refused_clearly(client: Client) -> None:
    with pytest.raises(BadRequestError, match="needs a MemOS-hosted model"):
        call(client, "chat", user_id="u", conversation_id="c", query="hi")
    with pytest.raises(BadRequestError, match="needs a MemOS-hosted model"):
        call(client, "rerank", "q", ["a"])


def test_extract_memory_stores_nothing(client: Client) -> None:
    result = call(client, "extract_memory", [{"role": "user", "content": "I love green tea."}])
    assert result.preference_detail_list[0].preference == "The user loves green tea."
    assert call(client, "get_memory", user_id="u").total == 0


# ---- the wire, as other clients send it ----------------------------------------------------


def wire(engine: EmbeddedEngine, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    status, content = engine.handle("POST", "/api/openmem/v1" + path, json.dumps(body).encode())
    return status, json.loads(content)


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        (
            "/add/message",
            {"user_id": "u" * 101, "conversation_id": "c", "messages": []},
            400,
            40010,
        ),
        (
            "/add/message",
            {"user_id": "u", "conversation_id": "c" * 101, "messages": []},
            400,
            40011,
        ),
        ("/add/message", {"user_id": "u", "conversation_id": "c", "messages": []}, 400, 40000),
        ("/search/memory", {"user_id": "u", "query": "q", "relativity": 2}, 400, 40012),
        ("/search/memory", {"user_id": "u", "query": "q", "filter": {}}, 400, 40000),
        ("/search/memory", {"query": "q"}, 400, 40002),
        ("/get/status", {"task_id": "nope"}, 404, 50131),
        ("/chat", {"user_id": "u"}, 400, 40000),
        ("/no/such/endpoint", {}, 404, 40001),
    ],
)
def test_errors_use_the_documented_envelope(
    path: str, body: dict[str, Any], status: int, code: int
) -> None:
    answer_status, answer = wire(EmbeddedEngine(), path, body)
    assert (answer_status, answer["code"], answer["data"]) == (status, code, None)
    assert answer["message"]


def test_json_nulls_for_optional_fields_are_accepted() -> None:
    engine = EmbeddedEngine()
    body = {
        "user_id": "u",
        "conversation_id": "c",
        "messages": [{"role": "user", "content": "I like jazz."}],
        "agent_id": None,
        "tags": None,
        "info": None,
        "async_mode": None,
    }
    assert wire(engine, "/add/message", body)[1]["code"] == 0
    search = {
        "user_id": "u",
        "query": "jazz",
        "conversation_id": None,
        "filter": None,
        "relativity": None,
    }
    status, answer = wire(engine, "/search/memory", search)
    assert status == 200
    assert (
        answer["data"]["memory_detail_list"][0]["memory_value"] == "[user viewpoint] I like jazz."
    )


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "jazz OR NOT",
        "NEAR(a b",
        "col:jazz",
        "jazz*",
        "'; DROP TABLE memories; --",
        "^",
        # More distinct words than SQLite takes result columns in one statement (2,000).
        " ".join(f"w{n}x" for n in range(2_500)) + " jazz",
    ],
    ids=lambda query: query if len(query) < 40 else f"{len(query.split())} words",
)
def test_query_syntax_cannot_break_the_search(query: str) -> None:
    engine = EmbeddedEngine()
    wire(
        engine,
        "/add/message",
        {
            "user_id": "u",
            "conversation_id": "c",
            "messages": [{"role": "user", "content": "I like jazz."}],
        },
    )
    status, answer = wire(
        engine, "/search/memory", {"user_id": "u", "query": query, "relativity": 0}
    )
    assert (status, answer["code"]) == (200, 0)


def test_a_database_file_keeps_memories_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "memos.db"
    engine = EmbeddedEngine(str(path))
    wire(
        engine,
        "/add/message",
        {
            "user_id": "u",
            "conversation_id": "c",
            "messages": [{"role": "user", "content": "I like jazz."}],
        },
    )
    engine.close()
    again = EmbeddedEngine(str(path))
    _, answer = wire(again, "/search/memory", {"user_id": "u", "query": "jazz"})
    assert len(answer["data"]["memory_detail_list"]) == 1
    assert (tmp_path / "memos.db-wal").exists() or path.stat().st_size > 0


# ---- choosing the engine -------------------------------------------------------------------


def test_the_engine_is_chosen_by_argument_or_base_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MEMOS_API_KEY", raising=False)
    monkeypatch.setenv("MEMOS_BASE_URL", f"embedded://{tmp_path}/env.db")
    MemOSClient().add_message([{"role": "user", "content": "hi"}], user_id="u", conversation_id="c")
    assert (tmp_path / "env.db").exists()

    monkeypatch.delenv("MEMOS_BASE_URL")
    with pytest.raises(ConfigurationError, match=r"MEMOS_API_KEY.*embedded"):
        MemOSClient()
    with pytest.raises(ConfigurationError, match="names its database"):
        MemOSClient(base_url="embedded://")
    a = MemOSClient(base_url="EMBEDDED://:memory:")  # schemes are case-insensitive
    b = MemOSClient(embedded=":memory:")
    a.add_message([{"role": "user", "content": "shared jazz"}], user_id="u", conversation_id="c")
    assert len(b.search_memory("jazz", user_id="u").memory_detail_list) == 1


# ---- text handling -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I really love hiking with my dog.", ["The user loves hiking with their dog."]),
        ("I don't like horror movies", ["The user doesn't like horror movies."]),
        ("I'm allergic to peanuts!", ["The user is allergic to peanuts."]),
        (
            "I always take the train. I never fly.",
            ["The user always takes the train.", "The user never flies."],
        ),
        ("我不喜欢重油的菜，我更喜欢清淡的。", ["用户不喜欢重油的菜。", "用户更喜欢清淡的。"]),
        ("I want to travel in summer, can you help?", ["The user wants to travel in summer."]),
        ("I like pizza, pasta and sushi.", ["The user likes pizza, pasta and sushi."]),
        ("The weather is nice.", []),
    ],
)
def test_explicit_preferences(text: str, expected: list[str]) -> None:
    assert [p.text for p in find_preferences(text)] == expected


def test_terms_split_chinese_into_bigrams_then_characters() -> None:
    assert terms("国庆旅游 Travel!") == ["国庆", "庆旅", "旅游", "国", "庆", "旅", "游", "travel"]
    assert terms("我的猫") == ["我的", "的猫", "猫"]  # no grammar characters on their own


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("1:56 pm on 8 May, 2023", "2023-05-08T13:56:00+08:00"),
        ("2025-06-10 09:30:00", "2025-06-10T09:30:00+08:00"),
        ("2025年6月10日 9点", "2025-06-10T09:00:00+08:00"),
        ("yesterday", None),
    ],
)
def test_chat_times(value: str, iso: str | None) -> None:
    parsed = parse_chat_time(value)
    assert (parsed.isoformat() if parsed else None) == iso


def test_a_database_of_another_index_format_fails_clearly(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE memories (seq INTEGER PRIMARY KEY)")
    with pytest.raises(ConfigurationError, match="index format 0"):
        EmbeddedEngine(str(path))
