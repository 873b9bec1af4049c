"""What the agent middleware and the LangGraph nodes share: scope, recall policy, background writes.

Both integrations do the same three things per user turn, and do them through this module:

* :func:`resolve_scope` decides whose memory a run uses (``user_id``) and which conversation its
  turns belong to (``conversation_id``);
* :class:`MemoryRecall` runs one search with a deadline and the fail-open policy, and renders it
  with a :class:`~langchain_memos.prompts.MemoryPromptBuilder`;
* :class:`BackgroundWriter` sends the turn's new messages to ``add/message`` off the critical path.

Background writes are committed to a durable :class:`~langchain_memos.outbox.Outbox` before
they are sent, and survive a crash of the process (see that module for the guarantee).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from langchain_memos import _outbox_sender
from langchain_memos._exceptions import APITimeoutError, MemOSInputError
from langchain_memos._validation import (
    MAX_REQUEST_TOKENS,
    check_flag,
    check_id,
    check_instance,
    check_optional_id,
    check_options,
    check_seconds,
)
from langchain_memos.client import AsyncMemOSClient, MemOSClient
from langchain_memos.messages import batch_messages, to_memos_messages
from langchain_memos.outbox import DEFAULT_MAX_PENDING, Outbox, OutboxError, open_outbox
from langchain_memos.prompts import MemoryPrompt, MemoryPromptBuilder
from langchain_memos.types import SearchMemoryResult

__all__ = [
    "DEFAULT_CONVERSATION_ID",
    "DEFAULT_MAX_PENDING",
    "DEFAULT_SEARCH_TIMEOUT",
    "AgentMemory",
    "BackgroundWriter",
    "MemoryRecall",
    "Scope",
    "last_human_text",
    "message_filter",
    "resolve_scope",
    "turn_start",
]

logger = logging.getLogger("langchain_memos")

DEFAULT_SEARCH_TIMEOUT = 2.0
DEFAULT_CONVERSATION_ID = "langchain-agent"
"""Where turns are filed when neither an argument, the config nor the context names a thread."""
EMPTY_PROMPT = MemoryPrompt(matches=[], instruction="", full_instruction="", tokens=0)


# ---- scope ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose memory a run reads and writes, and the conversation its turns belong to."""

    user_id: str
    conversation_id: str | None


def _lookup(source: object, key: str) -> Any:
    if source is None:
        return None
    if isinstance(source, Mapping):
        return source.get(key)
    return getattr(source, key, None)


def _user(source: str, value: object) -> str | None:
    """A user id where one was given: the retriever's rule (a string, checked, never coerced)."""
    return None if value is None else check_id(source, value)


def _conversation(source: str, value: object) -> str | None:
    """A conversation id where one was given: stringified first, as the retriever does, since
    LangGraph accepts any ``thread_id`` (an int, a UUID) and keys its checkpoints by ``str``."""
    return None if value is None else check_id(source, str(value))


def resolve_scope(
    *,
    user_id: str | None,
    conversation_id: str | None,
    config: Mapping[str, Any] | None,
    context: object = None,
) -> Scope:
    """The run's scope: explicit argument > ``config["configurable"]`` > runtime context.

    The user comes from ``user_id``, else ``configurable.user_id``, else the context's
    ``user_id`` (attribute or key); the conversation from ``conversation_id``, else
    ``configurable.conversation_id``, else ``configurable.thread_id``, else the context's
    ``conversation_id`` / ``thread_id``. There is no shared default user.

    One rule, the :class:`~langchain_memos.retrievers.MemOSRetriever`'s: the first source that
    is not ``None`` is used, and must be a valid id (:func:`~langchain_memos._validation.check_id`:
    a non-blank string of at most 100 characters). A user id is never coerced: ``42`` or ``""``
    is an error, not the user ``"42"`` nor a fall-through to the next source. A conversation id
    is stringified first (``thread_id=7`` files the turns under ``"7"``), as the retriever and
    LangGraph's checkpointers do.

    Raises:
        MemOSInputError: no user id anywhere, or an id that breaks the rule above (the message
            names where it came from).
    """
    configurable = (config or {}).get("configurable") or {}
    user = (
        _user("user_id", user_id)
        or _user("configurable.user_id", configurable.get("user_id"))
        or _user("the runtime context's user_id", _lookup(context, "user_id"))
    )
    if user is None:
        raise MemOSInputError(
            "MemOS memory needs a user_id: pass user_id=..., put it in the run's config as "
            "{'configurable': {'user_id': ...}}, or give the runtime context a user_id"
        )
    conversation = (
        _conversation("conversation_id", conversation_id)
        or _conversation("configurable.conversation_id", configurable.get("conversation_id"))
        or _conversation("configurable.thread_id", configurable.get("thread_id"))
        or _conversation(
            "the runtime context's conversation_id", _lookup(context, "conversation_id")
        )
        or _conversation("the runtime context's thread_id", _lookup(context, "thread_id"))
    )
    return Scope(user_id=user, conversation_id=conversation)


def message_filter(write_back: object) -> Callable[[BaseMessage], bool] | None:
    """An integration's ``write_back`` as the filter of the messages it writes.

    ``True`` or ``False`` give ``None`` (every message; whether to write at all is the
    caller's); a function of a message is the filter.

    Raises:
        MemOSInputError: anything else.
    """
    if isinstance(write_back, bool):
        return None
    if not callable(write_back):
        raise MemOSInputError(
            f"write_back must be True, False or a function of a message; got {write_back!r}"
        )
    return cast("Callable[[BaseMessage], bool]", write_back)


def last_human_text(messages: Sequence[BaseMessage]) -> str | None:
    """The text of the latest human message: the query a turn recalls memories for."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message.text.strip() or None
    return None


def turn_start(messages: Sequence[BaseMessage]) -> int:
    """Index where the latest user turn starts: its first human message (``len`` if none).

    Consecutive human messages (system messages between them aside) are one turn's input.
    """
    start = len(messages)
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, HumanMessage):
            start = index
        elif isinstance(message, SystemMessage):
            continue
        elif start < len(messages):
            break
    return start


# ---- recall --------------------------------------------------------------------------------


class MemoryRecall:
    """One memory search per turn, bounded by ``timeout`` and governed by ``fail_open``.

    A search is one attempt, without the client's retries (a retry's back-off alone would eat
    most of a turn's budget), through ``client.with_options(timeout=timeout, max_retries=0)``:
    the same connection pool, no thread of its own. What bounds it:

    * async client: ``asyncio.wait_for`` ends the whole search at ``timeout``;
    * sync client: httpx bounds each wait by ``timeout``: for a free pooled connection, to
      connect, to send, and for each piece of the answer. A service that is down or hangs ends
      the search after about ``timeout``; one that answers in pieces, each just in time, can
      stretch it to a small multiple of ``timeout``, never without bound. The embedded engine
      runs in this process and is not cut short. Either way an answer that comes after
      ``timeout`` is not used: the turn goes on without memories, as for a timeout;
    * async run with only a sync client: the sync search runs in the event loop's default
      executor (its threads are reused), and ``asyncio.wait_for`` ends the wait at ``timeout``.

    On a timeout the error (``fail_open=False``) or the warning says what it waited for.

    Args:
        client: Used by :meth:`search`, and by :meth:`asearch` when there is no async client.
        async_client: Used by :meth:`asearch`.
        builder: Renders the search result (default: :class:`MemoryPromptBuilder`).
        search_options: Extra ``search_memory`` arguments (``memory_limit_number``, ...).
        timeout: Seconds a search may take before the turn goes on without memories.
        fail_open: On failure or timeout, log a warning and recall nothing; with ``False``,
            raise instead.
    """

    def __init__(
        self,
        *,
        client: MemOSClient | None,
        async_client: AsyncMemOSClient | None,
        builder: MemoryPromptBuilder | None = None,
        search_options: Mapping[str, Any] | None = None,
        timeout: float = DEFAULT_SEARCH_TIMEOUT,
        fail_open: bool = True,
    ) -> None:
        if client is None and async_client is None:
            raise MemOSInputError("MemoryRecall needs a client or an async_client")
        check_seconds("timeout", timeout, high=86_400)
        check_flag("fail_open", fail_open)
        check_instance("builder", builder, MemoryPromptBuilder)
        options = check_options("search_options", search_options)
        if {"query", "user_id", "conversation_id", "timeout"} & set(options):
            raise MemOSInputError(
                "search_options cannot set query, user_id, conversation_id or timeout (the "
                "search's bound is the timeout argument)"
            )
        self.client = client
        self.async_client = async_client
        self.builder = builder or MemoryPromptBuilder()
        self.search_options = options
        self.timeout = float(timeout)
        self.fail_open = fail_open

    def _kwargs(self, scope: Scope) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"user_id": scope.user_id, **self.search_options}
        if scope.conversation_id is not None:
            kwargs["conversation_id"] = scope.conversation_id
        return kwargs

    def _search_sync(self, query: str, scope: Scope) -> SearchMemoryResult:
        if self.client is None:
            raise MemOSInputError(
                "a sync run needs a sync MemOS client; pass client=MemOSClient(...)"
            )
        once = self.client.with_options(timeout=self.timeout, max_retries=0)
        return once.search_memory(query, **self._kwargs(scope))

    def _timed_out(self, cause: APITimeoutError | str | None = None) -> APITimeoutError:
        """The deadline's error, saying what the search was waiting for when it knows."""
        said = f": {cause}" if cause else ""
        error = APITimeoutError(
            f"the memory search took longer than {self.timeout:g} s{said}",
            method="POST",
            path="/search/memory",
        )
        error.__cause__ = cause if isinstance(cause, BaseException) else None
        return error

    def _failed(self, error: BaseException, scope: Scope) -> MemoryPrompt:
        if not self.fail_open:
            raise error
        logger.warning(
            "MemOS memory search failed for user %s (%s: %s); answering without memories",
            scope.user_id,
            type(error).__name__,
            error,
        )
        return EMPTY_PROMPT

    def search(self, query: str | None, scope: Scope) -> MemoryPrompt:
        """The memory prompt for ``query`` (empty for no query, or on a tolerated failure)."""
        if not query:
            return EMPTY_PROMPT
        started = time.monotonic()
        try:
            result = self._search_sync(query, scope)
        except APITimeoutError as error:  # the client's timeout is the deadline
            return self._failed(self._timed_out(error), scope)
        except MemOSInputError:
            raise  # a caller mistake, not an outage
        except Exception as error:
            return self._failed(error, scope)
        took = time.monotonic() - started
        if took > self.timeout:  # late, as an async search would be: not used either
            return self._failed(self._timed_out(f"the answer came after {took:.2f} s"), scope)
        return self.builder.build(result, query)

    async def asearch(self, query: str | None, scope: Scope) -> MemoryPrompt:
        """Async :meth:`search`: the async client, else the sync one in the loop's executor."""
        if not query:
            return EMPTY_PROMPT
        try:
            if self.async_client is not None:
                once = self.async_client.with_options(timeout=self.timeout, max_retries=0)
                call = once.search_memory(query, **self._kwargs(scope))
            else:
                call = asyncio.to_thread(self._search_sync, query, scope)
            result = await asyncio.wait_for(call, self.timeout)
        except asyncio.TimeoutError:
            return self._failed(self._timed_out(), scope)
        except APITimeoutError as error:
            return self._failed(self._timed_out(error), scope)
        except MemOSInputError:
            raise
        except Exception as error:
            return self._failed(error, scope)
        return self.builder.build(result, query)


# ---- background writes ---------------------------------------------------------------------


_live_writers: weakref.WeakSet[BackgroundWriter] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    """Close the writers nobody closed, all within one :data:`~._outbox_sender.CLOSE_TIMEOUT`."""
    deadline = time.monotonic() + _outbox_sender.CLOSE_TIMEOUT
    for writer in list(_live_writers):
        try:
            writer.close(max(0.0, deadline - time.monotonic()))
        except KeyboardInterrupt:  # Ctrl-C at exit: stop waiting, only say what is left
            deadline = 0.0


OutboxArg = Outbox | str | os.PathLike[str] | None


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
        self._owns_outbox = not isinstance(outbox, Outbox)
        self.outbox = open_outbox(outbox, client, max_pending=max_pending)
        self.sender = self.outbox.sender(client)
        self.not_stored = 0
        """Messages handed to :meth:`submit` that the outbox could not store (a full disk)."""
        self._closed = False
        _live_writers.add(self)
        self.sender.resume()  # a previous run left writes: deliver them now

    @property
    def failed(self) -> int:
        """Writes the service refused as invalid (kept in the outbox's dead letters)."""
        return self.sender.failed

    def submit(
        self, messages: Sequence[BaseMessage], *, user_id: str, conversation_id: str
    ) -> None:
        """Commit ``messages`` for ``add/message``, waiting for room if the outbox is full.

        Messages over one request's token limit together go in several writes, in order.

        Raises:
            MemOSInputError: what ``add/message`` would refuse (an id over 100 characters, a
                message over the request limit by itself, ...), or a closed writer.
            OutboxError: the outbox cannot store them (a full disk); counted in
                :attr:`not_stored`.
        """
        converted = to_memos_messages(messages)
        if not converted:
            return
        if self._closed:
            raise MemOSInputError("this memory writer is closed")
        try:
            batches = batch_messages(converted, MAX_REQUEST_TOKENS)
            self.outbox.put(self.sender.target, user_id, conversation_id, batches)
        except OutboxError as error:
            self.not_stored += len(converted)
            message = f"{len(converted)} messages of user {user_id} not stored: {error}"
            raise OutboxError(message) from error
        self.sender.start()

    async def asubmit(
        self, messages: Sequence[BaseMessage], *, user_id: str, conversation_id: str
    ) -> None:
        """:meth:`submit` for async code: the commit (and any wait for room) runs in a thread."""
        await asyncio.to_thread(
            self.submit, messages, user_id=user_id, conversation_id=conversation_id
        )

    @property
    def pending(self) -> int:
        """Writes waiting for this client's service, sent or not yet tried."""
        return self.sender.pending

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every waiting write was delivered; ``False`` if ``timeout`` passed first."""
        return self.sender.wait(None, timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Deliver for at most ``timeout`` seconds, then stop; further submits raise.

        The default bound is :data:`~langchain_memos.outbox.CLOSE_TIMEOUT`. ``False`` if writes
        are still waiting then: a warning says how many and where they are kept.
        """
        self._closed = True
        _live_writers.discard(self)  # closed once: interpreter exit does not wait again
        started = time.monotonic()
        try:
            return self.sender.drain(timeout)
        finally:
            if self._owns_outbox:  # a send still in flight is abandoned (a daemon thread)
                bound = _outbox_sender.CLOSE_TIMEOUT if timeout is None else timeout
                self.outbox.close(timeout=max(0.0, started + bound - time.monotonic()))


# ---- the facade both integrations use ------------------------------------------------------


class AgentMemory:
    """Scope, recall and write-back for one integration instance (middleware or graph nodes).

    Args:
        client: Sync client: sync searches and the background writer.
        async_client: Async client: async searches.
        user_id: Fixed user; otherwise resolved per run by :func:`resolve_scope`.
        conversation_id: Fixed conversation; otherwise per run, else
            :data:`DEFAULT_CONVERSATION_ID` for writes.
        builder, search_options, timeout, fail_open: See :class:`MemoryRecall`.
        write_back: Send the turns to MemOS; needs the sync ``client`` (the writer's thread).
        outbox: Where turns wait until MemOS accepted them (see :class:`BackgroundWriter`).
        max_pending: Bound of the writes waiting.
    """

    def __init__(
        self,
        *,
        client: MemOSClient | None = None,
        async_client: AsyncMemOSClient | None = None,
        user_id: str | None = None,
        conversation_id: str | None = None,
        builder: MemoryPromptBuilder | None = None,
        search_options: Mapping[str, Any] | None = None,
        timeout: float = DEFAULT_SEARCH_TIMEOUT,
        fail_open: bool = True,
        write_back: bool = True,
        outbox: OutboxArg = None,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        if client is not None and not isinstance(client, MemOSClient):
            raise MemOSInputError(f"client must be a MemOSClient; got {type(client).__name__}")
        if async_client is not None and not isinstance(async_client, AsyncMemOSClient):
            raise MemOSInputError(
                f"async_client must be an AsyncMemOSClient; got {type(async_client).__name__}"
            )
        check_flag("write_back", write_back)
        check_optional_id("user_id", user_id)
        check_optional_id("conversation_id", conversation_id)
        if client is None and async_client is None:
            client = MemOSClient()
        if write_back and client is None:
            raise MemOSInputError(
                "write_back sends turns from a background thread and needs a sync client: "
                "pass client=MemOSClient(...) as well, or write_back=False"
            )
        self.user_id = user_id
        self.conversation_id = conversation_id
        self.fail_open = fail_open
        self.recall = MemoryRecall(
            client=client,
            async_client=async_client,
            builder=builder,
            search_options=search_options,
            timeout=timeout,
            fail_open=fail_open,
        )
        self.writer = (
            BackgroundWriter(client, outbox=outbox, max_pending=max_pending)
            if write_back and client is not None
            else None
        )

    def scope(self, config: Mapping[str, Any] | None, context: object = None) -> Scope:
        """This run's scope (see :func:`resolve_scope`)."""
        return resolve_scope(
            user_id=self.user_id,
            conversation_id=self.conversation_id,
            config=config,
            context=context,
        )

    def search(self, messages: Sequence[BaseMessage], scope: Scope) -> MemoryPrompt:
        """The memory prompt for the latest human message."""
        return self.recall.search(last_human_text(messages), scope)

    async def asearch(self, messages: Sequence[BaseMessage], scope: Scope) -> MemoryPrompt:
        """Async :meth:`search`."""
        return await self.recall.asearch(last_human_text(messages), scope)

    def save(self, messages: Sequence[BaseMessage], scope: Scope) -> None:
        """Queue ``messages`` for the background writer; never blocks on the network.

        System messages are instructions, not conversation, and are left out. A message MemOS
        cannot store is a warning when ``fail_open`` (the turn is not written), an error
        otherwise; an outbox that cannot store the turn (a full disk) is an ERROR line and a
        count in ``writer.not_stored`` when ``fail_open``, an :class:`OutboxError` otherwise.
        """
        job = self._job(messages, scope)
        if job is not None:
            with self._input_policy():
                job[0].submit(job[1], **job[2])

    async def asave(self, messages: Sequence[BaseMessage], scope: Scope) -> None:
        """Async :meth:`save`: never blocks the event loop, even when the queue is full."""
        job = self._job(messages, scope)
        if job is not None:
            with self._input_policy():
                await job[0].asubmit(job[1], **job[2])

    def _job(
        self, messages: Sequence[BaseMessage], scope: Scope
    ) -> tuple[BackgroundWriter, list[BaseMessage], dict[str, str]] | None:
        kept = [m for m in messages if not isinstance(m, SystemMessage)]
        if self.writer is None or not kept:
            return None
        target = {
            "user_id": scope.user_id,
            "conversation_id": scope.conversation_id or DEFAULT_CONVERSATION_ID,
        }
        return self.writer, kept, target

    @contextmanager
    def _input_policy(self) -> Iterator[None]:
        """A turn's memory is never worth its answer, unless ``fail_open=False``."""
        try:
            yield
        except MemOSInputError as error:
            if not self.fail_open:
                raise
            logger.warning("MemOS did not store this turn: %s", error)
        except OutboxError as error:  # a full disk: the answer still reaches the caller
            if not self.fail_open:
                raise
            logger.error("MemOS memory lost this turn: %s", error)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for the background writes; ``False`` if ``timeout`` passed first."""
        return True if self.writer is None else self.writer.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Deliver for at most ``timeout`` seconds (see :meth:`BackgroundWriter.close`), stop."""
        return True if self.writer is None else self.writer.close(timeout)
