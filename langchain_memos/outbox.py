"""A durable outbox for MemOS writes: persisted before sending, delivered in order, at least once.

Messages handed to :class:`~langchain_memos.middleware.MemOSMiddleware`, the LangGraph save node
or a :class:`~langchain_memos.MemOSChatMessageHistory` given ``outbox=`` are first committed to
a SQLite database in WAL mode, then sent to ``add/message`` by a background thread:

* **In order per conversation.** Only the oldest write of a ``(user, conversation)`` is ever in
  flight; the next one waits until it was accepted. Different conversations do not wait for
  each other.
* **Retried while the service is unavailable**: connection errors, timeouts, 5xx, 429 and the
  MemOS rate-limit and quota codes, with exponential backoff (1 s doubling to ``max_backoff``)
  and for as long as it takes. Authentication errors are retried too (a rotated key fixes them),
  and so is any answer that is not MemOS's own: a proxy's HTML 404 or 413 page is an outage.
* **Refusals are kept, not dropped.** A write MemOS refuses in its own envelope (a JSON ``code``)
  as invalid or not found will never succeed, nor will one the sender cannot even send (an
  unencodable text, an unexpected error); it moves to a ``dead_letters`` table, is logged as an
  error, and can be inspected with :meth:`Outbox.dead_letters` and sent again with
  :meth:`Outbox.requeue`. The conversation's next writes go on. What the request itself shows
  MemOS would refuse never gets this far: :meth:`Outbox.put` builds it first, with the client's
  own code, and raises :class:`~langchain_memos.MemOSInputError` to the caller instead.
* **Survives a crash.** Writes not yet accepted are on disk; the next process that opens the
  outbox with a client for the same service and key delivers them. A commit survives the process
  dying at any point (WAL, ``synchronous=NORMAL``); an OS crash or power loss may lose the last
  commits before the OS wrote them out.

**The guarantee is at-least-once.** A write is deleted from the outbox only after the service
accepted it, so a duplicate can arise when (1) the process dies after the service accepted a write
but before the outbox deleted it; (2) a request times out or its connection breaks after the
service stored it, and the outbox sends it again; (3) a lease expires while a send is still
running (a live sender renews its leases, so only a process stalled for a whole lease can).
MemOS has no idempotency key for ``add/message``, so such a duplicate is stored twice. A write is
never lost unless the database file is.

**Leases.** Several processes may share one outbox file: a sender claims the write it sends with a
lease of ``lease`` seconds (30 by default) in the name of its process (host, pid and a random id
drawn when the process starts) and renews it every third of that while sending. Another process
takes a write over when its lease expired, or at once when the owner is certainly gone: a pid of
this host that no longer runs, or this very pid with another random id (a restarted container
whose process got the same pid). A dead owner on another host is waited for one lease at most.
Each process delivers only writes for its own service URL and API key (recorded as a hash, never
the key itself).
"""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_memos import _outbox_sender
from langchain_memos._constants import EMBEDDED_BASE_URL
from langchain_memos._endpoints import add_message
from langchain_memos._exceptions import MemOSError, MemOSInputError
from langchain_memos._outbox_names import (
    OUTBOX_PATH_ENV,
    checked_path,
    default_outbox_path,
    new_owner,
    owner_gone,
    target_of,
)
from langchain_memos._outbox_sender import CLOSE_TIMEOUT, IDLE_POLL, OutboxSender, describe
from langchain_memos._sqlite import immediate_transaction
from langchain_memos.client import MemOSClient
from langchain_memos.types import MessageInput

__all__ = [
    "CLOSE_TIMEOUT",
    "OUTBOX_PATH_ENV",
    "DeadLetter",
    "Outbox",
    "OutboxError",
    "OutboxSender",
    "default_outbox_path",
    "open_outbox",
    "target_of",
]

logger = logging.getLogger("langchain_memos")

DEFAULT_MAX_PENDING = 1_000
DEFAULT_MAX_BACKOFF = 60.0
DEFAULT_LEASE = 30.0  # renewed every third of it while a send runs
DEFAULT_CONCURRENCY = 4
_FIRST_BACKOFF = 1.0
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
    last_error TEXT
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
# The oldest write of each conversation of one target: the only ones that may be sent.
_HEADS = "SELECT MIN(seq) AS head FROM outbox WHERE target = ? GROUP BY user_id, conversation_id"


def open_outbox(
    outbox: Outbox | str | os.PathLike[str] | None, client: MemOSClient, **options: Any
) -> Outbox:
    """``outbox`` as an :class:`Outbox`; ``None`` picks the default for ``client``.

    The default is the durable file :func:`default_outbox_path` for a client of a service, and
    an in-memory outbox for the embedded engine, whose writes never leave the process.
    """
    if isinstance(outbox, Outbox):
        return outbox
    if outbox is not None:
        checked_path("outbox", outbox)
    else:
        in_process = client.base_url == EMBEDDED_BASE_URL
        outbox = ":memory:" if in_process else default_outbox_path()
    return Outbox(outbox, **options)


class OutboxError(MemOSError):
    """The outbox could not store or read writes: a full disk, an unwritable or damaged file.

    The writes it was handed are not stored; the agents log this and answer all the same
    unless ``fail_open=False`` (see :class:`~langchain_memos._agent_memory.BackgroundWriter`).
    """


@dataclass(frozen=True)
class DeadLetter:
    """A write the service refused as invalid: kept for inspection and :meth:`Outbox.requeue`."""

    seq: int
    user_id: str
    conversation_id: str
    messages: list[MessageInput]
    attempts: int
    error: str


@dataclass(frozen=True)
class _Row:
    seq: int
    user_id: str
    conversation_id: str
    body: dict[str, Any]
    attempts: int


class Outbox:
    """The SQLite store of writes waiting for MemOS (see the module docstring).

    The constructor only checks its arguments: the database (and its directory) is created by
    the first write, and an existing file is opened when first read, so making an agent that
    never writes leaves no file behind. Where it lives is logged (INFO) when it is opened.

    Args:
        path: The database file, or ``":memory:"`` for an outbox that dies with the process
            (what embedded clients use by default).
        max_pending: At most this many writes wait per process and service; :meth:`put`
            then waits for room (back-pressure) instead of growing without bound.
        max_backoff: The longest wait between two attempts of one write, in seconds.
        lease: Seconds a sender holds a write it sends before another process may take it
            over; renewed while the send runs (see the module docstring).
        concurrency: How many writes of different conversations are sent at once (each
            conversation still one write at a time, in order).
        clock: The wall clock that schedules retries and leases (``time.time``); tests pass
            their own to skip a backoff without sleeping.

    Raises:
        MemOSInputError: an argument of the wrong type or out of range, or a ``path`` where no
            file can be created (under a file, or a directory itself).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        lease: float = DEFAULT_LEASE,
        concurrency: int = DEFAULT_CONCURRENCY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        for name, count in (("max_pending", max_pending), ("concurrency", concurrency)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise MemOSInputError(f"{name} must be a positive integer; got {count!r}")
        for name, value in (("max_backoff", max_backoff), ("lease", lease)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise MemOSInputError(
                    f"{name} must be a positive number of seconds, not nan or inf; got {value!r}"
                )
        if not callable(clock):
            raise MemOSInputError(f"clock must be a function like time.time; got {clock!r}")
        self.path = checked_path("path", path)
        self.max_pending = max_pending
        self.max_backoff = float(max_backoff)
        self.lease = float(lease)
        self.clock = clock
        self.concurrency = concurrency
        self.owner = new_owner()
        self._db: sqlite3.Connection | None = None
        self._closed = False
        self._lock = threading.RLock()  # held around opening, which may write
        self.changed = threading.Condition(threading.Lock())
        """Notified whenever a write is added, sent, rescheduled or moved."""
        self._senders: dict[str, OutboxSender] = {}

    def _connect(self, *, create: bool) -> sqlite3.Connection | None:
        """The database, opened on first use; ``None`` if it does not exist and ``create`` is
        false (nothing can be waiting in an outbox that was never written). Holds ``_lock``."""
        if self._db is not None:
            return self._db
        if self._closed:
            raise MemOSInputError(f"the MemOS outbox at {self.path} is closed")
        in_memory = self.path == ":memory:"
        if not create and (in_memory or not os.path.exists(self.path)):
            return None
        try:
            if not in_memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise OutboxError(f"cannot open the MemOS outbox at {self.path}: {error}") from error
        if not in_memory:
            logger.info("MemOS writes wait in the outbox at %s until MemOS takes them", self.path)
        self._db = db
        self._release_dead_leases(db)
        return db

    def sender(self, client: MemOSClient) -> OutboxSender:
        """The one sender of this outbox for ``client``'s service and key (made on first use)."""
        target = target_of(client)
        with self._lock:
            sender = self._senders.get(target)
            if sender is None or sender.client._http.is_closed:
                sender = self._senders[target] = OutboxSender(client, self, target)
        return sender

    # ---- storage -------------------------------------------------------------------------

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

    def _release_dead_leases(self, db: sqlite3.Connection) -> None:
        """Free the writes a dead process left leased (``_lock`` held, on opening)."""
        owners = [
            row[0]
            for row in db.execute(
                "SELECT DISTINCT lease_owner FROM outbox WHERE lease_owner IS NOT NULL"
            )
        ]
        dead = [owner for owner in owners if owner_gone(owner)]
        if dead:
            with immediate_transaction(db, self._lock):
                db.executemany(
                    "UPDATE outbox SET lease_owner = NULL, lease_until = NULL "
                    "WHERE lease_owner = ?",
                    [(owner,) for owner in dead],
                )

    def pending(self, target: str | None = None) -> int:
        """Writes waiting (for ``target``, or for any service)."""
        query = "SELECT COUNT(*) FROM outbox" + (" WHERE target = ?" if target else "")
        with self._reading() as db:
            if db is None:
                return 0
            (count,) = db.execute(query, (target,) if target else ()).fetchone()
        return int(count)

    def put(
        self,
        target: str,
        user_id: str,
        conversation_id: str,
        batches: Sequence[Sequence[MessageInput]],
        options: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> list[int]:
        """Commit ``batches`` (one ``add/message`` call each, in order); their sequence numbers.

        Each request is built first, by the very code the sender's client sends it with, and not
        sent: what MemOS is known to refuse (an id over 100 characters, ``tags`` that are not a
        list, a batch over the token limit) is refused here, to the caller, instead of becoming a
        dead letter later. Then waits while ``max_pending`` writes for ``target`` are waiting.

        Raises:
            MemOSInputError: a batch ``add/message`` would refuse (nothing is stored).
            TimeoutError: no room within ``timeout`` seconds.
            OutboxError: the database cannot store them (nothing of ``batches`` is stored).
        """
        extra = {k: v for k, v in (options or {}).items() if v is not None}
        for batch in batches:
            if batch:
                add_message(batch, user_id=user_id, conversation_id=conversation_id, **extra)
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.pending(target) >= self.max_pending:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"the MemOS outbox holds {self.max_pending} unsent writes")
            with self.changed:
                self.changed.wait(min(IDLE_POLL, remaining or IDLE_POLL))
        now = self.clock()
        rows = [
            (target, user_id, conversation_id, json.dumps({"messages": list(b), **extra}), now)
            for b in batches
            if b
        ]
        seqs: list[int] = []
        try:
            with self._transaction() as db:
                for row in rows:
                    cursor = db.execute(
                        "INSERT INTO outbox (target, user_id, conversation_id, body, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        row,
                    )
                    seqs.append(int(cursor.lastrowid or 0))
        except (OSError, sqlite3.Error) as error:  # a full disk, a file made read-only
            raise OutboxError(f"the MemOS outbox at {self.path} cannot store: {error}") from error
        self._notify()
        return seqs

    def claim(self, target: str) -> _Row | None:
        """Lease the oldest due write of some conversation whose older writes are all sent."""
        if self.pending(target) == 0:
            return None  # nothing to claim (and no file to create)
        now = self.clock()
        with self._transaction() as db:
            found = db.execute(
                "SELECT o.seq, o.user_id, o.conversation_id, o.body, o.attempts FROM outbox o "
                f"JOIN ({_HEADS}) h ON o.seq = h.head "
                "WHERE o.next_attempt_at <= ? AND (o.lease_until IS NULL OR o.lease_until < ?) "
                "ORDER BY o.next_attempt_at, o.seq LIMIT 1",
                (target, now, now),
            ).fetchone()
            if found is None:
                return None
            db.execute(
                "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE seq = ?",
                (self.owner, now + self.lease, found[0]),
            )
        seq, user_id, conversation_id, body, attempts = found
        return _Row(seq, user_id, conversation_id, json.loads(body), attempts)

    def renew(self, target: str) -> None:
        """Extend the leases this outbox holds on ``target``'s writes: their sends still run."""
        with self._lock:
            if self._connect(create=False) is None:
                return
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET lease_until = ? WHERE lease_owner = ? AND target = ?",
                (self.clock() + self.lease, self.owner, target),
            )

    def next_due(self, target: str) -> float | None:
        """Seconds until a write of ``target`` may be claimed (``None``: nothing waits)."""
        with self._reading() as db:
            if db is None:
                return None
            (due,) = db.execute(
                "SELECT MIN(MAX(o.next_attempt_at, COALESCE(o.lease_until, 0))) FROM outbox o "
                f"JOIN ({_HEADS}) h ON o.seq = h.head",
                (target,),
            ).fetchone()
        return None if due is None else max(0.0, float(due) - self.clock())

    def done(self, row: _Row) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM outbox WHERE seq = ?", (row.seq,))
        self._notify()

    def retry_later(self, row: _Row, error: BaseException) -> float:
        """Reschedule ``row`` with backoff; the seconds until its next attempt."""
        # Capped before it is computed: 2.0**1024 overflows, and 2**40 s is forever anyway.
        delay = min(_FIRST_BACKOFF * 2.0 ** min(row.attempts, 40), self.max_backoff)
        with self._transaction() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, "
                "lease_owner = NULL, lease_until = NULL, last_error = ? WHERE seq = ?",
                (self.clock() + delay, describe(error), row.seq),
            )
        self._notify()
        return delay

    def bury(self, row: _Row, error: BaseException) -> None:
        """Move a refused write to ``dead_letters``."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO dead_letters SELECT seq, target, user_id, "
                "conversation_id, body, created_at, attempts + 1, ?, ? FROM outbox WHERE seq = ?",
                (self.clock(), describe(error), row.seq),
            )
            db.execute("DELETE FROM outbox WHERE seq = ?", (row.seq,))
        self._notify()

    def dead_letters(self) -> list[DeadLetter]:
        """The writes the service refused as invalid, oldest first."""
        with self._reading() as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT seq, user_id, conversation_id, body, attempts, error FROM dead_letters "
                "ORDER BY seq"
            ).fetchall()
        return [
            DeadLetter(seq, user, conversation, json.loads(body)["messages"], attempts, error)
            for seq, user, conversation, body, attempts, error in rows
        ]

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

    def outcome(self, seqs: Sequence[int]) -> tuple[int, list[str]]:
        """How many of ``seqs`` still wait, and the errors of those refused."""
        marks = ",".join("?" * len(seqs))
        with self._reading() as db:
            if db is None:
                return 0, []
            (waiting,) = db.execute(
                f"SELECT COUNT(*) FROM outbox WHERE seq IN ({marks})", tuple(seqs)
            ).fetchone()
            errors = [
                row[0]
                for row in db.execute(
                    f"SELECT error FROM dead_letters WHERE seq IN ({marks})", tuple(seqs)
                )
            ]
        return int(waiting), errors

    def close(self, timeout: float | None = None) -> None:
        """Stop the senders and close the database; unsent writes stay in the file.

        Waits at most ``timeout`` seconds (default :data:`CLOSE_TIMEOUT`) for a send in flight;
        one still running then is abandoned, and its write is sent again by the next run.
        """
        bound = _outbox_sender.CLOSE_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + bound
        with self._lock:
            senders = list(self._senders.values())
            self._senders.clear()
        for sender in senders:
            sender.stop(max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._closed = True
            db, self._db = self._db, None
            if db is None:
                return
            # A send still running will not report back: let the next run take its write over.
            db.execute(
                "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
                (self.owner,),
            )
            db.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r})"
