"""What the embedded engine's store and the outbox share: one way to write to SQLite."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["immediate_transaction"]


@contextmanager
def immediate_transaction(
    db: sqlite3.Connection, lock: threading.Lock | threading.RLock
) -> Iterator[sqlite3.Connection]:
    """Hold ``lock`` and a write transaction on ``db`` (autocommit mode): commit, or roll back.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so a transaction that reads before it
    writes cannot fail halfway on another process's write.
    """
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.in_transaction:  # SQLite already rolled back after some errors (SQLITE_FULL)
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
