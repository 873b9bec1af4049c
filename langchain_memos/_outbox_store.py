"""Where the outbox keeps its writes: one SQLite file, opened on first use, and every query on it.

The database is in WAL mode with ``synchronous=NORMAL``: a commit survives the process dying at any
point; an OS crash or power loss may lose the last commits before the OS wrote them out. This
module knows nothing of clients, senders or retry policy; :mod:`langchain_memos.outbox` decides
what may be stored, and :mod:`langchain_memos._outbox_sender` what to do with it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_memos._exceptions import ClosedError, OutboxError
from langchain_memos._outbox_names import (
    check_outbox_file,
    may_create_directory,
    new_owner,
    owner_gone,
)
from langchain_memos._sqlite import OpenedFile, immediate_transaction

__all__ = ["OutboxStore", "Row"]

logger = logging.getLogger("langchain_memos")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until REAL,
    last_error TEXT,
    dated_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_conversation
    ON outbox (target, user_id, conversation_id, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    failed_at REAL NOT NULL,
    error TEXT NOT NULL
);
"""
# A write no send holds: never leased, or its lease ran out, or was dated by the clock before it
# went back (an NTP step, a VM resumed: dated_at, the clock when its times were last set, is
# ahead of now; one host's processes share one clock, and WAL needs one host). Two parameters,
# now and now.
_FREE = "(lease_until IS NULL OR lease_until < ? OR dated_at > ?)"
# The oldest write of each conversation of one target: the only ones that may be sent.
_HEADS = "SELECT MIN(seq) AS head FROM outbox WHERE target = ? GROUP BY user_id, conversation_id"
_CLAIMABLE = (
    "SELECT o.seq, o.user_id, o.conversation_id, o.body, o.attempts FROM outbox o "
    f"JOIN ({_HEADS}) h ON o.seq = h.head "
    f"WHERE (o.next_attempt_at <= ? OR o.dated_at > ?) AND {_FREE} "
    "ORDER BY o.next_attempt_at, o.seq LIMIT 1"
)
# When a write of one target may next be claimed (one dated by a clock since gone back: now).
_NEXT_DUE = (
    "SELECT MIN(CASE WHEN o.dated_at > ? THEN 0 "
    "ELSE MAX(o.next_attempt_at, COALESCE(o.lease_until, 0)) END) FROM outbox o "
    f"JOIN ({_HEADS}) h ON o.seq = h.head"
)
_BURY = (
    "INSERT OR REPLACE INTO dead_letters SELECT seq, target, user_id, conversation_id, body, "
    "created_at, attempts + 1, ?, ? FROM outbox WHERE seq = ?"
)
_RELEASE = "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?"
# The target of a write for one embedded engine's database: its identity ends with the digest of
# the key and that of the database (``MemOSClient.identity``); never adopted by another client.
_ONE_DATABASE = "*#" + "[0-9a-f]" * 16 + "/" + "[0-9a-f]" * 16


@dataclass(frozen=True)
class Row:
    """A write claimed for sending."""

    seq: int
    user_id: str
    conversation_id: str
    body: dict[str, Any]
    attempts: int


def _date_rows(db: sqlite3.Connection) -> None:
    """Give an outbox file made before ``dated_at`` the column (0: dated by no clock reading,
    so never taken for one the clock has since gone back on). Two processes opening it at once
    may both try: the second finds it there."""
    if "dated_at" in {row[1] for row in db.execute("PRAGMA table_info(outbox)")}:
        return
    try:
        db.execute("ALTER TABLE outbox ADD COLUMN dated_at REAL NOT NULL DEFAULT 0")
    except sqlite3.OperationalError as error:
        if "duplicate column" not in str(error):
            raise


class OutboxStore:
    """The writes waiting for MemOS and the dead letters, in one SQLite file or in memory.

    Constructing one opens nothing: the file (and, for the default path in the user cache only,
    its directory) is created by the first write,
    an existing file is opened when first read, and reading a file that does not exist finds
    nothing waiting, as with langgraph's ``SqliteSaver`` and its ``setup()``.

    Args:
        path: A checked file path, or ``":memory:"``.
        lease: Seconds a claim holds a write before another process may take it over.
        clock: The wall clock that dates writes, attempts and leases.
    """

    def __init__(self, path: str, *, lease: float, clock: Callable[[], float]) -> None:
        self.path = path
        self.lease = lease
        self.clock = clock
        self.owner = new_owner()
        """Who holds this store's leases: ``host:pid:process:outbox``."""
        self._db: sqlite3.Connection | None = None
        self._opened: OpenedFile | None = None  # None: in memory, or not opened yet
        self._closed = False
        self._lock = threading.RLock()  # held around opening, which may write
        self.changed = threading.Condition(threading.Lock())
        """Notified whenever a write is added, sent, rescheduled or moved."""

    # ---- the connection ------------------------------------------------------------------

    def _connect(self, *, create: bool) -> sqlite3.Connection | None:
        """The database, opened on first use; ``None`` if it does not exist and ``create`` is
        false (nothing can be waiting in an outbox that was never written). Holds ``_lock``."""
        if self._db is not None:
            return self._db
        if self._closed:
            raise ClosedError(f"the MemOS outbox at {self.path} is closed")
        in_memory = self.path == ":memory:"
        if not create and (in_memory or not os.path.exists(self.path)):
            return None
        if not in_memory:
            check_outbox_file("the outbox", self.path)  # it may have changed since: look again
        try:
            if not in_memory and may_create_directory(self.path):
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            _date_rows(db)
        except (OSError, sqlite3.Error) as error:
            raise OutboxError(f"cannot open the MemOS outbox at {self.path}: {error}") from error
        if not in_memory:
            logger.info("MemOS writes wait in the outbox at %s until MemOS takes them", self.path)
        self._db = db
        self._opened = None if in_memory else OpenedFile.at(self.path)
        self._release_dead_leases(db)
        return db

    def gone(self) -> bool:
        """Whether the file opened is no longer at its path (deleted, or replaced by another):
        SQLite goes on writing to it, and what it holds ends with the process."""
        return self._opened is not None and self._opened.gone()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, creating the database first if needed."""
        with self._lock:
            db = self._connect(create=True)
        assert db is not None
        with immediate_transaction(db, self._lock) as db:
            yield db

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """The database under ``_lock``, or ``None`` if no write ever created it."""
        with self._lock:
            yield self._connect(create=False)

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def release_dead_leases(self) -> None:
        """Free the writes a process of this host left leased when it died (killed): a sender
        with nothing to send looks, so that they wait for no lease to run out. Only leases not
        renewed for half a lease: a live sender renews every third, so that one whose pid this
        process cannot see (a container sharing the host's name) keeps its write."""
        with self._reading() as db:
            if db is not None:
                self._release_dead_leases(db, now=self.clock())

    def _release_dead_leases(self, db: sqlite3.Connection, now: float | None = None) -> None:
        """Free the writes a dead process left leased (``_lock`` held); given ``now``, only
        those not renewed for half their lease (its holder's, which renews every third)."""
        stale = "" if now is None else "AND dated_at < ? - (lease_until - dated_at) / 2"
        owners = [
            row[0]
            for row in db.execute(
                f"SELECT DISTINCT lease_owner FROM outbox WHERE lease_owner IS NOT NULL {stale}",
                () if now is None else (now,),
            )
        ]
        dead = [owner for owner in owners if owner_gone(owner)]
        if dead:
            with immediate_transaction(db, self._lock):
                db.executemany(_RELEASE, [(owner,) for owner in dead])

    def _close_database(self) -> None:
        """Release this store's leases (their sends will not report back) and close the file."""
        with self._lock:
            self._closed = True
            db, self._db = self._db, None
            if db is not None:
                try:
                    self._let_go(db, _RELEASE, (self.owner,))
                finally:
                    db.close()

    def _let_go(self, db: sqlite3.Connection, sql: str, params: Sequence[object]) -> None:
        """Release leases (``sql``, a form of _RELEASE). Where the file cannot take it (a full
        disk), the leases expire on their own: a warning, not an error of a shutdown."""
        try:
            with immediate_transaction(db, self._lock):
                db.execute(sql, params)
        except sqlite3.Error as error:
            logger.warning(
                "the outbox at %s could not release this process's leases (%s); its writes "
                "stay in the file, and the leases expire in %.0f s",
                self.path,
                error,
                self.lease,
            )

    # ---- queries -------------------------------------------------------------------------

    def pending(self, target: str | None = None) -> int:
        """Writes waiting (for ``target``, or for any service)."""
        query = "SELECT COUNT(*) FROM outbox" + (" WHERE target = ?" if target else "")
        with self._reading() as db:
            if db is None:
                return 0
            (count,) = db.execute(query, (target,) if target else ()).fetchone()
        return int(count)

    def others(self, target: str) -> int:
        """Writes waiting for another service or key than ``target`` that look left behind:
        written over a lease ago, and not being sent (another project sharing the file sends
        its own as they come)."""
        now = self.clock()
        with self._reading() as db:
            if db is None:
                return 0
            (count,) = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE target != ? AND target NOT GLOB ? "
                f"AND created_at < ? AND {_FREE}",
                (target, _ONE_DATABASE, now - self.lease, now, now),
            ).fetchone()
        return int(count)

    def _adopt(self, target: str) -> int:
        """Give ``target`` the writes waiting for any other (none being sent), but those made
        for one embedded database, which only a client of that database sends; how many."""
        with self._transaction() as db:
            now = self.clock()  # under the write lock, as in claim
            moved = db.execute(
                "UPDATE outbox SET target = ?, next_attempt_at = 0 WHERE target != ? "
                f"AND target NOT GLOB ? AND {_FREE}",
                (target, target, _ONE_DATABASE, now, now),
            ).rowcount
        self._notify()
        return int(moved)

    def _insert(
        self, target: str, user_id: str, conversation_id: str, bodies: Sequence[dict[str, Any]]
    ) -> list[int]:
        """Commit one write per body, all or none; their sequence numbers."""
        if self.gone():
            raise OutboxError(
                f"the MemOS outbox file {self.path} was deleted or replaced while in use: what "
                "is written to it now would end with the process, so nothing is"
            )
        now = self.clock()
        seqs: list[int] = []
        try:
            with self._transaction() as db:
                for body in bodies:
                    cursor = db.execute(
                        "INSERT INTO outbox (target, user_id, conversation_id, body, created_at, "
                        "dated_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (target, user_id, conversation_id, json.dumps(body), now, now),
                    )
                    seqs.append(int(cursor.lastrowid or 0))
        except (OSError, sqlite3.Error) as error:  # a full disk, a file made read-only
            raise OutboxError(f"the MemOS outbox at {self.path} cannot store: {error}") from error
        self._notify()
        return seqs

    def claim(self, target: str) -> Row | None:
        """Lease the oldest due write of some conversation whose older writes are all sent."""
        if self.pending(target) == 0:
            return None  # nothing to claim (and no file to create)
        with self._transaction() as db:
            # Read under the write lock: a lease renewed while this waited for it is dated at
            # most now, never taken for one the clock has gone back on.
            now = self.clock()
            found = db.execute(_CLAIMABLE, (target, now, now, now, now)).fetchone()
            if found is None:
                return None
            db.execute(
                "UPDATE outbox SET lease_owner = ?, lease_until = ?, dated_at = ? WHERE seq = ?",
                (self.owner, now + self.lease, now, found[0]),
            )
        seq, user_id, conversation_id, body, attempts = found
        return Row(seq, user_id, conversation_id, json.loads(body), attempts)

    def renew(self, target: str) -> None:
        """Extend the leases this store holds on ``target``'s writes: their sends still run."""
        with self._lock:
            if self._connect(create=False) is None:
                return
        now = self.clock()
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET lease_until = ?, dated_at = ? "
                "WHERE lease_owner = ? AND target = ?",
                (now + self.lease, now, self.owner, target),
            )

    def next_due(self, target: str) -> float | None:
        """Seconds until a write of ``target`` may be claimed (``None``: nothing waits)."""
        with self._reading() as db:
            if db is None:
                return None
            now = self.clock()
            (due,) = db.execute(_NEXT_DUE, (now, target)).fetchone()
        return None if due is None else max(0.0, float(due) - now)

    def done(self, row: Row) -> None:
        """Delete a write the service accepted."""
        with self._transaction() as db:
            db.execute("DELETE FROM outbox WHERE seq = ?", (row.seq,))
        self._notify()

    def reschedule(self, row: Row, error: str, delay: float) -> None:
        """Release ``row``, to be claimed again ``delay`` seconds from now; ``error`` says why."""
        now = self.clock()
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, dated_at = ?, "
                "lease_owner = NULL, lease_until = NULL, last_error = ? WHERE seq = ?",
                (now + delay, now, error, row.seq),
            )
        self._notify()

    def hand_back(self, row: Row) -> None:
        """Release ``row`` unsent and without counting an attempt: it is due again at once."""
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET lease_owner = NULL, lease_until = NULL "
                "WHERE seq = ? AND lease_owner = ?",
                (row.seq, self.owner),
            )
        self._notify()

    def release_leases(self, target: str) -> None:
        """Release this store's leases on ``target``'s writes (their senders stopped).

        Does nothing on a database never opened or already closed (closing released them).
        """
        with self._lock:
            db = self._db
            if db is None:
                return
            self._let_go(db, _RELEASE + " AND target = ?", (self.owner, target))
        self._notify()

    def bury(self, row: Row, error: str) -> None:
        """Move a write that can never be delivered to ``dead_letters``."""
        with self._transaction() as db:
            db.execute(_BURY, (self.clock(), error, row.seq))
            db.execute("DELETE FROM outbox WHERE seq = ?", (row.seq,))
        self._notify()

    def _dead_rows(self) -> list[tuple[int, str, str, str, int, str]]:
        with self._reading() as db:
            if db is None:
                return []
            return db.execute(
                "SELECT seq, user_id, conversation_id, body, attempts, error FROM dead_letters "
                "ORDER BY seq"
            ).fetchall()

    def requeue(self, seqs: Sequence[int] | None = None) -> int:
        """Move dead letters (all, or those in ``seqs``) back into the outbox; how many moved."""
        where, args = "", tuple[int, ...]()
        if seqs is not None:
            where, args = f" WHERE seq IN ({','.join('?' * len(seqs))})", tuple(seqs)
        columns = "seq, target, user_id, conversation_id, body, created_at"
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO outbox ({columns}) SELECT {columns} FROM dead_letters{where}", args
            )
            moved = db.execute(f"DELETE FROM dead_letters{where}", args).rowcount
        self._notify()
        return int(moved)

    def outcome(self, seqs: Sequence[int]) -> tuple[int, dict[int, str]]:
        """How many of ``seqs`` still wait, and the error of each one refused (by seq)."""
        marks = ",".join("?" * len(seqs))
        with self._reading() as db:
            if db is None:
                return 0, {}
            (waiting,) = db.execute(
                f"SELECT COUNT(*) FROM outbox WHERE seq IN ({marks})", tuple(seqs)
            ).fetchone()
            refused = db.execute(
                f"SELECT seq, error FROM dead_letters WHERE seq IN ({marks}) ORDER BY seq",
                tuple(seqs),
            ).fetchall()
        return int(waiting), {int(seq): str(error) for seq, error in refused}
