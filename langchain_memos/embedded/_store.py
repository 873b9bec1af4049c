"""SQLite storage of the embedded engine: schema, scoping, writes, full-text search."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from langchain_memos._exceptions import ConfigurationError
from langchain_memos._sqlite import OpenedFile, immediate_transaction
from langchain_memos.embedded import _bodies as bodies
from langchain_memos.embedded import _info_index as info_index
from langchain_memos.embedded import _migrations as migrations
from langchain_memos.embedded import _plan as plan
from langchain_memos.embedded import _scope_counts as scope_counts
from langchain_memos.embedded import _scope_tokens as scope_tokens
from langchain_memos.embedded import _vector_changes as vector_changes
from langchain_memos.embedded._candidate import Candidate, candidate, indexed
from langchain_memos.embedded._context import TURN, refresh_context
from langchain_memos.embedded._database import APPLICATION_ID, check_database
from langchain_memos.embedded._errors import DatabaseGoneError, busy

# A list of ids as one SQL parameter (a JSON array): any number of them, one variable.
ID_LIST = "(SELECT value FROM json_each(?))"
# The memory ids of a JSON list, as the ``id`` column holds them (see _bodies.stored_id).
MEMORY_ID_LIST = "(SELECT memory_key(value) FROM json_each(?))"
# Whose turns a turn ``m`` was said among, as ``n``: its user's, or for an agent's own memory
# (kept under no user), that agent's (as in _context.py).
SAME_SPEAKERS = (
    "n.user_id IS m.user_id AND (m.user_id IS NOT NULL OR n.agent_id = m.agent_id) AND "
    "n.conversation_id = m.conversation_id"
)
# The turns said just before and just after memories, in their conversation.
NEIGHBOURS = (
    "SELECT m.seq, "
    + ", ".join(
        f"(SELECT {pick}(n.seq) FROM memories n WHERE {SAME_SPEAKERS} AND "
        "n.kind = 'fact' AND n.text != '' AND "
        f"n.seq {side} m.seq) AS {name}"
        for pick, side, name in (("max", "<", "before"), ("min", ">", "after"))
    )
    + f" FROM memories m WHERE m.seq IN {ID_LIST} AND m.text != ''"
)

# Bumped whenever what is indexed changes, so that an older database is upgraded on open (see
# _migrations.py) or, when it cannot be, fails clearly.
INDEX_VERSION = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    body TEXT NOT NULL,
    create_time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (user_id, conversation_id, seq);
CREATE TABLE IF NOT EXISTS memories (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    user_id TEXT,
    agent_id TEXT,
    app_id TEXT,
    conversation_id TEXT,
    knowledgebase_id TEXT,
    public INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '[]',
    info TEXT NOT NULL DEFAULT '{}',
    create_time INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS memories_by_conversation
    ON memories (user_id, conversation_id, kind, seq);
CREATE INDEX IF NOT EXISTS memories_by_user ON memories (user_id, kind, seq);
CREATE INDEX IF NOT EXISTS memories_by_knowledgebase ON memories (knowledgebase_id)
    WHERE knowledgebase_id IS NOT NULL;
-- One row per memory. Besides the memory's own words (body) it indexes the speaker, the words of
-- the turns around it but their stop words (ctx1: +-1, ctx2: +-2), its date in words, and a
-- marker for turns that speak of time, so that "When did Caroline ..." finds the turn that
-- answers it. See RANK_WEIGHTS.
CREATE VIRTUAL TABLE IF NOT EXISTS memories_fts USING fts5 (
    scope, body, spk, ctx1, ctx2, date, tmp, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS vectors (
    seq INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL,
    vector BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    task_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    create_time INTEGER NOT NULL
);
-- Which process refines a running task (_owners.new_owner), so that one left running by a
-- process that is gone says failed; none for a task an older version left running.
CREATE TABLE IF NOT EXISTS task_runners (
    task_id TEXT PRIMARY KEY,
    runner TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS knowledgebases (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    create_time INTEGER NOT NULL
);
-- Profile templates bound to a user or agent, and their fields (_profiles.py).
CREATE TABLE IF NOT EXISTS profiles (
    subject TEXT NOT NULL,
    template_id TEXT NOT NULL,
    create_time INTEGER NOT NULL,
    PRIMARY KEY (subject, template_id)
);
CREATE TABLE IF NOT EXISTS profile_fields (
    subject TEXT NOT NULL,
    template_id TEXT NOT NULL,
    path TEXT NOT NULL,
    value TEXT NOT NULL,
    algorithm_updatable INTEGER NOT NULL,
    update_time INTEGER NOT NULL,
    PRIMARY KEY (subject, template_id, path)
);
CREATE TABLE IF NOT EXISTS knowledgebase_files (
    id TEXT PRIMARY KEY,
    knowledgebase_id TEXT NOT NULL,
    name TEXT,
    type TEXT NOT NULL,
    size INTEGER NOT NULL,
    status TEXT NOT NULL,
    create_time INTEGER NOT NULL
);
"""


# bm25 column weights: scope, body, spk, ctx1, ctx2, date, tmp. Chosen on the LoCoMo development
# split: with the ranking alone (200 candidates), neighbours and dates lift evidence recall at a
# 1,500-token budget from 0.79 to 0.92; through search/memory's cap of 25 facts, 0.895
# (bench/locomo_recall.py).
RANK_WEIGHTS = (0.0, 1.0, 1.0, 0.5, 0.2, 0.5, 1.0)
MEMORY = bodies.columns("m")


_SCHEMAS = (
    SCHEMA + info_index.SCHEMA + scope_counts.SCHEMA + scope_tokens.SCHEMA + vector_changes.SCHEMA
)
# The tables, indexes and triggers the schema makes, all of which a database made holds.
_MADE = frozenset(
    re.findall(r"CREATE (?:VIRTUAL )?(?:TABLE|INDEX|TRIGGER) IF NOT EXISTS (\w+)", _SCHEMAS)
)


class Store:
    """One SQLite database (a file in WAL mode, or ``:memory:``), safe to share across threads."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._opened: OpenedFile | None = None  # None: in memory
        self.closed = False
        if path != ":memory:":
            check_database(path)
        try:
            self._db = sqlite3.connect(
                path,
                timeout=migrations.BUSY_WAIT_MS / 1000,
                check_same_thread=False,
                isolation_level=None,
            )
            self.tokens = scope_tokens.ScopeTokens(self._db, self._lock)
            self._open()
            self._opened = None if path == ":memory:" else OpenedFile.at(path)
        except sqlite3.Error as error:
            raise ConfigurationError(f"cannot open the database {path}: {error}") from None
        self.on_delete: Callable[[list[int]], None] | None = None
        self.on_rollback: Callable[[], None] = lambda: None
        # The common words' counts, kept between searches (see _plan.py).
        self.counted = plan.Counted()

    def _open(self) -> None:
        self._db.row_factory = sqlite3.Row
        self._db.create_function("memory_key", 1, bodies.stored_id, deterministic=True)
        self._db.create_function("memory_tags", 3, bodies.row_tags, deterministic=True)
        # Read before anything is written: a database of another version is refused untouched.
        # One statement, one snapshot: another process may be making the file (see below).
        version, has_tables = self._db.execute(
            "SELECT (SELECT user_version FROM pragma_user_version), "
            "(SELECT count(*) FROM sqlite_master WHERE name = 'memories')"
        ).fetchone()
        if has_tables and version in migrations.UPGRADABLE:
            version = migrations.upgrade_on_open(
                self._db, self._lock, self.tokens, self.path, INDEX_VERSION
            )
        if has_tables and version != INDEX_VERSION:
            self._db.close()
            raise ConfigurationError(
                f"{self.path} was made by another version of the embedded engine (index format "
                f"{version}, this one reads {INDEX_VERSION}); start a new database"
            )
        if self.path != ":memory:":
            self._write_ahead()
            self._db.execute("PRAGMA synchronous = NORMAL")
        if has_tables and version == INDEX_VERSION and self._made():
            return  # nothing to write: no wait on another process's long write (a big file)
        # One transaction: a process opening the file meanwhile sees no table, or every table
        # with the version and the id (not tables without them, another application's file).
        try:
            self._db.executescript(
                "BEGIN IMMEDIATE;"
                + _SCHEMAS
                + f"PRAGMA user_version = {INDEX_VERSION};"
                + f"PRAGMA application_id = {APPLICATION_ID};"
                + "COMMIT;"
            )
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _made(self) -> bool:
        """Whether the file holds every table and index of this version, and its id: the
        schema's script would change nothing (a table added since the format was would be
        made by it)."""
        names = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        (application_id,) = self._db.execute("PRAGMA application_id").fetchone()
        return application_id == APPLICATION_ID and names.issuperset(_MADE)

    def _write_ahead(self) -> None:
        """Put the file in WAL mode. SQLite does not wait out another connection's lock for
        this (a process making the same new file, say), so it is tried again until the lock's
        usual wait has passed."""
        deadline = time.monotonic() + migrations.BUSY_WAIT_MS / 1000
        while True:
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if not busy(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def gone(self) -> bool:
        """Whether the file opened is no longer at its path (deleted, or replaced)."""
        return self._opened is not None and self._opened.gone()

    def close(self) -> None:
        with self._lock:
            self.closed = True
            self._db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction; refused (:class:`DatabaseGoneError`) once the file opened is no
        longer at its path, deleted or replaced (a backup restored over it): what would be
        written there would be answered as stored, and be gone with the process."""
        if self.gone():
            raise DatabaseGoneError(
                f"the database file {self.path} was deleted or replaced while the engine had it "
                "open: nothing is written to it, where it would be lost; open the engine again"
            )
        # A rollback tells on_rollback under the lock: the vector index drops what it learnt, the
        # word counts what they may have counted of the rows taken back, and the scope tokens
        # the numbers given; a commit makes those numbers known.
        return immediate_transaction(
            self._db, self._lock, self._rolled_back, on_commit=self.tokens.committed
        )

    def _rolled_back(self) -> None:
        self.tokens.rolled_back()
        self.counted.clear()
        self.on_rollback()

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """Reads that see one state of the store: one read transaction, unless one is open."""
        with self._lock:
            outer = self._db.in_transaction
            if not outer:
                self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                if not outer:
                    self._db.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # ---- memories ------------------------------------------------------------------------

    def insert_memory(
        self,
        db: sqlite3.Connection,
        *,
        memory: Mapping[str, Any],
        kind: str,
        owner: Mapping[str, Any],
        columns: Mapping[str, str],
        text: str = "",
        context: tuple[str, str] = ("", ""),
    ) -> int:
        """Store a memory and index it; ``columns`` holds its body, spk, date and tmp terms, and
        ``context`` its ctx1 and ctx2 (see :func:`_context.plan_context`)."""
        tags = bodies.tags_column(kind, text, memory.get("tags"))
        times = memory["create_time"], memory["update_time"]
        row = bodies.Row(kind, memory["id"], memory.get("conversation_id"), *times, tags, text)
        cursor = db.execute(
            "INSERT INTO memories (id, kind, user_id, agent_id, app_id, conversation_id, "
            "knowledgebase_id, public, tags, info, create_time, update_time, text, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                bodies.stored_id(row.id),
                kind,
                owner.get("user_id"),
                owner.get("agent_id"),
                owner.get("app_id"),
                row.conversation_id,
                owner.get("knowledgebase_id"),
                1 if owner.get("public") else 0,
                tags,
                json.dumps(owner.get("info") or {}, ensure_ascii=False),
                *times,
                text,
                bodies.pack(row, memory),
            ),
        )
        info_index.index_info(db, int(cursor.lastrowid or 0), owner.get("info") or {})
        ids = (owner.get("user_id"), owner.get("agent_id"), owner.get("knowledgebase_id"))
        scope = [self.tokens.token(*of, make=True) for of in scope_tokens.owners(*ids)]
        # The owner's token counts the owner's memories (for idf); the owner-and-kind token lets a
        # search match a single scope phrase.
        scope += [self.tokens.owner_kind(token, kind, make=True) for token in scope]
        scope_counts.added(db, " ".join(scope), bool(columns.get("tmp")))
        db.execute(
            "INSERT INTO memories_fts (rowid, scope, body, spk, ctx1, ctx2, date, tmp) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                cursor.lastrowid,
                " ".join(scope),
                columns.get("body", ""),
                columns.get("spk", ""),
                *context,
                columns.get("date", ""),
                columns.get("tmp", ""),
            ),
        )
        return int(cursor.lastrowid or 0)

    def delete_memories(self, db: sqlite3.Connection, where: str, params: Sequence[Any]) -> int:
        if not params and "?" in where:
            return 0  # an empty id list
        rows = db.execute(
            f"SELECT seq, user_id, agent_id, conversation_id, ({TURN}) AS turn "
            f"FROM memories m WHERE {where}",
            params,
        ).fetchall()
        seqs = [(row["seq"],) for row in rows]
        scope_counts.removed(db, seqs)
        db.executemany("DELETE FROM memories_fts WHERE rowid = ?", seqs)
        vector_changes.remove(db, [seq for (seq,) in seqs])
        info_index.forget_info(db, seqs)
        db.executemany("DELETE FROM memories WHERE seq = ?", seqs)
        # The turns around a deleted turn no longer carry its words.
        refresh_context(db, [row for row in rows if row["turn"]])
        if seqs and self.on_delete is not None:
            self.on_delete([seq for (seq,) in seqs])
        return len(seqs)

    def by_seq(
        self, seqs: list[int], owners: list[str], kind: str, where: str, params: list[Any]
    ) -> list[Candidate]:
        """These memories, in this order, if they are ``owners``' of ``kind`` (checked: a row
        number another process's vectors named may be another owner's memory now) and pass the
        filter ``where``."""
        if not seqs:
            return []
        marks = ",".join("?" * len(seqs))
        tokens = {self.tokens.owner_kind(owner, kind) for owner in owners}
        rows = self.query(
            f"SELECT m.seq, {MEMORY}, m.info, 0.0 AS score, {indexed('f')}, f.scope AS scope "
            "FROM memories m JOIN memories_fts f ON f.rowid = m.seq "
            f"WHERE m.seq IN ({marks}) AND {where}",
            [*seqs, *params],
        )
        found = {row["seq"]: candidate(row) for row in rows if tokens & set(row["scope"].split())}
        return [found[seq] for seq in seqs if seq in found]
