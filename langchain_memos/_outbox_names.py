"""Names the outbox goes by: its file, the service a write is for, the owner of a lease."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

from langchain_memos._exceptions import MemOSInputError
from langchain_memos.client import MemOSClient

__all__ = [
    "OUTBOX_PATH_ENV",
    "checked_path",
    "default_outbox_path",
    "new_owner",
    "owner_gone",
    "target_of",
]

OUTBOX_PATH_ENV = "MEMOS_OUTBOX_PATH"
_HOST = socket.gethostname()
_PROCESS = uuid.uuid4().hex[:12]  # tells this process from an earlier one with the same pid


def _new_process_id() -> None:
    global _PROCESS  # one id per process, drawn again in a forked child
    _PROCESS = uuid.uuid4().hex[:12]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_process_id)


def default_outbox_path() -> Path:
    """``$MEMOS_OUTBOX_PATH``, else ``langchain-memos/outbox.sqlite3`` in the user's cache."""
    explicit = os.environ.get(OUTBOX_PATH_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA")
    root = Path(cache) if cache else Path.home() / ".cache"
    return root / "langchain-memos" / "outbox.sqlite3"


def target_of(client: MemOSClient) -> str:
    """Which service and project a write is for: ``client.identity`` (never the key)."""
    return client.identity


def checked_path(name: str, path: object) -> str:
    """``path`` as a string, if an outbox may live there; else a :class:`MemOSInputError`.

    Only looks: nothing is created here.
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
    return str(where)


def new_owner() -> str:
    """A lease owner for one outbox of this process: ``host:pid:process:outbox``."""
    return f"{_HOST}:{os.getpid()}:{_PROCESS}:{uuid.uuid4().hex[:8]}"


def owner_gone(owner: str) -> bool:
    """Whether the process named by a lease owner (``host:pid:process:outbox``) is certainly gone.

    Only a process of this host can be checked: its pid no longer runs, or it is this very pid
    with another process id (the container was restarted). Anything else may still be running:
    its lease is waited out.
    """
    host, pid_text, process = [*owner.split(":"), "", ""][:3]
    if host != _HOST or not pid_text.isdigit():
        return False
    if int(pid_text) == os.getpid():
        return process != _PROCESS
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but not ours, or a platform without signals
        return False
    return False
