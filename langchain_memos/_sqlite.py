"""What the embedded engine's store and the outbox share: how to tell their files from others'
SQLite files without touching them, and one way to write to SQLite."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from urllib.parse import quote

__all__ = ["OpenedFile", "foreign_database", "immediate_transaction"]


def foreign_database(path: str, *, application_id: int, own_table: str) -> str | None:
    """Why the file at ``path`` is not a database of ours, or ``None`` if it may be used.

    Ours: a database whose header carries ``application_id``, or one without any (0) that is
    empty of tables or holds ``own_table``. An empty file is a new database. Reads the file
    through read-only SQLite connections and writes nothing: the header through one that takes
    no lock and creates no file beside it (``immutable``), the tables of a file without an id
    through an ordinary one. Never through a file descriptor of its own: on POSIX, closing any
    descriptor of a file releases every lock the process holds on it, so another connection of
    this process to the file (an engine already open on it) would lose its locks unknowingly,
    and another process could then delete the write-ahead log it is still writing to. SQLite's
    own connections keep such a descriptor open until the last lock on the file is released.

    Raises:
        OSError: the file cannot be read.
        sqlite3.Error: it is a SQLite database whose header or tables cannot be read.
    """
    if os.stat(path).st_size == 0:
        return None
    try:
        found = _application_id(path)
        if found == application_id and found != 0:
            return None
        if found != 0:
            return f"is another application's SQLite database (application_id {found:#010x})"
        with closing(_read_only(path, immutable=False)) as connection:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {str(name) for (name,) in rows}
    except sqlite3.DatabaseError as error:
        if getattr(error, "sqlite_errorname", "") == "SQLITE_NOTADB":
            return "is not a SQLite database"
        raise
    if tables and own_table not in tables:
        return f"is another application's SQLite database (tables {', '.join(sorted(tables)[:5])})"
    return None


def _application_id(path: str) -> int:
    """The id in the file's header: read without a lock, or, if that read finds the file
    malformed (another process is writing it under its locks: making it, or copying its
    write-ahead log in), again as SQLite's readers read, under a read lock."""
    try:
        with closing(_read_only(path, immutable=True)) as header:
            return int(header.execute("PRAGMA application_id").fetchone()[0]) & 0xFFFFFFFF
    except sqlite3.DatabaseError as error:
        if getattr(error, "sqlite_errorname", "") == "SQLITE_NOTADB":
            raise
    with closing(_read_only(path, immutable=False)) as header:
        return int(header.execute("PRAGMA application_id").fetchone()[0]) & 0xFFFFFFFF


def _read_only(path: str, *, immutable: bool) -> sqlite3.Connection:
    # The path's bytes as the file system has them (a name that is not UTF-8 too), after an
    # empty host where the path begins with // (which would read as a host name).
    quoted = quote(os.fsencode(os.path.abspath(path)))
    uri = "file:" + ("//" if quoted.startswith("//") else "") + quoted + "?mode=ro"
    return sqlite3.connect(uri + ("&immutable=1" if immutable else ""), uri=True)


@contextmanager
def immediate_transaction(
    db: sqlite3.Connection,
    lock: threading.Lock | threading.RLock,
    on_rollback: Callable[[], object] | None = None,
    on_commit: Callable[[], object] | None = None,
) -> Iterator[sqlite3.Connection]:
    """Hold ``lock`` and a write transaction on ``db`` (autocommit mode): commit (and then call
    ``on_commit``), or roll back (and then call ``on_rollback``), still holding the lock.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so a transaction that reads before it
    writes cannot fail halfway on another process's write.
    """
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")  # a COMMIT that fails (a full disk) is rolled back too
        except BaseException:
            try:
                if db.in_transaction:  # SQLite already rolled back after some errors (SQLITE_FULL)
                    db.execute("ROLLBACK")
            finally:
                if on_rollback is not None:
                    on_rollback()
            raise
        if on_commit is not None:
            on_commit()


@dataclass(frozen=True)
class OpenedFile:
    """A database file as it was opened: its absolute path (a relative one would name another
    file once the process changed directory) and which file was there (device and inode)."""

    path: str
    identity: tuple[int, int] | None

    @classmethod
    def at(cls, path: str) -> OpenedFile:
        where = os.path.abspath(path)
        return cls(where, _file_of(where))

    def gone(self) -> bool:
        """Whether the file opened is no longer at its path (deleted, or replaced by another):
        SQLite goes on writing to it, and what it holds ends with the process."""
        return self.identity is not None and _file_of(self.path) != self.identity


def _file_of(path: str) -> tuple[int, int] | None:
    """The device and inode of the file at ``path`` (None: none there)."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino
