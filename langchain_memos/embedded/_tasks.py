"""The tasks ``add/message`` answers with: how each ended, and whether the process refining
one that is still running is gone (killed, crashed), leaving it to nobody."""

from __future__ import annotations

import logging
import sqlite3

from langchain_memos._owners import owner_gone

__all__ = ["ended", "fail_orphaned", "runner_gone"]

logger = logging.getLogger("langchain_memos.embedded")


def ended(db: sqlite3.Connection, task_id: str, status: str) -> None:
    """Record how a task ended; nobody runs it any more."""
    db.execute("UPDATE tasks SET status = ? WHERE task_id = ?", (status, task_id))
    db.execute("DELETE FROM task_runners WHERE task_id = ?", (task_id,))


def runner_gone(db: sqlite3.Connection, task_id: str) -> bool:
    """Whether the process refining a running task is gone (killed, crashed): nobody will end
    it. Reads only; false for a task an older version left running (no runner recorded)."""
    row = db.execute("SELECT runner FROM task_runners WHERE task_id = ?", (task_id,)).fetchone()
    return row is not None and owner_gone(row[0])


def fail_orphaned(db: sqlite3.Connection, task_id: str) -> str:
    """In a write transaction: a running task whose runner is gone is recorded as failed (its
    fast memories stay); its status now."""
    (status,) = db.execute("SELECT status FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
    if status == "running" and runner_gone(db, task_id):
        logger.warning("task %s was left running by a process that is gone; it failed", task_id)
        ended(db, task_id, "failed")
        return "failed"
    return str(status)
