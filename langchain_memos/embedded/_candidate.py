"""What a full-text match brings a search: a memory, its bm25, and the indexed words it is
ranked by (read from the index's columns, see _store.py's ``memories_fts``)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from langchain_memos.embedded import _bodies as bodies

# The full-text index's columns, in its order, as a candidate carries them.
_INDEXED = ("scope", "body", "spk", "ctx1", "ctx2", "date", "tmp")
_WHOLE = tuple(f"fts_{column}" for column in _INDEXED)  # as :func:`indexed` names them


def indexed(table: str, whole: bool = False) -> str:
    """A candidate's text from ``table``'s index columns: its own words and their context, or
    (``whole``, for _bm25) every column."""
    if whole:
        return ", ".join(f"{table}.{column} AS fts_{column}" for column in _INDEXED)
    return (
        f"{table}.body || ' ' || {table}.spk AS own, {table}.date AS dated, {table}.ctx1 AS context"
    )


@dataclass
class Candidate:
    """A match, its memory read whole (:attr:`body`) only if asked: a search reads dozens and
    shows a few, and a fast-mode fact's keywords, key and value are worked out on reading."""

    seq: int
    row: bodies.Row
    stored: str  # the body column
    bm25: float
    own: str  # its text and speaker, as indexed
    context: str
    dated: str = ""  # when it was said, as indexed ("10 August 2025 Sunday")
    info: str = "{}"
    # Its full-text index columns (scope, body, spk, ctx1, ctx2, date, tmp), when _bm25 needs them.
    columns: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.row.kind

    @property
    def conversation_id(self) -> str | None:
        return self.row.conversation_id

    @property
    def create_time(self) -> int:
        return self.row.create_time

    @cached_property
    def body(self) -> dict[str, Any]:
        """The memory, as get/memory gives it."""
        return bodies.unpack(self.row, self.stored)

    @cached_property
    def _parsed(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.stored)
        return parsed

    @cached_property
    def sources(self) -> Any:
        """The memory's ``sources``, as :attr:`body` holds them."""
        parsed = self._parsed
        return bodies.sources(self.row, parsed, parsed.get(bodies.ABSENT, ()))

    @property
    def text(self) -> str:
        """Its text, as :func:`memory_text` reads it from :attr:`body`: a fact's value worked
        out alone, since a search asks it of memories it may never show."""
        value = bodies.memory_value(self.row, self._parsed)
        return str(value) if value else bodies.memory_text(self.body)

    @property
    def turn(self) -> str:
        """The text its first source quotes (what a turn answering or echoing it links to),
        "None" if none: worked out from the row where the stored body leaves it to the row, as
        fast mode's facts without links do, without parsing the body."""
        if '"sources"' not in self.stored:
            return "None"
        if (
            self.kind == "fact"
            and self.row.text
            and self.stored.startswith('{"sources":[{')
            and '"content"' not in self.stored
            and bodies.ABSENT not in self.stored
        ):
            return self.row.text  # its first source's content, left out as the row's text
        sources = self.sources
        first = sources[0] if isinstance(sources, list) and sources else None
        return str(first.get("content") if isinstance(first, dict) else None)

    @property
    def links(self) -> list[dict[str, Any]]:
        """Its second and third sources, those that say how its turn relates to others ("answers",
        "restates", "confirms"); none unless a source has a relation."""
        if '"relation"' not in self.stored or not isinstance(self.sources, list):
            return []
        return [s for s in self.sources[1:3] if isinstance(s, dict)]

    def has_tag(self, tag: str) -> bool:
        return bodies.may_have_tag(self.row, self.stored, tag) and bodies.has_tag(
            self.row, self._parsed, tag
        )


def candidate(row: sqlite3.Row, scale: int = 1, whole: bool = False) -> Candidate:
    """A candidate from a row selected with :func:`indexed` (``whole`` alike), whose ``score``
    is bm25 counted ``scale`` times over."""
    columns: tuple[str, ...] = ()
    if whole:
        columns = tuple(row[name] or "" for name in _WHOLE)
        _, body, spk, ctx1, _, date, _ = columns
        own, dated, context = f"{body} {spk}", date, ctx1
    else:
        own, dated, context = row["own"], row["dated"], row["context"]
    return Candidate(
        seq=row["seq"],
        row=bodies.Row.of(row),
        stored=row["body"],
        bm25=-row["score"] / scale,
        own=own,
        dated=dated or "",
        context=context,
        info=row["info"],
        columns=columns,
    )
