"""How many memories each scope holds, kept up to date on write instead of counted on search.

Search weighs a query word by how many of the owner's memories hold it (idf), which needs the
number of memories the owner has. Counted by the full-text index on every search, that number
cost 27 ms at a million memories (the whole owner's doclist read); kept here, it is one row read.
``scope_counts`` holds one row per scope token of the full-text index (an owner, an owner and
kind, see :func:`_store.scope_token`), and one for the whole store (the empty token); and as
many again (:func:`marked`) for the memories of each indexed with the time marker, which a
"when" question scores (in Python past a count, see _bm25.py, so that its idf needs the count
without counting; index format 7). Neither a memory's scope nor its marker changes after it is
written, so insert and delete are the only writers of these rows.

One more row (:data:`CHANGES`) is no scope: how many rows of the full-text index have been
written (a memory inserted or deleted, its body edited, its context columns rewritten when the
turns around it changed: :func:`rewritten`), for how far a word count kept from an earlier
search may be off now (see ``Counted`` in _plan.py). In the database, so that every connection
and every process writing the file bumps it; it only grows (an upgrade keeps it).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence

STORE = ""
"""The token whose count is every memory of the store."""
CHANGES = "changes"
"""The row counting the index rows written (no scope token: those are a letter and digits)."""

_TABLE = (
    "CREATE TABLE IF NOT EXISTS scope_counts (token TEXT PRIMARY KEY, memories INTEGER NOT NULL) "
    "WITHOUT ROWID"
)
SCHEMA = f"{_TABLE};\n"
# A memory's scope tokens, and whether it holds the time marker.
_SCOPE = "SELECT scope, tmp != '' FROM memories_fts"


def _add(db: sqlite3.Connection, counts: Counter[str], sign: int) -> None:
    db.executemany(
        "INSERT INTO scope_counts (token, memories) VALUES (?, ?) "
        "ON CONFLICT (token) DO UPDATE SET memories = memories + excluded.memories",
        [(token, sign * n) for token, n in counts.items()],
    )


def rewritten(db: sqlite3.Connection, rows: int) -> None:
    """Count ``rows`` rows of the full-text index written (inserted, deleted or updated)."""
    if rows:
        _add(db, Counter({CHANGES: rows}), 1)


def marked(token: str) -> str:
    """The token whose count is the memories of ``token`` indexed with the time marker."""
    return "+" + token


def _tokens(scopes: Iterable[tuple[str, bool]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for scope, has_marker in scopes:
        tokens = [STORE, *scope.split()]
        counts.update(tokens)
        if has_marker:
            counts.update(map(marked, tokens))
    return counts


def added(db: sqlite3.Connection, scope: str, has_marker: bool = False) -> None:
    """Count a new memory indexed with the scope tokens ``scope`` (space-separated), and with
    the time marker or not."""
    _add(db, _tokens([(scope, has_marker)]), 1)
    rewritten(db, 1)


def removed(db: sqlite3.Connection, seqs: Sequence[tuple[int]]) -> None:
    """Uncount the memories ``seqs``; call it before their index rows are deleted."""
    scopes = [
        (row[0], bool(row[1]))
        for (seq,) in seqs
        for row in db.execute(_SCOPE + " WHERE rowid = ?", (seq,))
    ]
    _add(db, _tokens(scopes), -1)
    rewritten(db, len(scopes))


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
    """Count the memories of a database made before the counts were kept (index formats 1-3),
    or before the marked ones were (formats 4-6)."""
    db.execute(_TABLE)
    db.execute("DELETE FROM scope_counts WHERE token != ?", (CHANGES,))
    _add(db, _tokens((row[0], bool(row[1])) for row in db.execute(_SCOPE)), 1)
