"""Requests too odd or too big for the embedded engine get the documented 400 envelope."""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_memos.embedded import EmbeddedEngine

SAID = {"role": "user", "content": "I like jazz and blues."}


def raw(engine: EmbeddedEngine, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    status, content = engine.handle("POST", "/api/openmem/v1" + path, body)
    return status, json.loads(content)


def send(engine: EmbeddedEngine, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return raw(engine, path, json.dumps(body).encode())


@pytest.fixture
def engine() -> EmbeddedEngine:
    engine = EmbeddedEngine()
    body = {"user_id": "u", "conversation_id": "c", "messages": [SAID]}
    assert send(engine, "/add/message", body)[0] == 200
    return engine


@pytest.mark.parametrize(
    ("path", "body", "says"),
    [
        (
            "/add/message",
            b'{"user_id": "u", "conversation_id": "c", '
            b'"messages": [{"role": "user", "content": "broken \\ud83d emoji"}]}',
            "surrogate",
        ),
        ("/get/message", b'{"user_id": "u\\ud83d", "conversation_id": "c"}', "surrogate"),
        ("/search/memory", b'{"user_id": "u", "query": "jazz", "\\udc00": 1}', "surrogate"),
        ("/add/message", b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
        ("/add/message", b'{"info": ' + b"[" * 80 + b"]" * 80 + b"}", "deeper than 64"),
    ],
)
def test_json_no_memos_request_can_hold_is_a_400(
    engine: EmbeddedEngine, path: str, body: bytes, says: str
) -> None:
    status, answer = raw(engine, path, body)
    assert (status, answer["code"], answer["data"]) == (400, 40000, None)
    assert says in answer["message"]


def test_a_surrogate_pair_is_an_emoji_and_passes(engine: EmbeddedEngine) -> None:
    body = (
        b'{"user_id": "u", "conversation_id": "c2", '
        b'"messages": [{"role": "user", "content": "ok \\ud83d\\ude00"}]}'
    )
    assert raw(engine, "/add/message", body)[0] == 200
    _, answer = send(engine, "/get/message", {"user_id": "u", "conversation_id": "c2"})
    assert answer["data"]["message_detail_list"][0]["content"] == "ok \U0001f600"


@pytest.mark.parametrize("path", ["/search/memory", "/get/memory"])
def test_a_filter_too_large_for_sqlite_is_a_400(engine: EmbeddedEngine, path: str) -> None:
    conditions = [{"tags": {"contains": f"tag{i}"}} for i in range(1500)]
    body: dict[str, object] = {"user_id": "u", "filter": {"or": conditions}}
    if path == "/search/memory":
        body["query"] = "jazz"
    status, answer = send(engine, path, body)
    assert (status, answer["code"]) == (400, 40000)
    assert "at most 500 conditions" in answer["message"]
    body["filter"] = {"or": conditions[:500]}
    assert send(engine, path, body)[0] == 200


def test_any_number_of_ids_is_one_statement(engine: EmbeddedEngine) -> None:
    (fact,) = send(engine, "/get/memory", {"user_id": "u"})[1]["data"]["memory_detail_list"]
    ids = [f"missing-{i}" for i in range(300_000)] + [fact["id"]]
    status, answer = send(engine, "/delete/memory", {"memory_ids": ids})
    assert (status, answer["code"]) == (200, 0)
    assert send(engine, "/get/memory", {"user_id": "u"})[1]["data"]["memory_detail_list"] == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/search/memory", {"query": "jazz", "include_event": True}),
        ("/get/memory", {"query": "jazz"}),
        ("/get/message", {"conversation_id": "c", "page": 2}),
    ],
)
def test_a_read_refuses_a_field_it_would_ignore(
    engine: EmbeddedEngine, path: str, body: dict[str, object]
) -> None:
    # A read that ignored it would answer another question than the one asked.
    status, answer = send(engine, path, {"user_id": "u", **body})
    assert (status, answer["code"]) == (400, 40000)
    assert f"does not implement {list(body)[-1]} " in answer["message"]


def test_get_memory_reads_the_mcp_servers_current_as_the_page(engine: EmbeddedEngine) -> None:
    for n in range(3):
        text = f"I visited museum number {n} in Paris."
        body = {"user_id": "u", "conversation_id": f"c{n}", "async_mode": False}
        send(engine, "/add/message", {**body, "messages": [{"role": "user", "content": text}]})
    listing = {"user_id": "u", "include_preference": True, "include_tool_memory": False}

    def ids(page: dict[str, int]) -> list[str]:
        data = send(engine, "/get/memory", {**listing, **page, "size": 2})[1]["data"]
        return [m["id"] for m in data["memory_detail_list"]]

    assert ids({"current": 2}) == ids({"page": 2})
    assert ids({"current": 2})
    assert not set(ids({"current": 1})) & set(ids({"current": 2}))
