"""What a full-text match brings a search: a memory, its bm25, and the indexed words it is
ranked by (read from the index's columns, see _store.py's ``memories_fts``)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from langchain_memos.embedded import _bodies as bodies

# The full-text index's columns, in its order, as a candidate carries them.
_INDEXED = ("scope", "body", "spk", "ctx1", "ctx2", "date", "tmp")


def indexed(table: str, whole: bool = False) -> str:
    """A candidate's text from ``table``'s index columns: its own words and their context, or
    (``whole``, for _bm25) every column."""
    if whole:
        return ", ".join(f"{table}.{column} AS fts_{column}" for column in _INDEXED)
    return (
        f"{table}.body || ' ' || {table}.spk || ' ' || {table}.date AS own, {table}.ctx1 AS context"
    )


@dataclass
class Candidate:
    seq: int
    kind: str
    conversation_id: str | None
    create_time: int
    body: dict[str, Any]
    bm25: float
    own: str
    context: str
    info: str = "{}"
    # Its full-text index columns (scope, body, spk, ctx1, ctx2, date, tmp), when _bm25 needs them.
    columns: tuple[str, ...] = ()


def candidate(row: sqlite3.Row, scale: int = 1, whole: bool = False) -> Candidate:
    """A candidate from a row selected with :func:`indexed` (``whole`` alike), whose ``score``
    is bm25 counted ``scale`` times over."""
    columns: tuple[str, ...] = ()
    if whole:
        columns = tuple(row[f"fts_{column}"] or "" for column in _INDEXED)
        _, body, spk, ctx1, _, date, _ = columns
        own, context = f"{body} {spk} {date}", ctx1
    else:
        own, context = row["own"], row["context"]
    return Candidate(
        seq=row["seq"],
        kind=row["kind"],
        conversation_id=row["conversation_id"],
        create_time=row["create_time"],
        body=bodies.read(row),
        bm25=-row["score"] / scale,
        own=own,
        context=context,
        info=row["info"],
        columns=columns,
    )
