"""What the embedded engine's store and the outbox share: how to tell their files from others'
SQLite files without touching them, and one way to write to SQLite."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote

__all__ = ["foreign_database", "immediate_transaction", "read_only_tables"]

_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100
_APPLICATION_ID_OFFSET = 68


def foreign_database(path: str, *, application_id: int, own_table: str) -> str | None:
    """Why the file at ``path`` is not a database of ours, or ``None`` if it may be used.

    Ours: a database whose header carries ``application_id``, or one without any (0) that is
    empty of tables or holds ``own_table``. An empty file is a new database. Reads the file
    (its header, then its tables through a read-only connection) and writes nothing.

    Raises:
        OSError: the file cannot be read.
        sqlite3.Error: its tables cannot be read.
    """
    with open(path, "rb") as file:
        header = file.read(_HEADER_BYTES)
    if not header:
        return None
    if not header.startswith(_MAGIC) or len(header) < _HEADER_BYTES:
        return "is not a SQLite database"
    offset = _APPLICATION_ID_OFFSET
    found = int.from_bytes(header[offset : offset + 4], "big")
    if found == application_id and found != 0:
        return None
    if found != 0:
        return f"is another application's SQLite database (application_id {found:#010x})"
    tables = read_only_tables(path)
    if tables and own_table not in tables:
        return f"is another application's SQLite database (tables {', '.join(sorted(tables)[:5])})"
    return None


def read_only_tables(path: str) -> set[str]:
    """The tables of the database at ``path``, read through a read-only connection."""
    uri = "file:" + quote(os.path.abspath(path)) + "?mode=ro"
    connection = sqlite3.connect(uri, uri=True)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(name) for (name,) in rows}
    finally:
        connection.close()


@contextmanager
def immediate_transaction(
    db: sqlite3.Connection,
    lock: threading.Lock | threading.RLock,
    on_rollback: Callable[[], object] | None = None,
    on_commit: Callable[[], object] | None = None,
) -> Iterator[sqlite3.Connection]:
    """Hold ``lock`` and a write transaction on ``db`` (autocommit mode): commit (and then call
    ``on_commit``), or roll back (and then call ``on_rollback``), still holding the lock.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so a transaction that reads before it
    writes cannot fail halfway on another process's write.
    """
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")  # a COMMIT that fails (a full disk) is rolled back too
        except BaseException:
            try:
                if db.in_transaction:  # SQLite already rolled back after some errors (SQLITE_FULL)
                    db.execute("ROLLBACK")
            finally:
                if on_rollback is not None:
                    on_rollback()
            raise
        if on_commit is not None:
            on_commit()
