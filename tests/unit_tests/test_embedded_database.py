"""Which files the embedded engine takes as its database; what it refuses, it leaves untouched."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from langchain_memos import ConfigurationError, InternalServerError, MemOSClient
from langchain_memos.embedded import EmbeddedEngine, open_engine
from langchain_memos.types import MessageInput


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_a_path_in_a_missing_directory_is_refused_not_created(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "memos.db"
    with pytest.raises(ConfigurationError, match=r"directory .*no/such does not exist"):
        open_engine(path)
    with pytest.raises(ConfigurationError, match="does not exist"):
        MemOSClient(embedded=str(path))
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("kind", ["tables", "application_id"])
def test_another_applications_database_is_refused_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "theirs.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)")
        db.execute("INSERT INTO orders (total) VALUES (9.5)")
        if kind == "application_id":
            db.execute("PRAGMA application_id = 1234")
    db.close()
    before = snapshot(tmp_path)
    with pytest.raises(ConfigurationError, match=r"theirs\.db is another application's"):
        EmbeddedEngine(str(path))
    # Byte for byte: no journal mode switched to WAL, no -wal or -shm file, no schema added.
    assert snapshot(tmp_path) == before


def test_another_applications_database_in_wal_mode_or_locked_is_refused_untouched_at_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "theirs.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA application_id = 1234")
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    db.close()
    before = snapshot(tmp_path)
    with pytest.raises(ConfigurationError, match=r"application_id 0x000004d2"):
        EmbeddedEngine(str(path))
    assert snapshot(tmp_path) == before  # no -wal or -shm made beside it
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")
    holder.execute("BEGIN EXCLUSIVE")  # their application, in the middle of a write
    try:
        with pytest.raises(ConfigurationError, match=r"application_id 0x000004d2"):
            EmbeddedEngine(str(path))  # told from its header, without waiting for their lock
    finally:
        holder.close()


@pytest.mark.parametrize("name", [b"\xff.db", b"memos.db"])
def test_the_engines_own_file_opens_again_by_any_name_the_file_system_gives(
    tmp_path: Path, name: bytes
) -> None:
    """A name that is not UTF-8 (Python decodes it with escapes), a path written with //."""
    path = f"/{tmp_path}/{os.fsdecode(name)}"
    EmbeddedEngine(path).close()
    engine = EmbeddedEngine(path)  # the second open reads the file's header
    engine.close()


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("my notes, not a database")
    with pytest.raises(ConfigurationError, match="is not a SQLite database"):
        EmbeddedEngine(str(path))
    assert snapshot(tmp_path) == {"notes.db": b"my notes, not a database"}


def test_uris_and_paths_that_name_no_file_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for uri in ("file:/x?mode=ro", f"file:{tmp_path}/x.db", "sqlite:///x.db"):
        with pytest.raises(ConfigurationError, match="is a URI"):
            open_engine(uri)
    assert list(tmp_path.iterdir()) == []  # no file: directory tree
    with pytest.raises(ConfigurationError, match="/dev/null is not a directory"):
        open_engine("/dev/null/memos.db")
    with pytest.raises(ConfigurationError, match="not a regular file"):
        EmbeddedEngine(str(tmp_path))


def test_the_engines_own_databases_open_again(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    for path in (tmp_path / "new.db", empty):
        engine = EmbeddedEngine(str(path))
        engine.close()
        EmbeddedEngine(str(path)).close()


def test_a_database_made_before_the_application_id_opens(tmp_path: Path) -> None:
    path = tmp_path / "older.db"
    EmbeddedEngine(str(path)).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA application_id = 0")
    db.close()
    EmbeddedEngine(str(path)).close()


def test_engines_opening_one_new_file_at_once_all_open_it(tmp_path: Path) -> None:
    """Several engines (threads here, processes alike) making the same new file at once: none
    may see it half made (tables without their version, or being switched to WAL) and refuse it
    as another version's or another application's."""
    refused: list[str] = []
    for attempt in range(15):
        path = str(tmp_path / f"memos-{attempt}.db")
        start = threading.Barrier(6)

        def open_it(path: str = path, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                EmbeddedEngine(path).close()
            except ConfigurationError as error:
                refused.append(str(error))

        threads = [threading.Thread(target=open_it) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert refused == []


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_file_taken_away_while_open_takes_no_write_said_stored(tmp_path: Path, how: str) -> None:
    """SQLite goes on writing to a file deleted or replaced (a backup restored over it), and
    the engine answered success for writes that were gone with the process (a red team)."""
    path = tmp_path / "memos.db"
    client = MemOSClient(embedded=EmbeddedEngine(str(path)), max_retries=0)
    said: list[MessageInput] = [{"role": "user", "content": "I moved to Berlin."}]
    client.add_message(said, user_id="u1", conversation_id="c1", async_mode=False)
    if how == "deleted":
        path.unlink()
    else:
        MemOSClient(embedded=EmbeddedEngine(str(tmp_path / "backup.db"))).close()
        os.replace(tmp_path / "backup.db", path)
    with pytest.raises(InternalServerError, match="deleted or replaced") as refused:
        client.add_message(said, user_id="u1", conversation_id="c2", async_mode=False)
    assert refused.value.code == 50144  # not written: a client (an outbox) sends it again


def test_a_damaged_file_is_a_memos_error_that_says_so(tmp_path: Path) -> None:
    """Damaged under an open engine (a bad restore, a disk that filled while copying): a raw
    sqlite3.DatabaseError escaped the client before (a red team)."""
    path = tmp_path / "memos.db"
    client = MemOSClient(embedded=EmbeddedEngine(str(path)), max_retries=0)
    for n in range(200):  # pages enough to damage
        said: list[MessageInput] = [
            {"role": "user", "content": f"I like topic{n} and more words about the lake."}
        ]
        client.add_message(said, user_id="u1", conversation_id="c1", async_mode=False)
    other = sqlite3.connect(path)
    other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    other.close()
    with open(path, "r+b") as file:  # half of it gone
        file.truncate(path.stat().st_size // 2)
    with pytest.raises(InternalServerError, match="is damaged"):
        client.search_memory("topic150 topic10 more words", user_id="u1")


def test_a_made_database_opens_while_another_process_writes(tmp_path: Path) -> None:
    """Every open took the write lock to make the schema, even of a file made long ago: an
    engine opened while another process wrote a large file for over 5 s failed with
    'database is locked' (a crash red team)."""
    path = tmp_path / "memos.db"
    made = MemOSClient(embedded=EmbeddedEngine(str(path)))
    said: list[MessageInput] = [{"role": "user", "content": "I like the lake."}]
    made.add_message(said, user_id="u1", conversation_id="c1", async_mode=False)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process, in the middle of a long write
    try:
        opened = MemOSClient(embedded=EmbeddedEngine(str(path)), max_retries=0)
        found = opened.search_memory("lake", user_id="u1").memory_detail_list
        assert [m.memory_value for m in found] == ["[user viewpoint] I like the lake."]
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_an_engine_opened_by_a_relative_path_writes_after_a_change_of_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its file was looked for at the relative path from the new directory, found missing, and
    every write refused as to a file deleted (a review)."""
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    client = MemOSClient(embedded=EmbeddedEngine("memos.db"), max_retries=0)
    monkeypatch.chdir(tmp_path / "elsewhere")
    said: list[MessageInput] = [{"role": "user", "content": "I like the lake."}]
    assert client.add_message(said, user_id="u1", conversation_id="c1", async_mode=False).success


def test_a_file_replaced_under_the_process_engine_is_opened_anew(tmp_path: Path) -> None:
    """The error says to open the engine again, but open_engine gave back the same engine (a
    review); a closed one likewise."""
    path = tmp_path / "memos.db"
    first = open_engine(str(path))
    MemOSClient(embedded=EmbeddedEngine(str(tmp_path / "backup.db"))).close()
    os.replace(tmp_path / "backup.db", path)
    again = open_engine(str(path))
    assert again is not first
    said: list[MessageInput] = [{"role": "user", "content": "I like the lake."}]
    client = MemOSClient(embedded=str(path), max_retries=0)
    assert client.add_message(said, user_id="u1", conversation_id="c1", async_mode=False).success
    again.close()
    assert open_engine(str(path)) is not again
