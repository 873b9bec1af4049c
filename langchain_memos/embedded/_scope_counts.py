"""How many memories each scope holds, kept up to date on write instead of counted on search.

Search weighs a query word by how many of the owner's memories hold it (idf), which needs the
number of memories the owner has. Counted by the full-text index on every search, that number
cost 27 ms at a million memories (the whole owner's doclist read); kept here, it is one row read.
``scope_counts`` holds one row per scope token of the full-text index (an owner, an owner and
kind, see :func:`_store.scope_token`), and one for the whole store (the empty token). A memory's
scope never changes after it is written, so insert and delete are the only writers.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence

STORE = ""
"""The token whose count is every memory of the store."""

_TABLE = (
    "CREATE TABLE IF NOT EXISTS scope_counts (token TEXT PRIMARY KEY, memories INTEGER NOT NULL) "
    "WITHOUT ROWID"
)
SCHEMA = f"{_TABLE};\n"


def _add(db: sqlite3.Connection, counts: Counter[str], sign: int) -> None:
    db.executemany(
        "INSERT INTO scope_counts (token, memories) VALUES (?, ?) "
        "ON CONFLICT (token) DO UPDATE SET memories = memories + excluded.memories",
        [(token, sign * n) for token, n in counts.items()],
    )


def _tokens(scopes: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for scope in scopes:
        counts[STORE] += 1
        counts.update(scope.split())
    return counts


def added(db: sqlite3.Connection, scope: str) -> None:
    """Count a new memory indexed with the scope tokens ``scope`` (space-separated)."""
    _add(db, _tokens([scope]), 1)


def removed(db: sqlite3.Connection, seqs: Sequence[tuple[int]]) -> None:
    """Uncount the memories ``seqs``; call it before their index rows are deleted."""
    scopes = [
        row[0]
        for (seq,) in seqs
        for row in db.execute("SELECT scope FROM memories_fts WHERE rowid = ?", (seq,))
    ]
    _add(db, _tokens(scopes), -1)


def count(db: sqlite3.Connection, token: str) -> int:
    return counts(db, [token])[token]


def counts(db: sqlite3.Connection, tokens: Sequence[str]) -> dict[str, int]:
    """The memories of each token (0 for a token no memory has), in one read."""
    found = dict.fromkeys(tokens, 0)
    marks = ",".join("?" * len(found))
    for token, n in db.execute(
        f"SELECT token, memories FROM scope_counts WHERE token IN ({marks})", list(found)
    ):
        found[token] = int(n)
    return found


def migrate(db: sqlite3.Connection) -> None:
    """Count the memories of a database made before the counts were kept (index formats 1-3)."""
    db.execute(_TABLE)
    db.execute("DELETE FROM scope_counts")
    _add(db, _tokens(row[0] for row in db.execute("SELECT scope FROM memories_fts")), 1)
