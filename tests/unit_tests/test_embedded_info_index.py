"""The embedded engine's index of info fields: filters read through it, and older files gain it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from langchain_memos import ConfigurationError, MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._store import INDEX_VERSION


def add(client: MemOSClient, text: str, info: dict[str, object]) -> None:
    client.add_message(
        [{"role": "user", "content": text}],
        user_id="u1",
        conversation_id="c1",
        info=info,  # type: ignore[arg-type]
        async_mode=False,
    )


def found(client: MemOSClient, **conditions: str) -> list[str]:
    where = {"and": [{key: value} for key, value in conditions.items()]}
    page = client.get_memory(user_id="u1", filter=where, include_preference=False)
    return sorted(m.memory_value or "" for m in page.memory_detail_list)


def test_info_filters_compare_as_before() -> None:
    client = MemOSClient(embedded=EmbeddedEngine(":memory:"))
    add(client, "Booked the hotel in Guangzhou", {"scene": "trip", "day": 3, "who": ["a", "b"]})
    add(client, "Paid the electricity bill", {"scene": "home", "day": 3})
    assert found(client, scene="trip") == ["[user viewpoint] Booked the hotel in Guangzhou"]
    assert len(found(client, day="3")) == 2  # numbers compare as their text
    assert found(client, scene="trip", day="4") == []
    assert found(client, who='["a","b"]') == ["[user viewpoint] Booked the hotel in Guangzhou"]
    assert found(client, scene="nowhere") == []


NUMBERS: dict[str, object] = {"ratio": 1 / 3, "big": 2**64, "tiny": 1e-07, "zero": -0.0}


def test_a_number_compares_as_str_writes_it() -> None:
    """What a caller is told to send for a number (filters.py: "convert numbers with str()")."""
    client = MemOSClient(embedded=EmbeddedEngine(":memory:"))
    add(client, "Measured the ratio", NUMBERS)
    for key, value in NUMBERS.items():
        assert found(client, **{key: str(value)}) == ["[user viewpoint] Measured the ratio"], key
    assert found(client, ratio="0.333333333333333") == []  # SQLite's 15 digits, formats 1-7


def test_a_database_of_index_format_7_has_its_numbers_indexed_again(tmp_path: Path) -> None:
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    add(MemOSClient(embedded=engine), "Measured the ratio", {**NUMBERS, "scene": "lab"})
    engine.close()
    with sqlite3.connect(path) as db:  # as format 7 indexed the info
        db.execute("DELETE FROM memory_info")
        db.execute(
            "INSERT INTO memory_info SELECT m.seq, j.key, CAST(j.value AS TEXT) "
            "FROM memories m, json_each(m.info) j"
        )
        db.execute("PRAGMA user_version = 7")
    db.close()

    client = MemOSClient(embedded=EmbeddedEngine(path))
    assert found(client, ratio=str(1 / 3), scene="lab") == ["[user viewpoint] Measured the ratio"]
    assert found(client, big=str(2**64), tiny="1e-07") == ["[user viewpoint] Measured the ratio"]


def test_a_deleted_memory_leaves_the_index() -> None:
    engine = EmbeddedEngine(":memory:")
    client = MemOSClient(embedded=engine)
    add(client, "Booked the hotel in Guangzhou", {"scene": "trip"})
    (memory,) = client.get_memory(user_id="u1", include_preference=False).memory_detail_list
    assert memory.id is not None
    client.delete_memory(memory_ids=[memory.id])
    assert found(client, scene="trip") == []
    assert engine.store.query("SELECT count(*) FROM memory_info")[0][0] == 0


def test_a_database_of_index_format_1_gains_the_index_when_opened(tmp_path: Path) -> None:
    path = str(tmp_path / "memos.db")
    engine = EmbeddedEngine(path)
    add(MemOSClient(embedded=engine), "Booked the hotel in Guangzhou", {"scene": "trip"})
    engine.close()
    with sqlite3.connect(path) as db:  # as the engine before the index left it
        db.execute("DROP TABLE memory_info")
        db.execute("PRAGMA user_version = 1")
    db.close()

    engine = EmbeddedEngine(path)
    client = MemOSClient(embedded=engine)
    assert found(client, scene="trip") == ["[user viewpoint] Booked the hotel in Guangzhou"]
    assert engine.store.query("PRAGMA user_version")[0][0] == INDEX_VERSION
    engine.close()


def test_a_database_of_a_later_format_is_still_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "memos.db")
    EmbeddedEngine(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 11")
    db.close()
    with pytest.raises(ConfigurationError, match="another version of the embedded engine"):
        EmbeddedEngine(path)
