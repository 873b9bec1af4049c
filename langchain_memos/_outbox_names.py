"""Names the outbox goes by: its file, the service a write is for, the owner of a lease."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from langchain_memos._exceptions import MemOSInputError
from langchain_memos._owners import new_owner, owner_gone
from langchain_memos._sqlite import foreign_database
from langchain_memos.client import MemOSClient

__all__ = [
    "OUTBOX_PATH_ENV",
    "check_outbox_file",
    "checked_path",
    "default_outbox_path",
    "may_create_directory",
    "new_owner",
    "owner_gone",
    "target_of",
]

OUTBOX_PATH_ENV = "MEMOS_OUTBOX_PATH"


def default_outbox_path() -> Path:
    """``$MEMOS_OUTBOX_PATH``, else ``langchain-memos/outbox.sqlite3`` in the user's cache."""
    explicit = os.environ.get(OUTBOX_PATH_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    return _cache_outbox_path()


def _cache_outbox_path() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA")
    root = Path(cache) if cache else Path.home() / ".cache"
    return root / "langchain-memos" / "outbox.sqlite3"


def may_create_directory(path: str) -> bool:
    """Whether the outbox may create ``path``'s directory: only the user cache's default.

    A path someone chose (``outbox=``, ``$MEMOS_OUTBOX_PATH``) must be in a directory that
    exists: a typo must not leave directories behind, nor data somewhere nobody looks.
    """
    return Path(path) == _cache_outbox_path().expanduser()


def check_outbox_file(name: str, path: str) -> None:
    """Refuse an existing file that is not an outbox, after only reading it.

    Another application's SQLite database, or a file that is not SQLite at all, is never
    opened for writing: opening it would change it (journal mode, the outbox's tables).
    """
    if not os.path.isfile(path):
        return
    try:
        reason = foreign_database(path, application_id=0, own_table="outbox")
    except (OSError, sqlite3.Error) as error:
        raise MemOSInputError(f"cannot read the MemOS outbox {name} {path}: {error}") from None
    if reason is not None:
        raise MemOSInputError(
            f"{name} {path} {reason}, not a MemOS outbox; refusing to touch it: name a new file"
        )


def target_of(client: MemOSClient) -> str:
    """Which service and project a write is for: ``client.identity`` (never the key)."""
    return client.identity


def checked_path(name: str, path: object) -> str:
    """``path`` as a string, if an outbox may live there; else a :class:`MemOSInputError`.

    Refused: a directory, a path under a file, a directory that does not exist (but for the
    default in the user cache), and an existing file that is not an outbox
    (:func:`check_outbox_file`). Only looks: nothing is created or written here.
    """
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise MemOSInputError(
            f"{name} must be a file path (str or os.PathLike) or ':memory:'; "
            f"got {type(path).__name__}"
        )
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise MemOSInputError(f"{name} must be a non-empty file path; got {path!r}")
    if text == ":memory:":
        return text
    where = Path(text).expanduser()
    if where.is_dir():
        raise MemOSInputError(f"{name} {text} is a directory; name a file in it")
    for parent in where.parents:
        if parent.exists():
            if not parent.is_dir():
                raise MemOSInputError(
                    f"cannot create the MemOS outbox at {text}: {parent} is not a directory"
                )
            break
    if not where.parent.is_dir() and not may_create_directory(str(where)):
        raise MemOSInputError(
            f"cannot create the MemOS outbox at {text}: the directory {where.parent} does not "
            "exist; create it first (only the default place in the user cache is made for you)"
        )
    check_outbox_file(name, str(where))
    return str(where)
