"""Whose a memory is, as the full-text index holds it: owners numbered by the store (index
format 10) instead of hashed, and each user's searches still their own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _scope_counts as scope_counts
from langchain_memos.embedded._scope_tokens import hashed
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
    # A letter and a number each: 7 users, and each one's facts, events and preferences.
    assert all(len(token) <= 3 for token in scopes(engine))
    assert found(engine, "nobody", "bees") == []


def test_a_query_word_shaped_like_a_token_matches_only_what_was_said() -> None:
    engine = EmbeddedEngine(":memory:")
    client = engine_client(engine)
    say(client, "u1", "c1", *TALK[:3], "We saw U2 play in Dublin.")
    tokens = scopes(engine)
    assert {"u1", "c2"} <= tokens  # the words the next searches ask for
    assert found(engine, "u1", "u1") == found(engine, "u1", "c2") == []
    # The turn that said it, and the two said before it (which hold it as their context).
    assert found(engine, "u1", "u2") == found(engine, "u1", "U2 Dublin")
    assert found(engine, "u1", "u2")[0] == "[user viewpoint] We saw U2 play in Dublin."


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
    hashes = {f"{name[0]}{n}": hashed(name[0], name[2:]) for name, n in numbered if name[0] != "c"}
    hashes |= {
        f"c{n}": hashed("c", f"{hashes[name[2:].split('/')[0]]}/{name.split('/')[-1]}")
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
        db.execute("DROP TABLE scope_tokens")
        db.execute("PRAGMA user_version = 9")
    db.close()

    engine = EmbeddedEngine(path, embeddings=ConceptEmbeddings())
    assert [found(engine, user, q) for user, q in queries] == before
    assert all(len(token) <= 3 for token in scopes(engine))
    counted = engine.store.query("SELECT token FROM scope_counts")
    assert all(len(row["token"]) <= 4 for row in counted if row["token"] != "changes")
    owners = engine.store.query("SELECT DISTINCT owner FROM vectors")
    assert len(owners) == 3
    assert all(row["owner"][0] == "u" and row["owner"][1:].isdigit() for row in owners)
    engine.store.query("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')")
    engine.close()
