"""How memories reach the database: embedded, indexed for full text and vectors, inserted or
rewritten. Every way of making or changing a memory goes through :class:`Writer`."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from langchain_memos.embedded import _bodies as bodies
from langchain_memos.embedded import _scope_counts as scope_counts
from langchain_memos.embedded import _scope_tokens as scope_tokens
from langchain_memos.embedded import _vector_changes as vector_changes
from langchain_memos.embedded._context import TURN, refresh_context, update_context
from langchain_memos.embedded._store import Store
from langchain_memos.embedded._text import (
    TIME_MARKER,
    date_words,
    epoch_ms,
    index_text,
    speaks_of_time,
)
from langchain_memos.embedded._vectors import VectorIndex
from langchain_memos.types import parse_timestamp

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

_last_ms = 0
_sequence = 0
_id_lock = threading.Lock()


def new_id() -> str:
    """A fresh memory id: a UUID of version 7 (RFC 9562), time-ordered and unique.

    Ids made one after another sort in that order (a 48-bit millisecond clock, then a 12-bit
    counter within the millisecond, then 62 random bits), so the database's unique index on ids
    takes each new one at its end. Random (version 4) ids land all over the index: at a million
    memories that made adding 2x slower than at ten thousand.
    """
    global _last_ms, _sequence
    with _id_lock:
        now = time.time_ns() // 1_000_000
        if now > _last_ms:
            _last_ms, _sequence = now, secrets.randbelow(1 << 10)
        else:  # the same millisecond (or the clock went back): count on from the last id
            _sequence += 1
            if _sequence >> 12:
                _last_ms, _sequence = _last_ms + 1, 0
        ms, sequence = _last_ms, _sequence
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | sequence << 64
    value |= 0b10 << 62 | secrets.randbits(62)
    return str(uuid.UUID(int=value))


class Writer:
    """The store, the vector index beside it and the embedding model that feeds it, and the clock
    that stamps what is written."""

    def __init__(
        self, store: Store, embeddings: Embeddings | None, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.embeddings = embeddings
        self.vectors = VectorIndex(embeddings) if embeddings is not None else None
        if self.vectors is not None:
            store.on_delete = self.vectors.discard
            store.on_rollback = self.vectors.forget
        self._clock = clock

    def now_ms(self) -> int:
        return epoch_ms(self._clock())

    def embed(self, memories: list[dict[str, Any]]) -> list[list[float] | None]:
        """The memories' vectors (``None`` each without embeddings); call it before locking the
        database, as the model may be slow."""
        if self.embeddings is None or not memories:
            return [None] * len(memories)
        return list(self.embeddings.embed_documents([bodies.memory_text(m) for m in memories]))

    def insert(
        self,
        db: sqlite3.Connection,
        kind: str,
        memory: dict[str, Any],
        owner: Mapping[str, Any],
        vector: list[float] | None,
        *,
        speaker: str = "",
        text: str = "",
        context: tuple[str, str] = ("", ""),
    ) -> None:
        seq = self.store.insert_memory(
            db,
            memory=memory,
            kind=kind,
            owner=owner,
            columns=_columns(memory, speaker=speaker),
            text=text,
            context=context,
        )
        if self.vectors is not None and vector is not None:
            self.vectors.add(db, seq, _owner_token(self.store, owner), kind, vector)

    def rewrite(
        self,
        db: sqlite3.Connection,
        seq: int,
        memory: dict[str, Any],
        vector: list[float] | None = None,
        owner: Mapping[str, Any] | None = None,
        kind: str = "fact",
        *,
        leaves: bool = False,
    ) -> None:
        """Store ``memory`` as the new body of the memory ``seq``; ``leaves``: it no longer holds
        the turn it was said as in its conversation (its content is the caller's words now)."""
        (found,) = db.execute(
            f"SELECT seq, user_id, agent_id, {bodies.columns()}, ({TURN}) AS turn "
            "FROM memories WHERE seq = ?",
            (seq,),
        ).fetchall()
        text = "" if leaves else found["text"]
        tags = bodies.tags_column(found["kind"], text, memory.get("tags"))
        row = bodies.Row.of(found)._replace(update_time=memory["update_time"], text=text, tags=tags)
        # The tags column too, which filters read (before format 10 it kept the first tags).
        db.execute(
            "UPDATE memories SET body = ?, update_time = ?, text = ?, tags = ? WHERE seq = ?",
            (bodies.pack(row, memory), row.update_time, row.text, tags, seq),
        )
        db.execute(
            "UPDATE memories_fts SET body = ? WHERE rowid = ?", (_columns(memory)["body"], seq)
        )
        scope_counts.rewritten(db, 1)
        if leaves and found["turn"]:
            # Not a turn any more, it carries no context (as one written so), and the turns
            # around it no longer carry its old words.
            update_context(db, [(seq, "", "")])
            refresh_context(db, [found])
        if self.vectors is not None:
            vector_changes.remove(db, [seq])
            self.vectors.discard([seq])
            if vector is not None and owner is not None:
                self.vectors.add(db, seq, _owner_token(self.store, owner), kind, vector)
        elif bodies.memory_text(memory) != bodies.memory_text(bodies.read(found)):
            # A vector another engine of the file wrote means the old text: gone, not kept.
            vector_changes.remove(db, [seq])


def _columns(memory: Mapping[str, Any], speaker: str = "") -> dict[str, str]:
    """What a memory contributes to the full-text index, column by column."""
    own = [
        str(memory.get(key) or "")
        for key in ("memory_value", "preference", "tool_value", "experience", "event_value")
    ]
    own.append(bodies.skill_text(memory))
    moment = parse_timestamp(memory.get("create_time"))
    return {
        # Tags are not indexed: they are filterable metadata and, in fast mode, the text's own
        # words, which must not outlive an edit of the text.
        "body": index_text(*own),
        "spk": index_text(speaker),
        "date": date_words(moment) if moment else "",
        "tmp": TIME_MARKER if speaks_of_time(" ".join(own)) else "",
    }


def _owner_token(store: Store, owner: Mapping[str, Any]) -> str:
    """The token a memory's vector is kept under: its knowledge base's, else its user's, else
    (an agent's own memory) its agent's."""
    ids = (owner.get("user_id"), owner.get("agent_id"), owner.get("knowledgebase_id"))
    return store.tokens.token(*scope_tokens.owners(*ids)[-1], make=True)
