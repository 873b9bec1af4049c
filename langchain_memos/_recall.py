"""One memory search per agent turn: bounded by a deadline, governed by the fail-open policy."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from langchain_memos._constants import MAX_REQUEST_TOKENS
from langchain_memos._exceptions import APITimeoutError, DeadlineExceededError, MemOSInputError
from langchain_memos._validation import check_text
from langchain_memos.prompts import MemoryPrompt, MemoryPromptBuilder
from langchain_memos.scope import Scope
from langchain_memos.settings import MemorySettings
from langchain_memos.types import SearchMemoryResult

__all__ = ["EMPTY_PROMPT", "MemoryRecall"]

logger = logging.getLogger("langchain_memos")

EMPTY_PROMPT = MemoryPrompt(matches=[], instruction="", full_instruction="", tokens=0)


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

    On a timeout the error (``fail_open=False``) or the warning says what it waited for: an
    :class:`~langchain_memos.APITimeoutError` when no answer came by the deadline (the request
    was cut short, or the client's timeout ran out), a
    :class:`~langchain_memos.DeadlineExceededError` when the answer came, but after it.

    A query MemOS cannot take (text of the user's own message that is not valid Unicode, such
    as a lone surrogate) is a recall failure like any other: a warning and no memories, or the
    ``MemOSInputError`` with ``fail_open=False``. Other caller mistakes (no sync client for a
    sync run, invalid ``search_options``) always raise: they are the application's to fix.

    Args:
        settings: ``client`` (:meth:`search`, and :meth:`asearch` without an async client),
            ``async_client``, ``builder``, ``search_options``, ``timeout`` and ``fail_open``.
    """

    def __init__(self, settings: MemorySettings) -> None:
        client, async_client = settings.client, settings.async_client
        if client is None and async_client is None:
            raise MemOSInputError("MemoryRecall needs a client or an async_client")
        self.client = client
        self.async_client = async_client
        self.timeout = settings.timeout
        # Made once: copies that share the clients' pools, with the deadline and no retries.
        self._once = None if client is None else client.with_options(**self._deadline())
        self._async_once = (
            None if async_client is None else async_client.with_options(**self._deadline())
        )
        self.builder = settings.builder or MemoryPromptBuilder()
        self.search_options = dict(settings.search_options)
        self.fail_open = settings.fail_open

    def _deadline(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "max_retries": 0}

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
        assert self._once is not None
        return self._once.search_memory(query, **self._kwargs(scope))

    def _timed_out(self, cause: APITimeoutError | None = None) -> APITimeoutError:
        """The deadline's error for a search that got no answer, saying what it waited for."""
        said = f": {cause}" if cause is not None else ""
        error = APITimeoutError(
            f"the memory search took longer than {self.timeout:g} s{said}",
            method="POST",
            path="/search/memory",
        )
        error.__cause__ = cause
        return error

    def _late(self, took: float) -> DeadlineExceededError:
        """The deadline's error for an answer that came, but after it."""
        return DeadlineExceededError(
            f"the memory search took longer than {self.timeout:g} s: the answer came after "
            f"{took:.2f} s and is not used"
        )

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

    def _refused(self, query: str, scope: Scope) -> MemoryPrompt | None:
        """The failure's prompt when MemOS cannot take ``query``: the user's text, not a bug."""
        try:
            check_text("query", query)
        except MemOSInputError as error:
            return self._failed(error, scope)
        return None

    def _on_error(self, error: Exception, scope: Scope) -> MemoryPrompt:
        """What a failed search means, on either path (the one error policy of both)."""
        if isinstance(error, MemOSInputError):
            raise error  # a caller mistake, not an outage
        if isinstance(error, APITimeoutError):  # the client's timeout is the deadline
            return self._failed(self._timed_out(error), scope)
        if type(error) is TimeoutError:  # asyncio.wait_for ended the search at the deadline
            return self._failed(self._timed_out(), scope)
        return self._failed(error, scope)

    def search(self, query: str | None, scope: Scope) -> MemoryPrompt:
        """The memory prompt for ``query`` (empty for no query, or on a tolerated failure)."""
        if not query:
            return EMPTY_PROMPT
        searched = _searched(query)
        refused = self._refused(searched, scope)
        if refused is not None:
            return refused
        started = time.monotonic()
        try:
            result = self._search_sync(searched, scope)
        except Exception as error:
            return self._on_error(error, scope)
        took = time.monotonic() - started
        if took > self.timeout:  # late, as an async search would be: not used either
            return self._failed(self._late(took), scope)
        return self.builder.build(result, query)

    async def asearch(self, query: str | None, scope: Scope) -> MemoryPrompt:
        """Async :meth:`search`: the async client, else the sync one in the loop's executor."""
        if not query:
            return EMPTY_PROMPT
        searched = _searched(query)
        refused = self._refused(searched, scope)
        if refused is not None:
            return refused
        try:
            if self._async_once is not None:
                call = self._async_once.search_memory(searched, **self._kwargs(scope))
            else:
                call = asyncio.to_thread(self._search_sync, searched, scope)
            result = await asyncio.wait_for(call, self.timeout)
        except Exception as error:
            return self._on_error(error, scope)
        return self.builder.build(result, query)


def _searched(query: str) -> str:
    """What a turn searches for: the user's text, or of a text longer than one request
    (a pasted document), its end, where the question usually is. A character is at most a
    token, so that many characters always fit."""
    return query[-MAX_REQUEST_TOKENS:] if len(query) > MAX_REQUEST_TOKENS else query
