"""The threads that deliver an outbox's writes to ``add/message``, and the rules they follow.

* **In order per conversation.** Only the oldest write of a ``(user, conversation)`` is ever in
  flight; the next one waits until it was accepted. Different conversations do not wait for
  each other (``Outbox(concurrency=...)`` of them are sent at once).
* **Retried while the service is unavailable**: connection errors, timeouts, 5xx, 429 and the
  MemOS rate-limit and quota codes, with exponential backoff (1 s doubling to ``max_backoff``)
  and for as long as it takes. Authentication errors are retried too (a key enabled again fixes
  them; after a rotated key, ``Outbox.adopt`` hands the writes to a client of the new one),
  and so is any answer that is not MemOS's own: a proxy's HTML 404 or 413 page is an outage.
* **Refusals are kept, not dropped.** A write MemOS refuses in its own envelope (a JSON ``code``)
  as invalid or not found will never succeed, nor will one the sender cannot even send (an
  unencodable text, an unexpected error); it moves to the outbox's dead letters, is logged as an
  error, and can be inspected with ``Outbox.dead_letters()`` and sent again with
  ``Outbox.requeue()``. The conversation's next writes go on. What the request itself shows
  MemOS would refuse never gets this far: ``Outbox.put`` builds it first, with the client's own
  code, and raises :class:`~langchain_memos.MemOSInputError` to the caller instead.
* **Survives a crash.** Writes not yet accepted are on disk; the next process that opens the
  outbox with a client of the same :attr:`~langchain_memos.MemOSClient.identity` (service and
  key, recorded as a hash, never the key) delivers them.

**The guarantee is at-least-once.** A write is deleted from the outbox only after the service
accepted it, so a duplicate can arise when (1) the process dies after the service accepted a write
but before the outbox deleted it; (2) a request times out or its connection breaks after the
service stored it, and the outbox sends it again; (3) a lease expires while a send is still
running (a live sender renews its leases, so only a process stalled for a whole lease can).
MemOS has no idempotency key for ``add/message``, so such a duplicate is stored twice. A write is
never lost unless the database file is.

**Leases.** Several processes may share one outbox file: a sender claims the write it sends with a
lease of ``lease`` seconds (30 by default) in the name of its process (host, pid and a random id
drawn when the process starts) and renews it every third of that, by the outbox's clock, while
sending. Another process takes a write over when its lease expired, or sooner when the owner is
certainly gone: a pid of this host that no longer runs, or this very pid with another random id (a
restarted container whose process got the same pid): at once when it opens the outbox, and while
running once the lease went unrenewed for half its length (a live sender whose pid this process
cannot see, in a container sharing the host's name, renews every third). A dead owner on another
host is waited for one lease at most.

**Interpreter exit** waits for what the senders nobody stopped still hold (an agent's writer, a
chat history's outbox), all of them within one :data:`CLOSE_TIMEOUT`, then says what is left.
"""

from __future__ import annotations

import atexit
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from langchain_memos._exceptions import (
    ClosedError,
    DeadlineExceededError,
    MemOSError,
    WriteRefusedError,
)
from langchain_memos._outbox_retry import backoff, describe, outage, seconds
from langchain_memos.client import MemOSClient

if TYPE_CHECKING:
    from langchain_memos._outbox_store import Row
    from langchain_memos.outbox import Outbox
    from langchain_memos.types import MessageInput

__all__ = ["CLOSE_TIMEOUT", "IDLE_POLL", "OutboxSender"]

logger = logging.getLogger("langchain_memos")

IDLE_POLL = 1.0  # how often an idle sender looks for writes other processes left
CLOSE_TIMEOUT = 5.0
"""Seconds ``close()`` (and interpreter exit, for all writers together) waits for delivery by
default; what is still waiting then stays in the outbox."""
INTERRUPTED_STOP = 0.2
"""Seconds ``close()`` still gives the senders to stop after Ctrl-C interrupted its wait."""


class Closable(Protocol):
    outbox: Outbox

    def close(self, timeout: float | None = None) -> bool: ...


# What interpreter exit closes: the agents' writers (which close their senders), and the senders
# running for anything else (a history's outbox).
LIVE_WRITERS: weakref.WeakSet[Closable] = weakref.WeakSet()
_live_senders: weakref.WeakSet[OutboxSender] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    """Close the writers and senders nobody closed, all within one :data:`CLOSE_TIMEOUT`."""
    deadline = time.monotonic() + CLOSE_TIMEOUT
    for closable in [*LIVE_WRITERS, *_live_senders]:
        if isinstance(closable, OutboxSender) and closable.stopped:
            continue  # closed by its writer just now, or its client was closed (it said so)
        try:
            closable.close(max(0.0, deadline - time.monotonic()))
        except KeyboardInterrupt:  # Ctrl-C at exit: stop waiting, only say what is left
            deadline = 0.0
        except Exception as error:  # never a second traceback at exit: say it, go on
            logger.error("MemOS outbox at %s not closed at exit (%s)", closable.outbox.path, error)


class OutboxSender:
    """The daemon threads that deliver an :class:`Outbox`'s writes for one client.

    Made by :meth:`Outbox.sender`, one per service and key, however many writers share it.
    ``outbox.concurrency`` workers send writes of different conversations at once; a
    conversation's writes go one at a time, in order, because only its oldest write may be
    claimed. One more thread renews the leases of the sends in flight.

    Args:
        client: The sync client that sends.
        outbox: Where the writes wait.
        target: :func:`target_of` the client: which writes are its own.
    """

    def __init__(self, client: MemOSClient, outbox: Outbox, target: str) -> None:
        self.client = client
        self.outbox = outbox
        self.target = target
        self.failed = 0
        """Writes moved to the dead letters: refused by MemOS, or impossible to send."""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._others_said = False
        self._start_lock = threading.Lock()

    def start(self) -> None:
        with self._start_lock:
            if self._threads or self._stop.is_set():
                return
            jobs = [self._work] * self.outbox.concurrency + [self._heartbeat]
            for job in jobs:
                thread = threading.Thread(target=job, name="memos-outbox", daemon=True)
                try:
                    thread.start()
                except RuntimeError:  # the interpreter is shutting down: the next run sends
                    return
                self._threads.append(thread)
            _live_senders.add(self)

    def _heartbeat(self) -> None:
        """Renew this process's leases while their sends run, so no one else takes them over.

        Every third of a lease by the outbox's clock, which also dates the leases: a test that
        moves its clock forward (and wakes the outbox) sees the renewals a real lease would get.
        """
        every = self.outbox.lease / 3
        renewed = self.outbox.clock()
        while not self._stop.is_set():
            left = renewed + every - self.outbox.clock()
            if left > 0:
                self._pause(left)
                continue
            renewed = self.outbox.clock()
            try:
                self.outbox.renew(self.target)
            except Exception as error:  # the next beat tries again; a lapse risks a duplicate
                if self._stop.is_set():
                    return
                logger.warning("MemOS outbox lease not renewed (%s)", describe(error))

    def _pause(self, seconds: float) -> None:
        """Wait up to ``seconds`` by the clock: until the outbox changes, it is stopped, or at
        most :data:`IDLE_POLL` (the writes of other processes, and a clock that jumped)."""
        with self.outbox.changed:
            if not self._stop.is_set():
                self.outbox.changed.wait(min(max(seconds, 0.01), IDLE_POLL))

    def resume(self) -> None:
        """Start sending if writes wait, e.g. those a previous run left (reads, creates nothing);
        say once if writes wait for another service or key, which this sender never sends."""
        if self.pending:
            self.start()
        if not self._others_said:
            self._others_said = True
            others = self.outbox.others(self.target)
            if others:
                logger.warning(
                    "%d MemOS writes in the outbox at %s have waited for another service or API "
                    "key than this client's (a rotated key, another base URL, or another database "
                    "of the embedded engine); only a client of theirs sends them, or "
                    "Outbox.adopt(client) hands them to this one",
                    others,
                    self.outbox.path,
                )

    @property
    def stopped(self) -> bool:
        """Whether :meth:`stop` was called, or the client was found closed: sends no more."""
        return self._stop.is_set()

    def _client_closed(self) -> None:
        """Stop: a closed client sends nothing, and is no reason to give up on a write."""
        with self._start_lock:
            if self._stop.is_set():
                return
            self._stop.set()
        logger.warning(
            "MemOS outbox at %s stops sending: its client was closed; the writes waiting (%d) "
            "stay there for the next run",
            self.outbox.path,
            self.pending,
        )

    def _work(self) -> None:
        while not self._stop.is_set():
            if self.client.is_closed:
                self._client_closed()
                return
            try:
                row = self.outbox.claim(self.target)
                if row is None:
                    self._idle()
                else:
                    self._send(row)
            except Exception as error:  # the thread must outlive any failure of its own
                if self._stop.is_set():
                    return  # closed underneath us
                logger.error(
                    "MemOS outbox at %s failed (%s); trying again in %g s",
                    self.outbox.path,
                    describe(error),
                    IDLE_POLL,
                    exc_info=not isinstance(error, sqlite3.Error),  # locked for too long
                )
                self._stop.wait(IDLE_POLL)

    def _idle(self) -> None:
        """Sleep until a write may be due (a backoff or a lease running out, by the clock); a
        lease whose process is gone is not waited out."""
        self.outbox.release_dead_leases()
        due = self.outbox.next_due(self.target)
        self._pause(IDLE_POLL if due is None else due)

    def _send(self, row: Row) -> None:
        body = dict(row.body)
        messages = body.pop("messages", [])
        try:
            self.client.add_message(
                messages, user_id=row.user_id, conversation_id=row.conversation_id, **body
            )
        except Exception as error:
            if self._stop.is_set() or self.client.is_closed or isinstance(error, ClosedError):
                # Stopped or closed underneath the send: not an attempt, the write stays due.
                self.outbox.hand_back(row)
                if not self._stop.is_set():
                    self._client_closed()
                return
            if outage(error):
                delay = backoff(row.attempts, self.outbox.max_backoff)
                self.outbox.reschedule(row, describe(error), delay)
                logger.warning(
                    "MemOS write of %d messages for user %s not delivered (%s); retry %d in %.0f s",
                    len(messages),
                    row.user_id,
                    describe(error),
                    row.attempts + 1,
                    delay,
                )
                return
            with self._start_lock:
                self.failed += 1
            logger.error(
                "MemOS %s a write of %d messages for user %s (%s); kept in the outbox's dead "
                "letters at %s",
                "refused" if isinstance(error, MemOSError) else "cannot send",
                len(messages),
                row.user_id,
                describe(error),
                self.outbox.path,
            )
            self.outbox.bury(row, describe(error))
            return
        self.outbox.done(row)

    def deliver(
        self,
        user_id: str,
        conversation_id: str,
        batches: Sequence[Sequence[MessageInput]],
        options: dict[str, Any] | None = None,
        *,
        wait: float | None = None,
    ) -> None:
        """Commit ``batches`` to the outbox (:meth:`Outbox.put`) and start sending them.

        With ``wait`` (seconds), return only once MemOS took them.

        Raises:
            DeadlineExceededError: with ``wait``, they were not delivered in time; they stay in
                the outbox and are sent when MemOS takes them.
            WriteRefusedError: with ``wait``, MemOS refused them; they are in the dead letters.
            MemOSInputError, OutboxError: as :meth:`Outbox.put`; nothing is stored.
        """
        seqs = self.outbox.put(self.target, user_id, conversation_id, batches, options)
        self.start()
        if wait is None:
            return
        if not self.wait(seqs, wait):
            raise DeadlineExceededError(
                f"MemOS did not take the messages within {seconds(wait)} s; they stay in the "
                f"outbox at {self.outbox.path} and will be sent when it does"
            )
        _, refused = self.outbox.outcome(seqs)
        if refused:
            raise WriteRefusedError(
                f"MemOS refused the messages ({next(iter(refused.values()))}); they are kept in "
                f"the dead letters of the outbox at {self.outbox.path} "
                "(outbox.requeue(error.seqs) sends them again)",
                seqs=list(refused),
                errors=list(refused.values()),
            )

    @property
    def pending(self) -> int:
        """This client's writes waiting in the outbox."""
        return self.outbox.pending(self.target)

    def wait(self, seqs: Sequence[int] | None, timeout: float | None) -> bool:
        """Wait until the writes ``seqs`` (or all of this client's) left the outbox.

        ``False`` if ``timeout`` passed first (the writes are still waiting, not lost).
        """
        deadline = None if timeout is None else time.monotonic() + timeout

        def waiting() -> int:
            return self.pending if seqs is None else self.outbox.outcome(seqs)[0]

        self.resume()  # a restarted process may only flush what the last one left
        while waiting():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            with self.outbox.changed:
                self.outbox.changed.wait(min(IDLE_POLL, remaining or IDLE_POLL))
        return True

    def drain(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` (default :data:`CLOSE_TIMEOUT`) for this client's writes.

        ``False`` if some are still waiting then; a warning says how many and where they are
        kept (a file outbox delivers them on the next run; an in-memory one loses them).
        """
        bound = CLOSE_TIMEOUT if timeout is None else timeout
        try:
            delivered = self.wait(None, bound)
        except BaseException:  # Ctrl-C: say what is left, then let it through
            self._report_unsent("when interrupted")
            raise
        if not delivered:
            self._report_unsent(f"within {seconds(bound)} s")
        return delivered

    def close(self, timeout: float | None = None) -> bool:
        """:meth:`drain`, then :meth:`stop` within what is left of the same ``timeout``.

        A Ctrl-C during the drain gives the threads at most :data:`INTERRUPTED_STOP` to stop:
        the caller wants out now, and what is unsent stays in the outbox.
        """
        bound = CLOSE_TIMEOUT if timeout is None else timeout
        started = time.monotonic()
        interrupted = True
        try:
            delivered = self.drain(bound)
            interrupted = False
        finally:
            left = max(0.0, started + bound - time.monotonic())
            self.stop(min(left, INTERRUPTED_STOP) if interrupted else left)
        return delivered

    def _report_unsent(self, when: str) -> None:
        where = self.outbox.path
        lost = "they are lost with the process"
        if where == ":memory:":
            fate = f"{lost} (in-memory outbox; pass outbox= a file to keep them)"
        elif self.outbox.gone():
            fate = f"{lost}: the outbox file {where} was deleted while in use"
        else:
            fate = f"they are kept in {where} and the next run that opens it delivers them"
        logger.warning("%d MemOS writes not delivered %s; %s", self.pending, when, fate)

    def stop(self, timeout: float | None = None) -> None:
        """Stop the threads after their current sends; unsent writes stay in the outbox.

        Waits at most ``timeout`` seconds in all; a send still running then is abandoned and
        its write handed back (its lease released), to be sent again by whoever sends next: a
        new sender of this outbox, or the next run. Stopping twice does nothing more.
        """
        with self._start_lock:
            self._stop.set()
            threads = list(self._threads)
        _live_senders.discard(self)
        self.outbox._notify()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self.outbox.release_leases(self.target)
