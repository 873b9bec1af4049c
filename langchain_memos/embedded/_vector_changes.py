"""Which memories' vectors changed, in order, so that an engine sharing the file with another
process can bring its in-memory vectors up to date without reading them all again.

Each memory row whose vector is written, rewritten or deleted keeps one row here: its seq and
the number of the change, one more than any before it. A row number SQLite reuses (it gives a
deleted newest row's number to the next row) or a memory edited in place thus shows up as a
change, which a vector index cannot tell from its rows alone. The table holds one row per memory
that ever had a vector (about 20 bytes each); a store without vectors writes none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

__all__ = ["SCHEMA", "changed", "latest", "remove", "since"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS vector_changes (
    seq INTEGER PRIMARY KEY,
    n INTEGER NOT NULL UNIQUE
);
"""

_RECORD = (
    "INSERT OR REPLACE INTO vector_changes (seq, n) "
    "VALUES (?, (SELECT coalesce(max(n), 0) + 1 FROM vector_changes))"
)


def changed(db: sqlite3.Connection, seqs: Iterable[int]) -> None:
    """Record that the vectors of these memory rows were written or removed (in a write)."""
    db.executemany(_RECORD, ((seq,) for seq in seqs))


def remove(db: sqlite3.Connection, seqs: Iterable[int]) -> None:
    """Delete the vectors of these memory rows, recording the change of each that had one (in a
    write; a store without vectors is not touched)."""
    if db.execute("SELECT 1 FROM vectors LIMIT 1").fetchone() is None:
        return
    delete = "DELETE FROM vectors WHERE seq = ?"
    changed(db, [seq for seq in seqs if db.execute(delete, (seq,)).rowcount])


def latest(db: sqlite3.Connection) -> int:
    """The number of the last change recorded."""
    found: int = db.execute("SELECT coalesce(max(n), 0) FROM vector_changes").fetchone()[0]
    return found


def since(db: sqlite3.Connection, n: int) -> tuple[list[int], int]:
    """The memory rows changed after change ``n``, and the number of the last change."""
    rows = db.execute("SELECT seq, n FROM vector_changes WHERE n > ?", (n,)).fetchall()
    return [row[0] for row in rows], max((row[1] for row in rows), default=n)
