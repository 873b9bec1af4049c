"""A memory's words leave the index when it is deleted or edited: the turns around it, which are
indexed with their neighbours' words, no longer carry them (issue 13)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._text import STOPWORDS, index_text

TURNS = [
    "We walked the dog along the canal before breakfast.",
    "My sister Ingrid flies in from Oslo on Friday.",
    "My PIN is 4921, keep it between us.",
    "Ingrid wants to see the botanical garden.",
    "The garden closes at six on weekdays.",
]
SECRET = "PIN 4921"
REMINDER = "Remember that my PIN is 4921."


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "memories.db")


def make(path: str) -> MemOSClient:
    return MemOSClient(embedded=EmbeddedEngine(path), max_retries=0)


def say(
    client: MemOSClient, turns: list[str], user: str = "u1", conversation: str = "c1", **kw: Any
) -> None:
    messages: Any = [{"role": "user", "content": text} for text in turns]
    client.add_message(messages, user_id=user, conversation_id=conversation, async_mode=False, **kw)


def recall(client: MemOSClient, query: str, user: str = "u1") -> list[str]:
    """Every fact the query matches at all (relativity 0), most relevant first."""
    found = client.search_memory(
        query, user_id=user, include_preference=False, relativity=0, memory_limit_number=25
    )
    return [m.memory_value or "" for m in found.memory_detail_list]


def ids_of(client: MemOSClient, user: str = "u1") -> dict[str, str]:
    """The user's facts' ids by the turn they hold."""
    page = client.get_memory(user_id=user, size=50)
    return {
        next(text for text in [*TURNS, REMINDER] if text in (m.memory_value or "")): m.id or ""
        for m in page.memory_detail_list
        if any(text in (m.memory_value or "") for text in [*TURNS, REMINDER])
    }


def check_index(path: str) -> None:
    """FTS5 agrees with itself, and every turn is indexed with the words of the turns one and two
    places around it in its conversation as they are now (what a fresh write would index)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        db.execute("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')")
        rows = db.execute(
            "SELECT m.seq, m.user_id, m.agent_id, m.conversation_id, m.text, f.ctx1, f.ctx2 "
            "FROM memories m JOIN memories_fts f ON f.rowid = m.seq "
            "WHERE m.kind = 'fact' ORDER BY m.seq"
        ).fetchall()
    finally:
        db.close()
    turns: dict[tuple[str, str], list[sqlite3.Row]] = {}
    for row in rows:
        if row["text"]:
            # A user's conversation, or an agent's own (under no user).
            owner = row["user_id"] or f"agent {row['agent_id']}"
            turns.setdefault((owner, row["conversation_id"]), []).append(row)
        else:
            assert (row["ctx1"], row["ctx2"]) == ("", ""), "a memory that is no turn has context"
    for conversation in turns.values():
        words = [index_text(row["text"]) for row in conversation]
        for i, row in enumerate(conversation):
            expected = (_at(words, i, (-1, 1)), _at(words, i, (-2, 2)))
            assert (row["ctx1"], row["ctx2"]) == expected, row["text"]


def _at(words: list[str], i: int, offsets: tuple[int, int]) -> str:
    """The content words (no stop words) of the turns at ``offsets`` from turn ``i``."""
    near = [words[i + d] for d in offsets if 0 <= i + d < len(words)]
    return " ".join(w for text in near for w in text.split() if w not in STOPWORDS)


def test_a_deleted_turns_words_find_nothing_and_its_neighbours_still_find_each_other(
    path: str,
) -> None:
    client = make(path)
    say(client, TURNS)
    assert len(recall(client, SECRET)) == 5  # the turn, and through it its four neighbours
    client.delete_memory(memory_ids=[ids_of(client)[TURNS[2]]])
    assert recall(client, SECRET) == []
    # Now next to each other, Ingrid's arrival and her wish find each other.
    found = recall(client, "Oslo")
    assert any(TURNS[1] in text for text in found)
    assert any(TURNS[3] in text for text in found)
    check_index(path)


def test_an_edited_turns_old_words_no_longer_find_the_turns_around_it(path: str) -> None:
    client = make(path)
    say(client, TURNS)
    client.update_memory(ids_of(client)[TURNS[2]], content="The user keeps their PIN private.")
    assert recall(client, "4921") == []
    # The edit holds the caller's words, not a turn: it neither carries the words of the turns
    # that were around it nor lends them its own.
    assert [text for text in recall(client, "PIN")] == ["The user keeps their PIN private."]
    assert not any("PIN" in text for text in recall(client, "Oslo"))
    check_index(path)


@pytest.mark.parametrize(
    "forget",
    [
        "ids",
        "filter",
        "conversation",
        "user",
    ],
)
def test_every_way_of_deleting_leaves_no_word_behind(path: str, forget: str) -> None:
    client = make(path)
    say(client, TURNS[:1])
    say(client, TURNS[1:4], tags=["private"])
    say(client, TURNS[4:])
    say(client, [REMINDER], conversation="c2", tags=["private"])
    say(client, ["Ingrid said the garden was lovely."], user="u2")
    ids = ids_of(client)
    if forget == "ids":
        client.delete_memory(
            memory_ids=[ids[TURNS[1]], ids[TURNS[2]], ids[TURNS[3]], ids[REMINDER]]
        )
    elif forget == "filter":  # in both conversations
        client.delete_memory(filter={"and": [{"tags": {"contains": "private"}}]})
    elif forget == "conversation":
        client.delete_memory(filter={"and": [{"conversation_id": "c2"}]})
        client.delete_memory(memory_ids=[ids[TURNS[2]]])
    else:
        client.delete_memory(user_id="u1")
    assert recall(client, SECRET) == []
    assert recall(client, "Ingrid", user="u2") == [
        "[user viewpoint] Ingrid said the garden was lovely."
    ]
    check_index(path)


def test_random_deletes_and_edits_keep_every_turn_indexed_with_the_turns_around_it(
    path: str,
) -> None:
    client = make(path)
    rng = random.Random(13)
    for conversation in ("c1", "c2"):
        say(
            client,
            [f"{conversation} turn {n} word{n}" for n in range(40)],
            conversation=conversation,
        )
        say(
            client, [f"{conversation} later turn {n}" for n in range(20)], conversation=conversation
        )
    ids = [
        m.id or ""
        for page in (1, 2, 3)
        for m in client.get_memory(user_id="u1", size=50, page=page).memory_detail_list
    ]
    assert len(ids) == 120
    rng.shuffle(ids)
    for _ in range(4):  # scattered ids and consecutive runs, then an edit, in one database
        chosen = ids[:12]
        del ids[:12]
        client.delete_memory(memory_ids=chosen)
        client.update_memory(ids.pop(), content="Edited by the user.")
        check_index(path)


def test_an_agents_own_conversation_forgets_alike(path: str) -> None:
    client = make(path)
    for turn in TURNS:  # one add each: the turns around are those stored before, as for a user
        client.add_message(
            [{"role": "assistant", "content": turn}], agent_id="a1", conversation_id="c1"
        )
    client.add_message(
        [{"role": "assistant", "content": REMINDER}], agent_id="a2", conversation_id="c1"
    )
    found = client.search_memory(SECRET, agent_id="a1", relativity=0).memory_detail_list
    assert len(found) == 5
    client.delete_memory(memory_ids=[m.id or "" for m in found if "4921" in (m.memory_value or "")])
    assert client.search_memory(SECRET, agent_id="a1", relativity=0).memory_detail_list == []
    check_index(path)
