"""The engine's error answers: a MemOS business code whose HTTP status comes from the code table,
and what a request that failed in the database is answered with."""

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


class DatabaseGoneError(Exception):
    """The database file was deleted or replaced while the engine had it open: SQLite would go
    on writing to a file that ends with the process. Nothing was written."""


def busy(error: BaseException) -> bool:
    """Whether ``error`` is SQLite waiting in vain for another process's write lock (past the
    connection's busy timeout)."""
    said = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and (
        "database is locked" in said or "database is busy" in said
    )


# What SQLite says when a (valid) request is too big for one statement.
_TOO_LARGE = ("too many", "too large", "too big", "stack overflow", "too complex")
# Another process holding the file's write lock past the busy timeout (5 s).
_BUSY_MESSAGE = "the embedded engine's database is busy with another process's write"
# What SQLite says when the file cannot take a write for now: a full disk, an I/O error, a file
# made read-only. Unavailable, as the cloud's storage would be: an outbox keeps the write.
_DISK = ("disk is full", "disk i/o error", "readonly database")
_DISK_MESSAGE = "the embedded engine cannot write its database file (a full disk, an I/O error?)"
# The memory service temporarily unavailable: a read may be sent again; a write that wrote
# nothing (NotWrittenError), the codes that say it was not processed, which the client resends.
_UNAVAILABLE = 50004
_NOT_WRITTEN = {"/add/message": 50144, "/add/feedback": 50145}
# SQLITE_CORRUPT and SQLITE_NOTADB: the file is no database any more (other errors are bugs).
_DAMAGED = (11, 26)


def database_failure(error: Exception, route: str, path: str) -> tuple[int, int, str] | None:
    """The HTTP status, MemOS code and message a request that failed in the database is
    answered with (``route``: the endpoint; ``path``: the database file); None for a bug."""
    not_written = _NOT_WRITTEN.get(route, _UNAVAILABLE)
    if isinstance(error, NotWrittenError):
        return 503, not_written, _BUSY_MESSAGE
    if isinstance(error, DatabaseGoneError):  # refused before writing: to be sent again
        return 503, not_written, str(error)
    said = str(error).lower()
    if isinstance(error, sqlite3.OperationalError):
        if busy(error):
            # Perhaps after part of the request was written: not to be sent again as a write.
            return 503, _UNAVAILABLE, _BUSY_MESSAGE
        if any(words in said for words in _DISK):
            return 503, _UNAVAILABLE, _DISK_MESSAGE
        if any(words in said for words in _TOO_LARGE):
            message = f"the request is too large for the embedded engine ({error})"
            return 400, codes.BAD_REQUEST, f"Invalid request parameters: {message}"
        return None
    if getattr(error, "sqlite_errorcode", 0) & 0xFF in _DAMAGED:  # a damaged file, or none
        message = (
            f"the embedded engine's database {path} is damaged ({error}): restore it from a "
            "backup, or start a new one"
        )
        return 500, codes.INTERNAL_ERROR, message
    return None
