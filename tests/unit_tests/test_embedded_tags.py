"""A memory's tags, stored as nothing when they are the ones fast mode writes (index format 10),
read back and filtered by as written."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _bodies as bodies
from langchain_memos.embedded._fine import ExtractedFact, Extraction
from langchain_memos.embedded._text import keywords
from tests.fakes import ScriptedChatModel
from tests.unit_tests.engine_talk import TALK, engine_client, say


def tagged(client: MemOSClient, tag: str, **kwargs: Any) -> list[str]:
    """The values of u1's facts a filter by ``tag`` finds."""
    found = client.get_memory(
        user_id="u1", filter={"and": [{"tags": {"contains": tag}}]}, size=50, **kwargs
    )
    return sorted(m.memory_value or "" for m in found.memory_detail_list)


def test_fast_mode_tags_are_read_and_filtered_by_as_written() -> None:
    engine = EmbeddedEngine(":memory:")
    client = engine_client(engine)
    say(client, "u1", "c1", *TALK[:3])
    client.add_message(
        [{"role": "user", "content": TALK[3]}],
        user_id="u1",
        conversation_id="c2",
        tags=["outdoors"],
        async_mode=False,
    )
    facts = client.get_memory(user_id="u1", size=50).memory_detail_list
    assert {m.memory_value: m.tags for m in facts} == {
        f"[user viewpoint] {text}": [*keywords(text), "mode:fast", *extra]
        for text, extra in zip(TALK[:4], ([], [], [], ["outdoors"]), strict=True)
    }
    stored = engine.store.query("SELECT kind, tags FROM memories ORDER BY seq")
    # Only the turn sent with a tag of its own stores its tags.
    assert sorted({row["tags"] for row in stored}) == [
        "",
        '["hiking","trail","muddy","worth","lake","mode:fast","outdoors"]',
    ]
    assert tagged(client, "hiking") == [f"[user viewpoint] {TALK[i]}" for i in (3, 0)]
    assert tagged(client, "outdoors") == [f"[user viewpoint] {TALK[3]}"]
    assert len(tagged(client, "mode:fast")) == 4
    assert tagged(client, "mode:fine") == []
    events = engine.get_memory(
        {
            "user_id": "u1",
            "filter": {"and": [{"tags": {"contains": "mode:fast"}}]},
            "include_memory_view": ["event"],
        }
    )["event_detail_list"]
    assert [e["tags"] for e in events] == [["mode:fast"], ["mode:fast"]]  # the turns with a time


def test_a_fact_the_model_rewrites_is_filtered_by_its_new_tags() -> None:
    """Before format 10 the column filters read kept a rewritten memory's first tags."""
    home = ExtractedFact(key="Home city", value="The user lives in Shanghai.", tags=["home"])
    model = ScriptedChatModel(script=[Extraction(facts=[home])])
    client = MemOSClient(embedded=EmbeddedEngine(chat_model=model), max_retries=0)
    say(client, "u1", "c1", "I live in Shanghai.")
    (memory,) = client.get_memory(user_id="u1").memory_detail_list
    moved = ExtractedFact(
        key="Home city", value="The user lives in Nanjing.", tags=["moved"], replaces=memory.id
    )
    model.script = [Extraction(facts=[moved])]
    say(client, "u1", "c1", "I moved to Nanjing last month.")

    assert tagged(client, "moved") == ["The user lives in Nanjing."]
    assert tagged(client, "home") == []


def test_a_database_of_index_format_9_stores_fast_tags_as_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    client = engine_client(engine)
    say(client, "u1", "c1", *TALK)
    before = client.get_memory(user_id="u1", size=50)
    engine.close()
    with sqlite3.connect(path) as db:  # every memory's tags, as format 9 stored them
        rows = db.execute("SELECT seq, kind, tags, text FROM memories").fetchall()
        for seq, kind, tags, text in rows:
            written = bodies.row_tags(kind, tags, text)
            if seq % 2:  # as formats 1 to 7 wrote them, with a space after each comma
                written = json.dumps(json.loads(written), ensure_ascii=False)
            db.execute("UPDATE memories SET tags = ? WHERE seq = ?", (written, seq))
        # A memory the model rewrote: format 9 kept its new tags in its body, its first in the
        # column filters read.
        db.execute(
            "UPDATE memories SET body = json_set(body, '$.tags', json('[\"moved\"]')) "
            "WHERE text = ?",
            (TALK[3],),
        )
        db.execute("PRAGMA user_version = 9")
    db.close()
    assert {row[2] for row in rows} == {""}

    with caplog.at_level(logging.INFO, logger="langchain_memos.embedded"):
        engine = EmbeddedEngine(path)
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == [
        f"upgrading {path} from index format 9 to 10",
        f"upgraded {path}",
    ]
    client = engine_client(engine)
    stored = [row["tags"] for row in engine.store.query("SELECT tags FROM memories")]
    assert sorted(set(stored)) == ["", '["moved"]']
    after = client.get_memory(user_id="u1", size=50)
    moved = f"[user viewpoint] {TALK[3]}"
    assert [m.tags for m in after.memory_detail_list if m.memory_value == moved] == [["moved"]]
    assert after.model_dump(exclude={"memory_detail_list"}) == before.model_dump(
        exclude={"memory_detail_list"}
    )
    assert [m for m in after.memory_detail_list if m.memory_value != moved] == [
        m for m in before.memory_detail_list if m.memory_value != moved
    ]
    assert tagged(client, "moved") == [moved]
    assert len(tagged(client, "hiking")) == 2
    engine.close()


def test_the_tags_read_for_a_stored_nothing_stay_what_they_were() -> None:
    """A store keeps ``""`` for these: were fast mode's keywords to change, every upgraded store
    would read other tags than it was given (change them with an upgrade writing the old out)."""
    assert bodies.fast_tags("fact", TALK[0]) == [
        "hiking",
        "sunday",
        "loved",
        "quiet",
        "trail",
        "mode:fast",
    ]
    assert bodies.fast_tags("fact", "我在杭州上班，周末喜欢去Starbucks喝latte。") == [
        "我在杭州",
        "周末喜欢",
        "starbucks",
        "latte",
        "mode:fast",
    ]
    assert bodies.fast_tags("fact", "I'd like to visit Thostford with my grandma's dog.") == [
        "thostford",
        "grandma's",
        "visit",
        "like",
        "mode:fast",
    ]
    assert bodies.fast_tags("event", "") == ["mode:fast"]
    assert bodies.fast_tags("preference", "x") == bodies.fast_tags("fact", "") == []
