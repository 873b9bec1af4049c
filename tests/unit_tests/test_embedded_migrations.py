"""A database written by an older embedded engine is upgraded in place when opened."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import datetime, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_memos import MemOSClient, MemOSError
from langchain_memos._tokens import CJK
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _bodies as bodies
from langchain_memos.embedded import _plan as plan
from langchain_memos.embedded._migrations import split_mixed, with_characters
from langchain_memos.embedded._store import INDEX_VERSION
from langchain_memos.embedded._text import _IS_CJK, _TOKEN, STOP_CHARACTERS, index_text
from tests.unit_tests.engine_talk import say

DATA = Path(__file__).resolve().parent / "data"


def format_2_index(text: str) -> str:
    """What index format 2 wrote: a Chinese run as its bigrams only (one character as itself)."""
    out: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group()
        if _IS_CJK.match(token):
            out.extend(token[i : i + 2] for i in range(max(1, len(token) - 1)))
        else:
            out.append(token.replace("'", ""))
    return " ".join(out)


@given(
    st.lists(
        st.sampled_from(
            ["国庆", "去云南玩", "住", "的", "hotel", "我们全家", "。", " ", "Mochi's", "s住"]
        )
    )
)
def test_an_old_index_column_gains_the_terms_this_engine_writes(pieces: list[str]) -> None:
    text = "".join(pieces)
    upgraded, written = with_characters(format_2_index(text)).split(), index_text(text).split()
    # The same terms, and the multi-character terms (words, bigrams) in the same order, so that
    # phrases match as before.
    assert set(upgraded) == set(written)
    assert [t for t in upgraded if len(t) > 1] == [t for t in written if len(t) > 1]
    # Format 2 wrote "国庆住。住国庆" and "国庆住国庆" alike (国庆 庆住 住国 国庆): where two runs
    # only punctuation apart chain, a character may be placed (or counted) once; else exactly.
    runs = _TOKEN.findall(text.lower())
    if not any(
        len(a) > 1 < len(b) and _IS_CJK.match(a) and a[-1] == b[0] for a, b in pairwise(runs)
    ):
        assert upgraded == written


def test_a_database_of_index_format_2_finds_chinese_by_single_characters(tmp_path: Path) -> None:
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    for text in ["这次住在西湖边上的民宿。", "我在一家银行做会计。"]:
        client.add_message(
            [{"role": "user", "content": text}],
            user_id="u1",
            conversation_id="c1",
            async_mode=False,
        )
    engine.close()
    with sqlite3.connect(path) as db:  # as format 2 left it: no single characters indexed
        rows = db.execute("SELECT rowid, body FROM memories_fts").fetchall()
        for rowid, body in rows:
            old = " ".join(
                t for t in body.split() if not (len(t) == 1 and "\u4e00" <= t <= "\u9fff")
            )
            db.execute("UPDATE memories_fts SET body = ? WHERE rowid = ?", (old, rowid))
        db.execute("PRAGMA user_version = 2")
    db.close()

    engine = EmbeddedEngine(path)
    found = MemOSClient(embedded=engine).search_memory(
        "这趟住什么地方", user_id="u1", include_preference=False
    )
    assert [m.memory_value for m in found.memory_detail_list][:1] == [
        "[user观点] 这次住在西湖边上的民宿。"
    ]
    assert engine.store.query("PRAGMA user_version")[0][0] == INDEX_VERSION
    engine.close()


# How formats 1-5 cut text into words: a Chinese character is a word character, so a word of
# other letters went on through the Chinese characters after it.
_FORMAT_5_TOKEN = re.compile(rf"[{CJK}]+|[^\W_]+(?:'[^\W_]+)?")


def format_5_index(text: str) -> str:
    out: list[str] = []
    for token in _FORMAT_5_TOKEN.findall(text.lower()):
        if _IS_CJK.match(token):
            out.extend(token[i : i + 2] for i in range(max(1, len(token) - 1)))
            if len(token) > 1:
                out.extend(c for c in token if c not in STOP_CHARACTERS)
        else:
            out.append(token.replace("'", ""))
    return " ".join(out)


@given(
    st.lists(
        st.sampled_from(
            ["我在", "Google", "上班", "iPhone15", "拍", " ", "。", "Tim's", "的", "'s", "x"]
        )
    )
)
def test_an_index_column_of_format_5_splits_into_the_terms_this_engine_writes(
    pieces: list[str],
) -> None:
    text = "".join(pieces)
    split, written = split_mixed(format_5_index(text)), index_text(text)
    # Format 5 read "Tim's" after Chinese characters as "tim" and "s": that stays two terms.
    if not re.search(rf"[{CJK}][^\W_]*'", text):
        assert split == written


def test_a_database_of_index_format_5_finds_a_latin_word_written_against_chinese(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    said = ["我在Google上班。", "周末和Tim一起吃火锅。", "我在一家银行做会计。"]
    client.add_message(
        [{"role": "user", "content": text} for text in said],
        user_id="u1",
        conversation_id="c1",
        async_mode=False,
    )
    engine.close()
    _bodies_whole(path)
    with sqlite3.connect(path) as db:  # as format 5 indexed the turns and their neighbours
        for rowid, text in db.execute("SELECT seq, text FROM memories").fetchall():
            body, ctx1, ctx2 = db.execute(
                "SELECT body, ctx1, ctx2 FROM memories_fts WHERE rowid = ?", (rowid,)
            ).fetchone()
            assert index_text(text) in body
            db.execute(
                "UPDATE memories_fts SET body = ?, ctx1 = ?, ctx2 = ? WHERE rowid = ?",
                (
                    body.replace(index_text(text), format_5_index(text)),
                    _as_format_5(ctx1, said),
                    _as_format_5(ctx2, said),
                    rowid,
                ),
            )
        db.execute("PRAGMA user_version = 5")
    db.close()

    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    for query, memory in (("Google", said[0]), ("Tim", said[1])):
        found = client.search_memory(query, user_id="u1", include_preference=False)
        assert found.memory_detail_list[0].memory_value == f"[user观点] {memory}"
    assert engine.store.query("PRAGMA user_version")[0][0] == INDEX_VERSION
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO memories_fts(memories_fts) VALUES('integrity-check')")
    db.close()
    engine.close()


def _as_format_5(column: str, said: list[str]) -> str:
    for text in said:
        column = column.replace(index_text(text), format_5_index(text))
    return column


def _bodies_whole(path: str) -> None:
    """Every memory's and message's body written whole, as formats 5 to 7 read it as this engine
    does (a body holding every key reads as itself whatever a format derives)."""
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        columns = bodies.columns()
        rows = db.execute(f"SELECT seq, {columns} FROM memories").fetchall()  # noqa: S608
        for row in rows:
            whole = json.dumps(bodies.read(row), ensure_ascii=False)
            db.execute("UPDATE memories SET body = ? WHERE seq = ?", (whole, row["seq"]))
        for row in db.execute("SELECT seq, body, create_time FROM messages").fetchall():
            message = bodies.unpack_message(row["body"], row["create_time"])
            del message["create_time"], message["update_time"]
            whole = json.dumps(message, ensure_ascii=False)
            db.execute("UPDATE messages SET body = ? WHERE seq = ?", (whole, row["seq"]))
    db.close()


def _say_each(client: MemOSClient, said: dict[str, list[str]]) -> None:
    """Each user's texts as their turns of one conversation (``c-<user>``)."""
    for user, texts in said.items():
        say(client, user, f"c-{user}", *texts)


def test_a_database_of_index_format_3_gets_its_memories_counted(tmp_path: Path) -> None:
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    said = {
        "u1": ["I went pottery with Pixette.", "Pixette and I had ramen after pottery."],
        "u2": ["My sister lives in Lisbon.", "Lisbon was sunny.", "I like pottery too."],
    }
    _say_each(client, said)
    before = {u: client.search_memory("pottery Pixette", user_id=u) for u in said}
    engine.close()
    with sqlite3.connect(path) as db:  # as format 3 left it: nothing counted
        db.execute("DROP TABLE scope_counts")
        db.execute("PRAGMA user_version = 3")
    db.close()

    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    after = {u: client.search_memory("pottery Pixette", user_id=u) for u in said}
    assert after == before
    assert engine.store.query("PRAGMA user_version")[0][0] == INDEX_VERSION
    engine.close()


def test_a_database_of_index_format_4_answers_as_the_engine_that_wrote_it(
    tmp_path: Path,
) -> None:
    # Written by the engine of index format 4 (data/make_format_4.py), with its answers.
    path = tmp_path / "memos.db"
    shutil.copy(DATA / "format_4.db", path)
    written = sqlite3.connect(path)
    bodies_before = written.execute("SELECT sum(length(body)) FROM memories").fetchone()[0]
    written.close()
    engine = EmbeddedEngine(str(path), clock=lambda: datetime(2025, 9, 28, tzinfo=timezone.utc))
    assert engine.store.query("PRAGMA user_version")[0][0] == INDEX_VERSION == 10
    recorded = json.loads((DATA / "format_4.json").read_text())
    answers = [getattr(engine, name)(body) for name, body in recorded["requests"]]
    # One difference: that engine left the edited turn's old words ("I like green tea.") in its
    # neighbour's context, where they counted towards how common "tea" is; the upgrade takes them
    # out, so the memories "MacBook Air tea" finds are the same, with other relativities.
    tea = next(
        i for i, (_, body) in enumerate(recorded["requests"]) if "tea" in body.get("query", "")
    )
    assert (
        answers[:tea] + answers[tea + 1 :]
        == recorded["answers"][:tea] + recorded["answers"][tea + 1 :]
    )
    ids = [
        {m["id"] for m in answer["memory_detail_list"]}
        for answer in (answers[tea], recorded["answers"][tea])
    ]
    assert ids[0] == ids[1]
    # The edited turn's old words find no fact any more (the neighbour's context held them).
    green = engine.search_memory({"user_id": "u1", "query": "green", "relativity": 0})
    assert green["memory_detail_list"] == []
    # Stored smaller, and still deleted and edited as one index with the memories.
    assert engine.store.query("SELECT sum(length(body)) FROM memories")[0][0] < bodies_before
    facts = answers[0]["memory_detail_list"]
    engine.delete_memory({"memory_ids": [facts[0]["id"]]})
    engine.update_memory({"memory_id": facts[1]["id"], "content": "I like jasmine tea."})
    engine.store.query("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')")
    found = engine.search_memory({"user_id": "u1", "query": "jasmine", "relativity": 0})
    assert [m["memory_value"] for m in found["memory_detail_list"]] == ["I like jasmine tea."]
    engine.close()


def test_a_database_of_index_format_6_gets_its_marked_memories_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Format 7 counts the memories holding the time marker, for the idf of a "when" question's
    marker when it is scored outside the index (see _bm25.py)."""
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    said = {
        "u1": ["I went to Porto last May.", "We saw a film on Friday.", "I went hiking."],
        "u2": ["Yesterday I baked bread.", "I like bread."],
    }
    _say_each(client, said)
    queries = ("When did I go to Porto?", "When did I bake bread?", "hiking")
    before = [client.search_memory(q, user_id=u) for q in queries for u in said]
    engine.close()
    _bodies_whole(path)
    with sqlite3.connect(path) as db:
        counted = db.execute("SELECT * FROM scope_counts ORDER BY token").fetchall()
        assert any(token.startswith("+") and n for token, n in counted)
        db.execute("DELETE FROM scope_counts WHERE token LIKE '+%'")  # as format 6 left it
        db.execute("PRAGMA user_version = 6")
    db.close()

    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    assert [client.search_memory(q, user_id=u) for q in queries for u in said] == before
    monkeypatch.setattr(plan, "COMMON_MEMORIES", -1)  # the marker scored outside the index
    monkeypatch.setattr(plan, "COMMON_SHARE", -1.0)
    assert [client.search_memory(q, user_id=u) for q in queries for u in said] == before
    store = engine.store
    assert store.query("PRAGMA user_version")[0][0] == INDEX_VERSION == 10
    after = [tuple(row) for row in store.query("SELECT * FROM scope_counts ORDER BY token")]
    # but for the index rows written, which count every row the upgrade to format 10 rewrote
    assert [row for row in after if row[0] != "changes"] == [
        row for row in counted if row[0] != "changes"
    ]
    engine.close()


def test_a_database_of_index_format_7_reads_its_messages_and_answers_as_before(
    tmp_path: Path,
) -> None:
    """Format 8 derives a message's chat_time from its row's time, and a short answer's value
    with the question it answers: a message format 7 stored without a chat_time still has none,
    and an answer whose body left its value to be derived keeps the value format 7 derived."""
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    asked = {"role": "assistant", "content": "Where did you go hiking?"}
    engine.add_message(
        {
            "user_id": "u1",
            "conversation_id": "c1",
            "async_mode": False,
            "messages": [
                {**asked, "chat_time": "2025-06-10 09:00:00"},
                {"role": "user", "content": "Lisbon."},
            ],
        }
    )
    (answer,) = [
        m
        for m in engine.get_memory({"user_id": "u1"})["memory_detail_list"]
        if m["memory_value"].startswith("[user")
    ]
    assert (
        answer["memory_value"]
        == "[user viewpoint] Lisbon. (replying to assistant: “Where did you go hiking?”)"
    )
    engine.close()
    with sqlite3.connect(path) as db:  # as format 7 stored them
        db.execute(
            "UPDATE messages SET body = json_set(body, '$.chat_time', '2025-06-10 09:00:00') "
            "WHERE json_extract(body, '$.role') = 'assistant'"
        )
        db.execute("UPDATE messages SET body = json_remove(body, '$.\"~absent\"')")
        # Its answer's type stored (format 7 stored every fact's), its question's left out.
        db.execute(
            "UPDATE memories SET body = json_set(body, '$.memory_type', 'WorkingMemory') "
            "WHERE body LIKE '%\"answers\"%'"
        )
        # Its answer's value left to be derived (format 7 derived the turn alone).
        assert db.execute(
            "SELECT count(*) FROM memories WHERE json_type(body, '$.memory_value') IS NULL "
            "AND body LIKE '%\"answers\"%'"
        ).fetchone() == (1,)
        db.execute("PRAGMA user_version = 7")
    db.close()

    engine = EmbeddedEngine(path)
    assert engine.store.query("PRAGMA user_version")[0][0] == INDEX_VERSION == 10
    messages = engine.get_message({"user_id": "u1", "conversation_id": "c1"})["message_detail_list"]
    assert [m.get("chat_time") for m in messages] == ["2025-06-10 09:00:00", None]
    memories = engine.get_memory({"user_id": "u1"})["memory_detail_list"]
    values = {m["id"]: m["memory_value"] for m in memories}
    assert values[answer["id"]] == "[user viewpoint] Lisbon."
    types = {m["id"]: m.get("memory_type") for m in memories}
    assert types == {
        m["id"]: "WorkingMemory" if m["id"] == answer["id"] else None for m in memories
    }
    engine.close()


def test_a_message_of_format_7_with_a_key_of_the_engines_reads_back_whole(tmp_path: Path) -> None:
    """Format 7 stored any message key; "~absent" and the like are the engine's in format 8."""
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    engine.add_message(
        {"user_id": "u1", "conversation_id": "c1", "messages": [{"role": "user", "content": "Hi"}]}
    )
    engine.close()
    sent: list[dict[str, Any]] = [
        {"role": "user", "content": "a", "~absent": "x"},
        {"role": "user", "content": "b", "~absent": 5, "chat_time": "2025-06-10 09:00:00"},
        {"role": "user", "content": "c", "~absent": {"a": 1}},
        {"role": "user", "content": "d", "~absent": ["chat_time"], "chat_time": "now-ish"},
        {"role": "user", "content": "e", "~whole": True},
    ]
    with sqlite3.connect(path) as db:  # as format 7 stored them: whole, but for their times
        db.execute("DELETE FROM messages")
        db.executemany(
            "INSERT INTO messages (user_id, conversation_id, body, create_time) "
            "VALUES (?, ?, ?, ?)",
            [
                ("u1", "c1", json.dumps(message), 1749517200000 + i)
                for i, message in enumerate(sent)
            ],
        )
        db.execute("PRAGMA user_version = 7")
    db.close()

    engine = EmbeddedEngine(path)
    got = engine.get_message({"user_id": "u1", "conversation_id": "c1"})["message_detail_list"]
    assert [
        {k: v for k, v in m.items() if not k.endswith("_time") or k == "chat_time"} for m in got
    ] == sent
    engine.close()


def test_a_database_of_index_format_7_indexes_its_lists_in_their_own_characters(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    said: Any = [{"role": "user", "content": "我在北京上班。"}]
    client.add_message(said, user_id="u1", conversation_id="c1", info={"city": ["北京"]})
    engine.close()
    with sqlite3.connect(path) as db:  # as format 7 indexed it: from ASCII JSON
        db.execute("DELETE FROM memory_info")
        for seq, info in db.execute("SELECT seq, info FROM memories").fetchall():
            db.execute(
                "INSERT INTO memory_info SELECT ?, key, CAST(value AS TEXT) FROM json_each(?)",
                (seq, json.dumps(json.loads(info))),
            )
        db.execute("PRAGMA user_version = 7")
    db.close()

    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    client.add_message(said, user_id="u1", conversation_id="c2", info={"city": ["北京"]})
    city = {"and": [{"city": '["北京"]'}]}
    found = client.get_memory(user_id="u1", filter=city, include_preference=False)
    assert sorted(m.conversation_id or "" for m in found.memory_detail_list) == ["c1", "c2"]
    engine.close()


def test_a_database_of_index_format_8_keeps_its_memory_ids(tmp_path: Path) -> None:
    """Format 8 stored ids as text: they read back, and find their memories, as before."""
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    say(
        client,
        "u1",
        "c1",
        "I like green tea.",
        "My sister Ana lives in Lisbon.",
        "I run on Sundays.",
    )
    before = client.get_memory(user_id="u1").memory_detail_list
    engine.close()
    with sqlite3.connect(path) as db:  # as format 8 stored them; one id of another kind
        for seq, stored in db.execute("SELECT seq, id FROM memories").fetchall():
            db.execute("UPDATE memories SET id = ? WHERE seq = ?", (bodies.read_id(stored), seq))
        db.execute("UPDATE memories SET id = 'Custom-ID' WHERE id = ?", (before[2].id,))
        db.execute("PRAGMA user_version = 8")
    db.close()

    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    stored = [row["id"] for row in engine.store.query("SELECT id FROM memories ORDER BY seq")]
    assert [type(value) for value in stored].count(str) == 1  # the rest as 16 bytes each
    assert all(len(value) == 16 for value in stored if isinstance(value, bytes))
    after = client.get_memory(user_id="u1").memory_detail_list
    assert [m.id for m in after] == [m.id if m is not before[2] else "Custom-ID" for m in before]
    assert client.get_memory_by_id(before[0].id or "").memory_value == before[0].memory_value
    assert client.get_memory_by_id("Custom-ID").memory_value == before[2].memory_value
    with pytest.raises(MemOSError):  # not the stored text: ids match only as they were written
        client.get_memory_by_id("custom-id")
    with pytest.raises(MemOSError):
        client.get_memory_by_id((before[0].id or "").upper())
    client.delete_memory(memory_ids=[before[1].id or "", "Custom-ID"])
    assert [m.id for m in client.get_memory(user_id="u1").memory_detail_list] == [before[0].id]
    engine.close()
