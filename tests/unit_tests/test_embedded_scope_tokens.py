"""Whose a memory is, as the full-text index holds it: owners numbered by the store (index
format 10) instead of hashed, and each user's searches still their own."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from langchain_memos._sqlite import immediate_transaction
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _scope_counts as scope_counts
from langchain_memos.embedded._scope_tokens import MARK, hashed
from tests.unit_tests.engine_talk import TALK, engine_client, say
from tests.unit_tests.test_embedded_vectors import ConceptEmbeddings

ODD_USERS = ("u1", "a b", 'say "hi"', "AND", "*", "c2", "用户")


def found(engine: EmbeddedEngine, user: str, query: str) -> list[str]:
    answer = engine.search_memory({"user_id": user, "query": query, "relativity": 0})
    return [m["memory_value"] for m in answer["memory_detail_list"]]


def scopes(engine: EmbeddedEngine) -> set[str]:
    rows = engine.store.query("SELECT scope FROM memories_fts")
    return {token for row in rows for token in row["scope"].split()}


def test_each_user_finds_only_their_own_memories_whatever_their_id() -> None:
    engine = EmbeddedEngine(":memory:")
    client = engine_client(engine)
    for i, user in enumerate(ODD_USERS):
        say(client, user, "c1", f"I keep {i} bees near the lake.")
    for i, user in enumerate(ODD_USERS):
        assert found(engine, user, "bees lake") == [
            f"[user viewpoint] I keep {i} bees near the lake."
        ]
    # A letter, a number and the mark each: 7 users, and their facts, events and preferences.
    assert all(len(token) <= 4 and token.endswith(MARK) for token in scopes(engine))
    assert found(engine, "nobody", "bees") == []


def test_a_query_word_shaped_like_a_token_matches_only_what_was_said() -> None:
    engine = EmbeddedEngine(":memory:")
    client = engine_client(engine)
    seat, line = "My seat on the flight was C2 by the window.", "I take the U1 line to work."
    say(client, "ana", "c1", *TALK, seat, line)
    assert {"u1" + MARK, "c2" + MARK} <= scopes(engine)  # ana's own tokens, and the words
    # The turn that said it, and the turns said around it (which hold it as context).
    near = {f"[user viewpoint] {text}" for text in (*TALK[4:], seat, line)}
    for word, said in (("c2", seat), ("u1", line)):
        found_by_word = found(engine, "ana", word)
        assert found_by_word[0] == f"[user viewpoint] {said}"
        assert set(found_by_word) <= near
    # A query holding the mark is read without it (it is no word's).
    assert found(engine, "ana", "u1" + MARK) == found(engine, "ana", "u1")


def test_a_write_taken_back_gives_its_number_to_no_one_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A number given in a write that rolls back is forgotten with it: else the next owner
    numbered would share it, and read the other's memories."""
    engine = EmbeddedEngine(":memory:")
    client = engine_client(engine)
    added = scope_counts.added
    with monkeypatch.context() as patched:
        patched.setattr(scope_counts, "added", lambda *a: (_ for _ in ()).throw(OSError("disk")))
        with pytest.raises(OSError, match="disk"):
            say(client, "ana", "c1", "My PIN is 4321.")
    assert scope_counts.added is added
    say(client, "bob", "c1", "I like green tea.")
    say(client, "ana", "c1", "My PIN is 4321.")
    assert found(engine, "bob", "PIN green tea") == ["[user viewpoint] I like green tea."]
    assert found(engine, "ana", "PIN green tea") == ["[user viewpoint] My PIN is 4321."]


def test_a_database_of_index_format_9_gets_its_owners_numbered(tmp_path: Path) -> None:
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path, embeddings=ConceptEmbeddings())
    client = engine_client(engine)
    for user in ODD_USERS[:3]:
        say(client, user, "c1", *TALK, f"{user} planned a family vacation.")
    queries = [(user, q) for user in ODD_USERS[:3] for q in ("hiking Ana", "trip with kids")]
    before = [found(engine, user, q) for user, q in queries]
    numbered = engine.store.query("SELECT name, n FROM scope_tokens")
    engine.close()
    hashes = {
        f"{name[0]}{n}{MARK}": hashed(name[0], name[2:]) for name, n in numbered if name[0] != "c"
    }
    hashes |= {
        f"c{n}{MARK}": hashed("c", f"{hashes[name[2:].split('/')[0]]}/{name.split('/')[-1]}")
        for name, n in numbered
        if name[0] == "c"
    }
    with sqlite3.connect(path) as db:  # its tokens, counts and vectors as format 9 wrote them
        for rowid, scope in db.execute("SELECT rowid, scope FROM memories_fts").fetchall():
            old = " ".join(hashes[token] for token in scope.split())
            db.execute("UPDATE memories_fts SET scope = ? WHERE rowid = ?", (old, rowid))
        for (token,) in db.execute("SELECT token FROM scope_counts").fetchall():
            plain = token.lstrip("+")
            if plain in hashes:
                renamed = token.replace(plain, hashes[plain])
                db.execute("UPDATE scope_counts SET token = ? WHERE token = ?", (renamed, token))
        for seq, owner in db.execute("SELECT seq, owner FROM vectors").fetchall():
            db.execute("UPDATE vectors SET owner = ? WHERE seq = ?", (hashes[owner], seq))
        db.execute("DROP TRIGGER scope_counts_of_format_10")
        # An owner whose memories were all deleted leaves a count of none under its token.
        db.execute("INSERT INTO scope_counts VALUES (?, 0)", (hashed("u", "gone"),))
        db.execute("DROP TABLE scope_tokens")
        db.execute("PRAGMA user_version = 9")
    db.close()

    engine = EmbeddedEngine(path, embeddings=ConceptEmbeddings())
    assert [found(engine, user, q) for user, q in queries] == before
    assert all(len(token) <= 4 and token.endswith(MARK) for token in scopes(engine))
    counted = engine.store.query("SELECT token FROM scope_counts")
    assert all(len(row["token"]) <= 5 for row in counted if row["token"] != "changes")
    owners = engine.store.query("SELECT DISTINCT owner FROM vectors")
    assert len(owners) == 3
    assert all(row["owner"][0] == "u" and row["owner"][1:-1].isdigit() for row in owners)
    engine.store.query("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')")
    # A process of format 9 that had the file open writes its hashed tokens: refused, loudly.
    old_scope = f"{hashed('u', 'dan')} {hashed('c', hashed('u', 'dan') + '/fact')}"
    with (
        pytest.raises(sqlite3.IntegrityError, match="index format 10"),
        engine.store.transaction() as db,
    ):
        scope_counts.added(db, old_scope)
    engine.close()


def test_a_search_during_a_write_taken_back_never_reads_the_number_it_gave() -> None:
    """A search for bob while bob's first write is still open, which then rolls back: the number
    that write gave bob goes to carol, and bob's search must not take carol's memories for his."""
    in_write, end_write, asked, answer = (threading.Event() for _ in range(4))

    class SlowQueries(ConceptEmbeddings):  # an embedding API that takes a while to answer
        def embed_query(self, text: str) -> list[float]:
            asked.set()
            answer.wait(5)
            return super().embed_query(text)

    engine = EmbeddedEngine(":memory:", embeddings=SlowQueries())
    client = engine_client(engine)
    say(client, "alice", "c1", "I like hiking.")
    added = scope_counts.added

    def fail_once(*args: Any) -> None:
        scope_counts.added = added
        in_write.set()
        end_write.wait(5)
        raise OSError("disk full")

    scope_counts.added = fail_once  # type: ignore[assignment]
    try:
        failed: list[BaseException] = []

        def write() -> None:
            try:
                say(client, "bob", "c1", "We plan a vacation.")
            except OSError as error:
                failed.append(error)

        writer = threading.Thread(target=write)
        writer.start()
        in_write.wait(5)
        found_for_bob: list[list[str]] = []
        search = threading.Thread(
            target=lambda: found_for_bob.append(found(engine, "bob", "vacation kids"))
        )
        search.start()
        time.sleep(0.2)  # bob's search asks for bob's token while his write is open
        end_write.set()
        writer.join()
        asked.wait(5)
        say(client, "carol", "c1", "We plan a vacation with the kids, my secret.")
        answer.set()
        search.join()
    finally:
        scope_counts.added = added
    assert [str(error) for error in failed] == ["disk full"]
    assert found_for_bob == [[]]
    assert found(engine, "carol", "vacation kids") == [
        "[user viewpoint] We plan a vacation with the kids, my secret."
    ]


def test_a_commit_that_fails_is_rolled_back_and_said() -> None:
    """A COMMIT SQLite refuses leaves nothing half-done behind: the rollback runs, and so does
    what a rollback must undo (the store forgets the scope numbers given)."""
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(
        "PRAGMA foreign_keys = ON; CREATE TABLE a (id INTEGER PRIMARY KEY);"
        "CREATE TABLE b (a_id INTEGER REFERENCES a (id) DEFERRABLE INITIALLY DEFERRED);"
    )
    said: list[str] = []
    rolled_back = lambda: said.append("rolled back")  # noqa: E731
    # Checked at COMMIT: a row of b without its row of a.
    with (
        pytest.raises(sqlite3.IntegrityError),
        immediate_transaction(db, threading.RLock(), rolled_back),
    ):
        db.execute("INSERT INTO b VALUES (1)")
    assert said == ["rolled back"]
    assert not db.in_transaction
    assert db.execute("SELECT count(*) FROM b").fetchone() == (0,)


def test_an_old_store_opened_by_two_processes_at_once_is_upgraded_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The second opener waits for the first one's upgrade, then finds nothing left to do (it
    used to run the whole upgrade again: seconds at 100k, and not every older step is
    idempotent)."""
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    say(engine_client(engine), "u1", "c1", *TALK)
    engine.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 9")
    db.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # both openers read format 9, then wait for the lock
    opened: list[EmbeddedEngine] = []
    openers = [threading.Thread(target=lambda: opened.append(EmbeddedEngine(path))) for _ in "ab"]
    with caplog.at_level(logging.INFO, logger="langchain_memos.embedded"):
        for opener in openers:
            opener.start()
        time.sleep(0.5)
        holder.execute("COMMIT")
        for opener in openers:
            opener.join()
    holder.close()
    assert [r.getMessage().split(" ")[0] for r in caplog.records] == ["upgrading", "upgraded"]
    assert [len(found(engine, "u1", "hiking lake")) for engine in opened] == [6, 6]
    for engine in opened:
        engine.close()
