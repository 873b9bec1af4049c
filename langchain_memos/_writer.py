"""The agents' background writer: turns committed to a durable outbox, delivered from a thread.

Background writes are committed to a durable :class:`~langchain_memos.outbox.Outbox` before
they are sent, and survive a crash of the process (see that module for the guarantee).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

from langchain_core.messages import BaseMessage

from langchain_memos import _outbox_sender
from langchain_memos._exceptions import ClosedError, MemOSInputError
from langchain_memos._ordered import OrderedWrites
from langchain_memos._validation import MAX_REQUEST_TOKENS
from langchain_memos.client import MemOSClient
from langchain_memos.messages import batch_messages, to_memos_messages
from langchain_memos.outbox import (
    DEFAULT_MAX_PENDING,
    Outbox,
    OutboxError,
    OutboxSender,
    check_max_pending_for,
    open_outbox,
)

__all__ = ["BackgroundWriter", "OutboxArg"]

logger = logging.getLogger("langchain_memos")


OutboxArg = Outbox | str | os.PathLike[str] | None
Storable = Callable[[Sequence[BaseMessage]], "Sequence[BaseMessage] | None"]
"""Of messages MemOS would refuse together, the ones to write instead (None: none)."""


class BackgroundWriter:
    """Hands turns to a durable :class:`~langchain_memos.outbox.Outbox`, delivered from a thread.

    :meth:`submit` converts the messages at once, cuts a turn over the ``add/message`` token
    limit into several writes, in order, and commits them to the outbox, which refuses what
    MemOS would refuse (so bad input raises in the caller, never becomes a dead letter); then it
    returns. The outbox's sender delivers them in order per conversation, retrying while the
    service is unavailable. When ``max_pending`` writes are already waiting, ``submit`` waits
    for room (back-pressure; :meth:`asubmit` waits in a worker thread, never on the event
    loop). :meth:`flush` waits for delivery; :meth:`close` and interpreter exit wait too, but
    never longer than their bound (default :data:`~langchain_memos.outbox.CLOSE_TIMEOUT`):
    what is still unsent then stays in a file outbox for the next run, and is logged.

    Args:
        client: The sync client the sender uses.
        outbox: An :class:`Outbox`, a database path, or ``None`` for the default (a file in the
            user cache for a service, in memory for the embedded engine).
        max_pending: Bound of the writes waiting, when the outbox is made here.
    """

    def __init__(
        self,
        client: MemOSClient,
        *,
        outbox: OutboxArg = None,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
            raise MemOSInputError(f"max_pending must be a positive integer; got {max_pending!r}")
        check_max_pending_for(outbox, max_pending)
        self._owns_outbox = not isinstance(outbox, Outbox)
        self.client = client
        self.outbox = open_outbox(outbox, client, max_pending=max_pending)
        self.not_stored = 0
        """Messages handed to :meth:`submit` that the outbox could not store (a full disk)."""
        self._closed = False
        self._ordered = OrderedWrites()
        self._delivered: bool | None = None  # what close() found, said again by a second close
        self.sender.resume()  # a previous run left writes: deliver them now
        # Only once made: the exit hook (see _outbox_sender) closes no half-made writer.
        _outbox_sender.LIVE_WRITERS.add(self)

    @property
    def sender(self) -> OutboxSender:
        """The outbox's sender for this client (a new one if another writer stopped the last)."""
        return self.outbox.sender(self.client)

    @property
    def failed(self) -> int:
        """Writes the service refused as invalid (kept in the outbox's dead letters)."""
        return self.sender.failed

    def submit(
        self,
        messages: Sequence[BaseMessage],
        *,
        user_id: str,
        conversation_id: str,
        storable: Storable | None = None,
    ) -> None:
        """Commit ``messages`` for ``add/message``, waiting for room if the outbox is full.

        Messages over one request's token limit together go in several writes, in order.
        ``storable``: when MemOS would refuse ``messages``, the ones to commit instead (None:
        refuse them all).

        Raises:
            MemOSInputError: what ``add/message`` would refuse (an id over 100 characters, a
                message over the request limit by itself, ...), or a closed writer.
            OutboxError: the outbox cannot store them (a full disk); counted in
                :attr:`not_stored`.
        """
        if self._closed:
            raise ClosedError(
                "this MemOS memory was closed (close()); its turns are no longer written: "
                "close it after the last turn, or make a new one"
            )
        if self.client.is_closed:
            raise ClosedError(
                "the MemOSClient of this MemOS memory was closed; its turns cannot be sent: "
                "close the client after the memory (memory.close() first)"
            )
        try:
            converted = to_memos_messages(messages)
        except MemOSInputError:
            rest = None if storable is None else storable(messages)
            if rest is None:
                raise
            converted = to_memos_messages(rest)
        if not converted:
            return
        try:
            batches = batch_messages(converted, MAX_REQUEST_TOKENS)
            self.sender.deliver(user_id, conversation_id, batches)
        except OutboxError as error:
            self.not_stored += len(converted)
            message = f"{len(converted)} messages of user {user_id} not stored: {error}"
            raise OutboxError(message) from error

    async def asubmit(
        self,
        messages: Sequence[BaseMessage],
        *,
        user_id: str,
        conversation_id: str,
        storable: Storable | None = None,
    ) -> None:
        """:meth:`submit` for async code: the commit (and any wait for room) runs in a thread,
        in the order the turns were submitted, also when a caller is cancelled meanwhile (its
        turn is still committed: a thread cannot be stopped)."""
        await self._ordered.run(
            self.submit,
            messages,
            user_id=user_id,
            conversation_id=conversation_id,
            storable=storable,
        )

    @property
    def pending(self) -> int:
        """Writes waiting for this client's service, sent or not yet tried."""
        return self.sender.pending

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every waiting write was delivered; ``False`` if ``timeout`` passed first."""
        return self.sender.wait(None, timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Deliver for at most ``timeout`` seconds, then stop the sender; further submits raise.

        The default bound is :data:`~langchain_memos.outbox.CLOSE_TIMEOUT`. ``True`` when
        nothing of this client's is waiting any more: every write was delivered, or refused and
        kept in the dead letters (each logged as an error when it was). ``False`` if writes are
        still waiting: a warning says how many and where they are kept. The sender is stopped
        either way, a send still in flight abandoned and its write handed back, so a file outbox
        keeps it for the next run. Closing again does nothing and returns the same answer.
        """
        if self._closed:
            return bool(self._delivered)
        self._closed = True
        _outbox_sender.LIVE_WRITERS.discard(self)  # closed once: exit does not wait again
        try:  # a send still in flight is abandoned (a daemon thread), its write handed back
            self._delivered = self.sender.close(timeout)
        finally:
            if self._owns_outbox:
                self.outbox.close(timeout=0.0)
        return self._delivered
