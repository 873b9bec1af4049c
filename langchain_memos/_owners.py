"""Who holds a lease or a task: a process of a host, told from an earlier one with its pid."""

from __future__ import annotations

import os
import socket
import uuid

__all__ = ["new_owner", "owner_gone"]

_HOST = socket.gethostname()
_PROCESS = uuid.uuid4().hex[:12]  # tells this process from an earlier one with the same pid


def _new_process_id() -> None:
    global _PROCESS  # one id per process, drawn again in a forked child
    _PROCESS = uuid.uuid4().hex[:12]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_process_id)


def new_owner() -> str:
    """Who holds something (an outbox's leases, a running task) for this process:
    ``host:pid:process:holder``."""
    return f"{_HOST}:{os.getpid()}:{_PROCESS}:{uuid.uuid4().hex[:8]}"


def owner_gone(owner: str) -> bool:
    """Whether the process named by an owner (``host:pid:process:holder``) is certainly gone.

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
