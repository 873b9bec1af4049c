"""Bringing a database of an older index format up to this one, in place, on open.

- Format 1 had no index of the memories' info fields: it is built from the stored info.
- Formats 1 to 3 counted each owner's memories on every search: format 4 keeps the counts
  (``scope_counts``), which are counted once from the index.
- Formats 1 to 4 stored a memory's body whole: format 5 leaves out what the row's columns hold
  (see ``_bodies``). Messages read the same in both (their times are the row's). The index of
  the memories by knowledge base no longer holds every other memory under NULL.
- Formats 1 to 4 left a deleted or edited turn's words in the context columns of the turns
  around it: format 5 recomputes them on every delete and edit, and on upgrade, once.
- Formats 1 and 2 indexed a run of Chinese characters as its bigrams only; format 3 also indexes
  the run's content characters after its bigrams (see :func:`_text.terms`). The characters are
  recovered from the stored bigrams, which chain ("国庆", "庆旅", "旅游" is the run "国庆旅游").
- Formats 1 to 5 indexed a word of Latin letters or digits written against Chinese characters
  as one term with them ("我在Google上班": "google上班"), which neither "Google" nor "上班"
  found; format 6 indexes it as its own word (see :func:`_text.terms`). Such terms are split
  where they stand, which gives the terms this engine writes, in its order (but for a word with
  an apostrophe after Chinese characters, "我在Tim's", which format 5 indexed "tim s").
- Formats 1 to 6 did not count the memories holding the time marker: format 7 keeps those
  counts beside the scopes' (``scope_counts``), for the idf of a "when" question's marker
  scored outside the index (see ``_bm25``); they are counted once from the index.
- Formats 1 to 7 stored every message's ``chat_time`` and every fact's ``memory_type``, and
  formats 5 to 7 derived every fast-mode fact's missing ``memory_value`` as its turn alone:
  format 8 derives a message's ``chat_time`` from its row's time, a fact's ``memory_type`` as fast
  mode's, and a short answer's value with the question it answers (see ``_bodies``). A message or
  fact stored without the key is marked as having none, and an answer whose stored body leaves
  its value to be derived is given its old value whole; nothing else is rewritten.
- Formats 1 to 7 indexed a number of a memory's info as SQLite writes it (15 digits for a float),
  and a list as ASCII JSON: format 8 indexes a number as ``str()`` writes it, which a caller is
  told to filter by, and a list as JSON in its own characters (``_info_index``).
- Formats 1 to 7 took any message key: one beginning with "~" (the engine's, see ``_bodies``) is
  now refused, and a message stored with one is kept whole, deriving nothing.
- Formats 1 to 8 stored every memory id as text: format 9 stores a UUID in its canonical text
  as its 16 bytes (``_bodies.stored_id``), which reads back as the same text.
- Formats 1 to 9 stored every memory's tags, and kept an edited memory's first tags in the
  column that filters read (its body held the new ones): format 10 stores ``""`` for the tags
  fast mode writes (``_bodies.fast_tags``), and the tags a memory has for any other.
- Formats 1 to 9 wrote an 80-bit hash of an owner's id as its token in the index: format 10
  numbers the owners and writes the numbers (``_scope_tokens``).
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time

from langchain_memos._sqlite import immediate_transaction
from langchain_memos._tokens import CJK
from langchain_memos.embedded import _bodies as bodies
from langchain_memos.embedded import _info_index as info_index
from langchain_memos.embedded import _scope_counts as scope_counts
from langchain_memos.embedded import _scope_tokens as scope_tokens
from langchain_memos.embedded._context import rebuild_context
from langchain_memos.embedded._text import STOP_CHARACTERS, has_cjk, terms

UPGRADABLE = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9})
# How long a write waits for another process's write lock (sqlite3's default), and how long an
# opener waits for another process's upgrade of the file (a minute or more at a million).
BUSY_WAIT_MS = 5_000
UPGRADE_WAIT_MS = 600_000
logger = logging.getLogger("langchain_memos.embedded")


def upgrade_on_open(
    db: sqlite3.Connection,
    lock: threading.RLock,
    tokens: scope_tokens.ScopeTokens,
    path: str,
    version: int,
) -> int:
    """Bring the database at ``path`` (of a format in ``UPGRADABLE``) up to format ``version``,
    unless another process opening it at the same time did while this one waited for the write
    lock (as long as that upgrade takes, up to :data:`UPGRADE_WAIT_MS`, not the usual 5 s): the
    format the file has now (another version's, if a newer engine wrote it meanwhile)."""
    db.execute(f"PRAGMA busy_timeout = {UPGRADE_WAIT_MS}")
    try:
        with immediate_transaction(db, lock, tokens.rolled_back, on_commit=tokens.committed):
            found: int = db.execute("PRAGMA user_version").fetchone()[0]
            if found not in UPGRADABLE:
                return found
            # Once per store, and long for a large one (format 10: ~8 s at 100k memories).
            logger.info("upgrading %s from index format %s to %s", path, found, version)
            began = time.monotonic()
            upgrade(db, found, tokens)
            db.execute(f"PRAGMA user_version = {version}")
        logger.info("upgraded %s in %.1f s", path, time.monotonic() - began)
        return version
    finally:
        db.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_MS}")


_TEXT_COLUMNS = ("body", "spk", "ctx1", "ctx2", "date", "tmp")


def upgrade(db: sqlite3.Connection, version: int, tokens: scope_tokens.ScopeTokens) -> None:
    """Upgrade the tables of a database of index format ``version`` (in ``UPGRADABLE``), whose
    scopes ``tokens`` numbers."""
    if version == 1:
        info_index.migrate(db)
    if version <= 6:
        scope_counts.migrate(db)
    if version <= 2:
        _index_characters(db)
    if version <= 4:
        _pack_bodies(db)
        rebuild_context(db)
        # Recreated on open with only the memories of knowledge bases (format 5).
        db.execute("DROP INDEX IF EXISTS memories_by_knowledgebase")
    if version <= 5:
        _split_mixed_terms(db)
    if 5 <= version <= 7:  # packed by format 5's rules (formats 1-4 were packed by this one's)
        _keep_plain_answers(db)
        _mark_absent(db, "memories", "memory_type", "kind = 'fact'")
    if version <= 7:
        # A message sent with a key of the engine's ("~absent") is kept whole, deriving nothing.
        db.execute(
            f"UPDATE messages SET body = json_object('{bodies.WHOLE}', json(body)) WHERE EXISTS "
            f"(SELECT 1 FROM json_each(body) WHERE key LIKE '{bodies.RESERVED}%')"
        )
        whole = f"json_type(body, '$.\"{bodies.WHOLE}\"') IS NULL"
        _mark_absent(db, "messages", "chat_time", whole)
        if version > 1:  # format 1's info was indexed just now, as this format does
            info_index.reindex_values(db)
    if version <= 8:
        # memory_key leaves any id but a canonical UUID as it is (see Store._open).
        db.execute("UPDATE memories SET id = memory_key(id) WHERE length(id) = 36")
    if version <= 9:
        _derive_tags(db)
        scope_tokens.migrate(db, tokens)


def _derive_tags(db: sqlite3.Connection) -> None:
    """Store each memory's tags as format 10 does: ``""`` for the tags fast mode writes, and
    the body's where an edit left them there (the column kept the first ones)."""
    absent = f"EXISTS (SELECT 1 FROM json_each(body, '$.\"{bodies.ABSENT}\"') WHERE value = 'tags')"
    # memory_tags of DERIVED_TAGS: fast mode's tags as the column would hold them whole (json():
    # formats 1 to 7 wrote a space after each comma).
    db.execute(
        f"UPDATE memories SET tags = '' WHERE json_type(body, '$.tags') IS NULL AND NOT {absent} "
        "AND CASE WHEN json_valid(tags) THEN json(tags) END = memory_tags(kind, '', text)"
    )
    rows = db.execute(
        f"SELECT seq, {bodies.columns()} FROM memories WHERE json_type(body, '$.tags') IS NOT NULL"
    ).fetchall()
    updates = []
    for row in rows:
        memory = bodies.read(row)
        tags = bodies.tags_column(row["kind"], row["text"], memory.get("tags"))
        packed = bodies.pack(bodies.Row.of(row)._replace(tags=tags), memory)
        updates.append((tags, packed, row["seq"]))
    db.executemany("UPDATE memories SET tags = ?, body = ? WHERE seq = ?", updates)


def _mark_absent(db: sqlite3.Connection, table: str, key: str, where: str = "1") -> None:
    """List ``key`` under ``~absent`` in the bodies of ``table`` that do not have it."""
    db.execute(
        f"UPDATE {table} SET body = json_set(body, '$.\"{bodies.ABSENT}\"', "
        f"json_insert(coalesce(json_extract(body, '$.\"{bodies.ABSENT}\"'), '[]'), '$[#]', ?)) "
        f"WHERE {where} AND json_type(body, '$.{key}') IS NULL",
        [key],
    )


def _keep_plain_answers(db: sqlite3.Connection) -> None:
    """Store the value formats 5-7 derived for the answers whose body leaves it out (format 8
    derives another for them: their turn with the question it answers)."""
    rows = db.execute(
        "SELECT seq, text, body FROM memories WHERE kind = 'fact' AND text != '' "
        "AND json_type(body, '$.memory_value') IS NULL AND body LIKE '%\"relation\":\"answers\"%'"
    ).fetchall()
    updates = []
    for seq, text, body in rows:
        stored = json.loads(body)
        value = bodies.plain_answer(text, stored)
        if value is not None:
            updates.append((bodies.dump({**stored, "memory_value": value}), seq))
    db.executemany("UPDATE memories SET body = ? WHERE seq = ?", updates)


def _pack_bodies(db: sqlite3.Connection, batch: int = 10_000) -> None:
    """Store each memory's whole body (formats 1-4) without what its row holds (format 5).

    A whole body has the memory's id; one without it is already packed and stays as it is.
    """
    last = 0
    while rows := db.execute(
        f"SELECT seq, {bodies.columns()} FROM memories WHERE seq > ? ORDER BY seq LIMIT ?",
        (last, batch),
    ).fetchall():
        whole = [(row, json.loads(row["body"])) for row in rows]
        db.executemany(
            "UPDATE memories SET body = ? WHERE seq = ?",
            [(bodies.pack(bodies.Row.of(r), m), r["seq"]) for r, m in whole if "id" in m],
        )
        last = rows[-1]["seq"]


# A term of Chinese characters and other letters or digits together (formats 1-5).
_MIXED = re.compile(rf"[^\W_{CJK}][{CJK}]|[{CJK}][^\W_{CJK}]")


def _split_mixed_terms(db: sqlite3.Connection) -> None:
    """Index the words written against Chinese characters as words of their own (format 6)."""
    rows = db.execute(f"SELECT rowid, {', '.join(_TEXT_COLUMNS)} FROM memories_fts")
    assignments = ", ".join(f"{column} = ?" for column in _TEXT_COLUMNS)
    changed = [
        (*(split_mixed(text or "") for text in row[1:]), row[0])
        for row in rows
        if any(_MIXED.search(text or "") for text in row[1:])
    ]
    db.executemany(f"UPDATE memories_fts SET {assignments} WHERE rowid = ?", changed)


def split_mixed(indexed: str) -> str:
    """An indexed column of formats 1-5 as format 6 writes it."""
    return " ".join(
        " ".join(terms(term)) if _MIXED.search(term) else term for term in indexed.split()
    )


def _index_characters(db: sqlite3.Connection) -> None:
    rows = db.execute(f"SELECT rowid, {', '.join(_TEXT_COLUMNS)} FROM memories_fts").fetchall()
    assignments = ", ".join(f"{column} = ?" for column in _TEXT_COLUMNS)
    db.executemany(
        f"UPDATE memories_fts SET {assignments} WHERE rowid = ?",
        [(*(with_characters(text or "") for text in row[1:]), row[0]) for row in rows],
    )


def with_characters(indexed: str) -> str:
    """An indexed column of format 2 as format 3 writes it: each Chinese run's bigrams followed by
    its content characters. Two runs whose bigrams happen to chain ("国庆住" then "住国庆") read
    as one run, whose characters then come after both (the same terms, a count off by one)."""
    out: list[str] = []
    run = ""
    for term in [*indexed.split(), ""]:
        is_bigram = len(term) == 2 and has_cjk(term[0]) and has_cjk(term[1])
        if is_bigram and run and run[-1] == term[0]:
            run += term[1]
        else:
            if len(run) > 1:
                out.extend(c for c in run if c not in STOP_CHARACTERS)
            run = term if is_bigram else ""
        if term:
            out.append(term)
    return " ".join(out)
