"""The engine's error answer: a MemOS business code, whose HTTP status comes from the code table."""

from __future__ import annotations

import sqlite3

from langchain_memos import _codes as codes


class EngineError(Exception):
    """An error answer: a MemOS business code and a message (the HTTP status follows the code)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return codes.http_status(self.code)


class NotWrittenError(Exception):
    """A write that found the database locked by another process before it wrote anything: the
    request may be sent again as it is (see ``EmbeddedEngine.handle``)."""


def busy(error: BaseException) -> bool:
    """Whether ``error`` is SQLite waiting in vain for another process's write lock (past the
    connection's busy timeout)."""
    said = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and (
        "database is locked" in said or "database is busy" in said
    )
