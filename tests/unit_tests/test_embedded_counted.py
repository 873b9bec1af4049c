"""The counts of common words a store keeps between searches (issue 13, see ``Counted`` in
_plan.py): reused only while the rows written since, by any writer, are within the bound; a rare
word, and every word of a small store, counted on every search."""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded import _plan as plan
from tests.unit_tests.engine_talk import engine_client, say

_WORDS = {"apple": ["apple"], "pear": ["pear"]}


def _say(client: MemOSClient, conversation: str, *texts: str) -> None:
    say(client, "u1", conversation, *texts)


def _apples(client: MemOSClient, conversation: str, n: int) -> None:
    _say(client, conversation, *(f"Apple number {i} was on the table." for i in range(n)))


def _found(client: MemOSClient, query: str) -> list[tuple[str, float]]:
    found = client.search_memory(query, user_id="u1", relativity=0)
    return [(m.memory_value or "", m.relativity or 0.0) for m in found.memory_detail_list]


def _counts(engine: EmbeddedEngine, kept: bool = True) -> dict[str, int]:
    """The counts a search of u1 would weigh the words by (kept: as the engine searches)."""
    with engine.store.snapshot() as db:
        counted = engine.store.counted if kept else None
        return plan.frequencies(db, [engine.store.tokens.token("u", "u1")], _WORDS, counted)[1]


@pytest.fixture
def common_at_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    """A word held by more than 10 memories is common (the store is too small for 5,000), and
    a count is reused while the rows written since are at most a fifth of it."""
    monkeypatch.setattr(plan, "COMMON_MEMORIES", 10)
    monkeypatch.setattr(plan, "COMMON_SHARE", 0.0)
    monkeypatch.setattr(plan, "REUSE_SHARE", 0.2)


@pytest.mark.usefixtures("common_at_ten")
def test_a_common_word_count_is_reused_until_writes_pass_the_bound() -> None:
    engine = EmbeddedEngine(":memory:")
    client = engine_client(engine)
    _apples(client, "c1", 40)
    _say(client, "c0", "A pear was on the table.")
    assert _counts(engine) == {"apple": 40, "pear": 1}
    _apples(client, "c2", 1)  # a few rows written: within a fifth of 40
    assert _counts(engine, kept=False)["apple"] == 41
    assert _counts(engine)["apple"] == 40
    _apples(client, "c3", 10)
    assert _counts(engine) == _counts(engine, kept=False) == {"apple": 51, "pear": 1}


@pytest.mark.usefixtures("common_at_ten")
def test_a_common_word_count_is_reused_until_deletes_pass_the_bound() -> None:
    engine = EmbeddedEngine(":memory:")
    client = engine_client(engine)
    _apples(client, "c1", 40)
    _apples(client, "c2", 1)
    _apples(client, "c3", 10)
    assert _counts(engine)["apple"] == 51
    client.delete_memory(filter={"and": [{"conversation_id": "c2"}]})
    assert _counts(engine, kept=False)["apple"] == 50
    assert _counts(engine)["apple"] == 51
    # As many rows deleted as inserted leave the store's size as it was: still refreshed.
    _apples(client, "c4", 10)
    client.delete_memory(filter={"and": [{"conversation_id": "c3"}]})
    assert _counts(engine) == _counts(engine, kept=False) == {"apple": 50, "pear": 0}


@pytest.mark.usefixtures("common_at_ten")
def test_a_rare_word_is_counted_on_every_search() -> None:
    engine = EmbeddedEngine(":memory:")
    client = engine_client(engine)
    _apples(client, "c1", 40)
    _say(client, "c0", *(f"Pear number {i} was ripe." for i in range(10)))
    assert _counts(engine) == {"apple": 40, "pear": 10}
    # One row: within a fifth of the pears as well, were their count kept.
    _say(client, "c2", "The pear was ripe.")
    assert _counts(engine) == {"apple": 40, "pear": 11}


@pytest.mark.usefixtures("common_at_ten")
def test_writes_of_another_connection_to_the_file_refresh_the_counts(tmp_path: Path) -> None:
    """A second engine (as another process would) writes the file: the first one's kept counts
    are refreshed once its writes pass the bound."""
    path = str(tmp_path / "memories.db")
    reader = EmbeddedEngine(path)
    writer = EmbeddedEngine(path)
    client = engine_client(writer)
    _apples(client, "c1", 40)
    assert _counts(reader)["apple"] == 40
    _apples(client, "c2", 1)
    assert _counts(reader)["apple"] == 40
    _apples(client, "c3", 10)
    assert _counts(reader)["apple"] == 51
    writer.close()
    reader.close()


def test_a_small_store_searches_as_if_nothing_were_kept() -> None:
    """Under the default thresholds no word of a small store is common: searches between
    writes find what a store written at once finds, with the same relativity."""
    queries = ("What fruit was on the table?", "apple", "Where was the pear?")
    between = EmbeddedEngine(":memory:")
    client = engine_client(between)
    _apples(client, "c1", 30)
    first = [_found(client, q) for q in queries]
    _say(client, "c2", "A pear was on the table.", "The apple tree was in bloom.")
    found = [_found(client, q) for q in queries]
    assert first != found
    at_once = engine_client()
    _apples(at_once, "c1", 30)
    _say(at_once, "c2", "A pear was on the table.", "The apple tree was in bloom.")
    assert found == [_found(at_once, q) for q in queries]
    assert len(between.store.counted) == 0


@pytest.mark.usefixtures("common_at_ten")
def test_edits_count_as_rows_written() -> None:
    engine = EmbeddedEngine(":memory:")
    client = engine_client(engine)
    _apples(client, "c1", 40)
    assert _counts(engine)["apple"] == 40
    apples = [
        m.id or ""
        for m in client.get_memory(user_id="u1", size=50).memory_detail_list
        if "Apple" in (m.memory_value or "")
    ]
    for memory_id in apples[:12]:
        client.update_memory(memory_id, content="The plum was on the table.")
    assert _counts(engine) == _counts(engine, kept=False) == {"apple": 28, "pear": 0}
