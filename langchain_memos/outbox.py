"""A durable outbox for MemOS writes: persisted before sending, delivered in order, at least once.

Messages handed to :class:`~langchain_memos.middleware.MemOSMiddleware`, the LangGraph save node
or a :class:`~langchain_memos.MemOSChatMessageHistory` given ``outbox=`` are first committed to
a SQLite database (:mod:`~langchain_memos._outbox_store`), then sent to ``add/message`` by
background threads (:mod:`~langchain_memos._outbox_sender`, which states the delivery rules:
order, retries, dead letters, leases, and the at-least-once guarantee). The README's "Writes: the
outbox" describes it all for users. This module is the public face: what may be stored, how
much may wait, and the one sender per service and key.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_memos import _outbox_sender
from langchain_memos._constants import EMBEDDED_BASE_URL
from langchain_memos._endpoints import add_message
from langchain_memos._exceptions import MemOSInputError, OutboxError, OutboxFullError
from langchain_memos._outbox_names import (
    OUTBOX_PATH_ENV,
    checked_path,
    default_outbox_path,
    target_of,
)
from langchain_memos._outbox_retry import seconds
from langchain_memos._outbox_sender import CLOSE_TIMEOUT, IDLE_POLL, OutboxSender
from langchain_memos._outbox_store import OutboxStore
from langchain_memos._validation.keywords import checks_keywords
from langchain_memos.client import MemOSClient
from langchain_memos.types import MessageInput

__all__ = [
    "CLOSE_TIMEOUT",
    "OUTBOX_PATH_ENV",
    "DeadLetter",
    "Outbox",
    "OutboxError",
    "OutboxFullError",
    "OutboxSender",
    "check_max_pending_for",
    "default_outbox_path",
    "open_outbox",
    "target_of",
]

logger = logging.getLogger("langchain_memos")

DEFAULT_MAX_PENDING = 1_000
DEFAULT_MAX_BACKOFF = 60.0
DEFAULT_LEASE = 30.0  # renewed every third of it while a send runs
DEFAULT_CONCURRENCY = 4


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


def check_max_pending_for(outbox: object, max_pending: int) -> None:
    """Refuse a ``max_pending`` that would be ignored: an :class:`Outbox` passed in has its own."""
    if isinstance(outbox, Outbox) and max_pending != DEFAULT_MAX_PENDING:
        raise MemOSInputError(
            f"max_pending={max_pending} would not apply to the Outbox passed in, which has its "
            f"own (max_pending={outbox.max_pending}): pass it there, "
            f"Outbox(path, max_pending={max_pending}), or pass outbox= as a path"
        )


@dataclass(frozen=True)
class DeadLetter:
    """A write the service refused as invalid: kept for inspection and :meth:`Outbox.requeue`."""

    seq: int
    user_id: str
    conversation_id: str
    messages: list[MessageInput]
    attempts: int
    error: str


@checks_keywords
class Outbox(OutboxStore):
    """The writes waiting for MemOS, and the senders that deliver them (see the module docstring).

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
            over; renewed while the send runs (see :mod:`~langchain_memos._outbox_sender`).
        concurrency: How many writes of different conversations are sent at once (each
            conversation still one write at a time, in order).
        clock: The wall clock that dates retries and leases (``time.time``). The senders wait
            by it (a backoff, the next lease renewal), looking again whenever :attr:`changed`
            is notified and at least every second: a test passes its own, moves it forward
            and notifies ``changed`` to skip a backoff or a lease without sleeping.

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
        super().__init__(checked_path("path", path), lease=float(lease), clock=clock)
        self.max_pending = max_pending
        self.max_backoff = float(max_backoff)
        self.concurrency = concurrency
        self._senders: dict[str, OutboxSender] = {}

    def sender(self, client: MemOSClient) -> OutboxSender:
        """The one sender of this outbox for ``client``'s service and key (made on first use).

        A sender that was stopped (by a writer's ``close()``) or whose client was closed is
        replaced by a new one for ``client``.
        """
        target = target_of(client)
        with self._lock:
            sender = self._senders.get(target)
            if sender is None or sender.stopped or sender.client.is_closed:
                sender = self._senders[target] = OutboxSender(client, self, target)
        return sender

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
        dead letter later. Then waits while ``max_pending`` writes for ``target`` are waiting,
        for as long as that lasts when ``timeout`` is ``None`` (MemOS unreachable: until it is
        back); a warning says so when the wait starts.

        Raises:
            MemOSInputError: a batch ``add/message`` would refuse (nothing is stored).
            OutboxFullError: no room within ``timeout`` seconds (nothing is stored); also a
                ``TimeoutError``.
            OutboxError: the database cannot store them (nothing of ``batches`` is stored).
        """
        extra = {k: v for k, v in (options or {}).items() if v is not None}
        for batch in batches:
            if batch:
                add_message(batch, user_id=user_id, conversation_id=conversation_id, **extra)
        deadline = None if timeout is None else time.monotonic() + timeout
        waited = False
        while (waiting := self.pending(target)) >= self.max_pending:
            if not waited:  # once per put: a turn that blocks says why, then waits quietly
                waited = True
                logger.warning(
                    "MemOS outbox at %s holds %d unsent writes for %s (max_pending %d): this "
                    "write waits for room until one is delivered%s",
                    self.path,
                    waiting,
                    target,
                    self.max_pending,
                    "" if timeout is None else f", at most {seconds(timeout)} s",
                )
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise OutboxFullError(
                    f"the MemOS outbox at {self.path} holds {self.max_pending} unsent writes "
                    f"(max_pending) and none was delivered within {seconds(timeout or 0.0)} s"
                )
            with self.changed:
                self.changed.wait(min(IDLE_POLL, remaining or IDLE_POLL))
        bodies = [{"messages": list(batch), **extra} for batch in batches if batch]
        return self._insert(target, user_id, conversation_id, bodies)

    def adopt(self, client: MemOSClient) -> int:
        """Hand ``client`` the writes waiting for another service or API key; how many.

        A write is sent only by a client of the :attr:`~langchain_memos.MemOSClient.identity`
        it was written for (the service and a hash of the key), so that one outbox file can serve
        several projects. After the key was rotated, or the base URL spelt otherwise
        (``localhost`` for ``127.0.0.1``), the writes left under the old identity wait for good:
        a writer or history opening the outbox says how many, and this sends them with
        ``client``, in order with its own. Writes being sent by another process stay theirs.
        """
        moved = self._adopt(target_of(client))
        if moved:
            self.sender(client).resume()
        return moved

    def dead_letters(self) -> list[DeadLetter]:
        """The writes that can never be delivered as they are, oldest first (:meth:`requeue`)."""
        return [
            DeadLetter(seq, user, conversation, json.loads(body)["messages"], attempts, error)
            for seq, user, conversation, body, attempts, error in self._dead_rows()
        ]

    def close(self, timeout: float | None = None) -> None:
        """Stop the senders and close the database; unsent writes stay in the file.

        Waits at most ``timeout`` seconds (default :data:`CLOSE_TIMEOUT`) for a send in flight;
        one still running then is abandoned, and its write is sent again by the next run.
        Closing again does nothing.
        """
        bound = _outbox_sender.CLOSE_TIMEOUT if timeout is None else timeout
        deadline = time.monotonic() + bound
        with self._lock:
            senders = list(self._senders.values())
            self._senders.clear()
        try:
            for sender in senders:
                sender.stop(max(0.0, deadline - time.monotonic()))
        finally:  # Ctrl-C in the wait: the database is closed all the same, its leases released
            self._close_database()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(path={self.path!r})"
