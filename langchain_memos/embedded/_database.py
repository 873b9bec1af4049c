"""Which files the engine takes as its database, decided before it writes anything to them.

Opening a database for writing changes it (journal mode, schema, version), so whatever is not
plainly the engine's own, or a new file, is refused with a :class:`ConfigurationError` naming the
path, after reading it only: another application's SQLite file, a file that is not SQLite at all,
a path in a directory that does not exist (the engine never picks a place to store data by
itself), and SQLite URIs, which the engine would take as a file name.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langchain_memos._exceptions import ConfigurationError
from langchain_memos._sqlite import foreign_database

__all__ = ["APPLICATION_ID", "check_database", "check_path_text"]

# PRAGMA application_id of the engine's databases ("MemO"), set when one is created.
APPLICATION_ID = int.from_bytes(b"MemO", "big")
# The table an engine database made before APPLICATION_ID holds (its version is checked later).
_OUR_TABLE = "memories"


def check_path_text(path: str) -> None:
    """Raise :class:`ConfigurationError` for what cannot name a file: nothing, NUL, a URI."""
    if not path.strip() or "\x00" in path:
        raise ConfigurationError(f"the database path {path!r} is not a file path")
    if path.startswith("file:") or "://" in path:
        raise ConfigurationError(
            f"the database path {path!r} is a URI; the engine takes a file path (or ':memory:')"
        )


def check_database(path: str) -> None:
    """Raise :class:`ConfigurationError` unless ``path`` is a new file in an existing directory,
    an empty file, or a database of the engine. Reads ``path``; writes nothing."""
    check_path_text(path)
    target = Path(path)
    parent = target.parent
    if not parent.exists():
        raise ConfigurationError(
            f"cannot use the database {path}: the directory {parent} does not exist; create it "
            "first (the engine never picks a place to store data by itself)"
        )
    if not parent.is_dir():
        raise ConfigurationError(f"cannot use the database {path}: {parent} is not a directory")
    if not target.exists():
        return
    if not target.is_file():
        raise ConfigurationError(f"cannot use the database {path}: it is not a regular file")
    try:
        reason = foreign_database(path, application_id=APPLICATION_ID, own_table=_OUR_TABLE)
    except OSError as error:
        raise ConfigurationError(f"cannot read the database {path}: {error.strerror}") from None
    except sqlite3.Error as error:
        raise ConfigurationError(f"cannot read the database {path}: {error}") from None
    if reason is not None:
        raise ConfigurationError(f"{path} {reason}; refusing to touch it")
