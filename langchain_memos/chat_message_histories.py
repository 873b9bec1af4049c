"""``MemOSChatMessageHistory``: a LangChain chat message history stored in MemOS."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage
from langchain_core.runnables.config import run_in_executor

from langchain_memos._constants import MAX_MESSAGE_LIMIT
from langchain_memos._endpoints.scopes import write_scope
from langchain_memos._exceptions import ClosedError, MemOSError, MemOSInputError
from langchain_memos._flows import Flow, arun, call, run
from langchain_memos._history_clear import conversation_cleared
from langchain_memos._ordered import OrderedWrites
from langchain_memos._validation import (
    MAX_REQUEST_TOKENS,
    check_bool,
    check_flag,
    check_id,
    check_instance,
    check_int,
    check_seconds,
)
from langchain_memos._validation.keywords import check_keywords
from langchain_memos.client import AsyncMemOSClient, MemOSClient
from langchain_memos.messages import (
    batch_messages,
    from_memos_messages,
    to_memos_messages,
    whole_steps,
)
from langchain_memos.outbox import Outbox
from langchain_memos.types import MessageInput

__all__ = ["MemOSChatMessageHistory"]

# The smallest per-request limit any version of the add/message docs states (8k tokens); the
# newest allows 40k. Batches are cut below it so a long history is never rejected as a whole.
DEFAULT_REQUEST_TOKENS = 8_000
# What **client_options may hold: the client's own arguments (both clients take the same).
_CLIENT_OPTIONS = frozenset(inspect.signature(MemOSClient.__init__).parameters) - {"self"}


class MemOSChatMessageHistory(BaseChatMessageHistory):
    """The messages of one MemOS conversation, as a LangChain chat message history.

    ``add_messages`` hands the messages to MemOS (one ``add/message`` call per batch), which
    stores them and abstracts them into memories; ``messages`` reads the stored conversation back
    in order (``get/message``; the API returns at most the latest 50 messages).

    ``BaseChatMessageHistory`` is deprecated upstream in favour of LangGraph persistence; this
    class keeps existing ``RunnableWithMessageHistory`` code working. For agents, prefer the
    LangGraph node or the ``create_agent`` middleware.

    Args:
        user_id: Whose conversation this is (at most 100 characters).
        conversation_id: Which conversation (at most 100 characters).
        client: A ``MemOSClient`` for the sync methods.
        async_client: An ``AsyncMemOSClient`` for the async methods. With only ``client``, the
            async methods run the sync ones in a thread; with neither, both are built from
            ``client_options``.
        agent_id, app_id, tags, info, allow_public, allow_knowledgebase_ids, async_mode: Passed
            to every ``add/message`` call.
        wait: Return from ``add_messages`` only once MemOS has processed the messages, so that
            a search right after finds them (read-your-writes).
        wait_timeout: How long ``wait`` may take, in seconds.
        max_request_tokens: Split larger batches into several calls, in order; at most the
            40k tokens one ``add/message`` request may carry.
        clear_scope: What ``clear`` deletes: ``"conversation"`` (the default), the memories
            MemOS derived from this conversation; ``"user"``, every memory of the user in the
            project, which must be asked for explicitly.
        outbox: A durable :class:`~langchain_memos.outbox.Outbox`. Without one,
            ``add_messages`` sends at once and raises if MemOS does not take the messages (the
            caller still holds them). With one, it commits them to the outbox and returns; a
            background sender delivers them in order, retrying while MemOS is unavailable, and
            they survive a crash (at least once; see :mod:`langchain_memos.outbox`). With
            ``wait=True`` it also waits up to ``wait_timeout`` for the delivery (sent with
            ``async_mode=False`` so MemOS has processed them on return) and raises
            ``DeadlineExceededError`` if it did not happen, the messages staying in the outbox,
            or ``WriteRefusedError`` if MemOS refused them. Needs a sync ``client``.
        **client_options: ``api_key``, ``base_url`` and the other ``MemOSClient`` arguments,
            when no client is given. Any other name is a ``MemOSInputError`` that names it.

    Example:
        >>> history = MemOSChatMessageHistory("memos_user_123", "0610")
        >>> history.add_messages([HumanMessage("We travel with the kids."), AIMessage("Noted!")])
        >>> history.messages
        [HumanMessage(content='We travel with the kids.', ...), AIMessage(content='Noted!', ...)]
    """

    def __init__(
        self,
        user_id: str,
        conversation_id: str,
        *,
        client: MemOSClient | None = None,
        async_client: AsyncMemOSClient | None = None,
        agent_id: str | None = None,
        app_id: str | None = None,
        tags: Sequence[str] | None = None,
        info: dict[str, str | int | float | list[str]] | None = None,
        allow_public: bool | None = None,
        allow_knowledgebase_ids: Sequence[str] | None = None,
        async_mode: bool | None = None,
        wait: bool = False,
        wait_timeout: float = 60.0,
        max_request_tokens: int = DEFAULT_REQUEST_TOKENS,
        clear_scope: Literal["conversation", "user"] = "conversation",
        outbox: Outbox | None = None,
        **client_options: Any,
    ) -> None:
        self.user_id = check_id("user_id", user_id)
        self.conversation_id = check_id("conversation_id", conversation_id)
        if clear_scope not in ("conversation", "user"):
            raise MemOSInputError(
                f"clear_scope must be 'conversation' or 'user'; got {clear_scope!r}"
            )
        check_keywords("MemOSChatMessageHistory", client_options, _OPTIONS)
        if client_options and (client is not None or async_client is not None):
            raise MemOSInputError("pass either a client or the options to build one, not both")
        check_int("max_request_tokens", max_request_tokens, low=1, high=MAX_REQUEST_TOKENS)
        check_flag("wait", wait)
        # The write options are checked again with each write; here a mistake shows at once.
        write_scope(agent_id, app_id, allow_public, allow_knowledgebase_ids, tags=tags, info=info)
        check_bool("async_mode", async_mode)
        check_seconds("wait_timeout", wait_timeout, high=86_400, allow_zero=True)
        check_instance("client", client, MemOSClient)
        check_instance("async_client", async_client, AsyncMemOSClient)
        self.wait = wait
        self.wait_timeout = wait_timeout
        self.max_request_tokens = max_request_tokens
        self.clear_scope = clear_scope
        self._write_options: dict[str, Any] = {
            "agent_id": agent_id,
            "app_id": app_id,
            "tags": tags,
            "info": info,
            "allow_public": allow_public,
            "allow_knowledgebase_ids": allow_knowledgebase_ids,
            "async_mode": async_mode,
        }
        self._client_options = client_options
        self._owned: list[MemOSClient | AsyncMemOSClient] = []
        if client is None and async_client is None:
            client = MemOSClient(**client_options)  # fail now on a bad configuration
            self._owned.append(client)
        self._client = client
        self._async_client = async_client
        check_instance("outbox", outbox, Outbox)
        if outbox is not None and client is None:
            raise MemOSInputError("an outbox sends from a background thread: pass client= too")
        self.outbox = outbox
        self._closed = False
        self._ordered = OrderedWrites()
        self._delivered = True  # what close() found, said again by a second close
        if outbox is not None and client is not None:
            outbox.sender(client).resume()  # what a previous run left is sent without a new write

    # ---- clients ---------------------------------------------------------------------------

    @property
    def client(self) -> MemOSClient:
        if self._client is None:
            raise MemOSInputError(
                "this history was given only an async_client: use the async methods "
                "(aget_messages, aadd_messages, aclear), or pass client= as well"
            )
        return self._client

    @property
    def _async(self) -> AsyncMemOSClient | None:
        if self._async_client is None and self._owned:
            self._async_client = AsyncMemOSClient(**self._client_options)
            self._owned.append(self._async_client)
        return self._async_client

    @property
    def _driver(self) -> AsyncMemOSClient | MemOSClient:
        """What the async methods call: the async client, else the sync one in a thread."""
        return self._async or self.client

    def close(self, timeout: float | None = None) -> bool:
        """Deliver the outbox's waiting writes, stop its sender, close the sync client it built.

        With an outbox, waits at most ``timeout`` seconds (default
        :data:`~langchain_memos.outbox.CLOSE_TIMEOUT`); ``True`` when nothing of this client's
        is waiting any more (delivered, or refused and kept in the dead letters, each logged
        as an error), ``False`` if writes are still waiting then: they stay in the outbox for
        the next run, and a warning says so. Afterwards the history refuses writes with
        :class:`~langchain_memos.ClosedError`; closing again does nothing and returns the same
        answer. An async client needs :meth:`aclose`.
        """
        if not self._closed:
            self._closed = True
            self._delivered = False  # until the drain says otherwise (Ctrl-C)
            sender = None if self.outbox is None else self.outbox.sender(self.client)
            self._delivered = sender is None or sender.close(timeout)  # what is left stays in it
        for client in self._owned:
            if isinstance(client, MemOSClient):
                client.close()
        return self._delivered

    async def aclose(self, timeout: float | None = None) -> bool:
        """Async :meth:`close` (in a thread); also closes the async client it built."""
        delivered = await run_in_executor(None, self.close, timeout)
        for client in self._owned:
            if isinstance(client, AsyncMemOSClient):
                await client.aclose()
        return delivered

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(
                "this MemOSChatMessageHistory was closed (close()); it takes no more messages: "
                "make a new one"
            )

    # ---- reading ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The stored conversation, oldest first (the latest 50 messages at most, less the
        tool results at their start whose call lies before them)."""
        return run(self._read(), self.client)

    async def aget_messages(self) -> list[BaseMessage]:
        return await arun(self._read(), self._driver)

    def _read(self) -> Flow[list[BaseMessage]]:
        result = yield call(
            MemOSClient.get_message,
            user_id=self.user_id,
            conversation_id=self.conversation_id,
            message_limit_number=MAX_MESSAGE_LIMIT,
        )
        return whole_steps(from_memos_messages(result.message_detail_list))

    # ---- writing ---------------------------------------------------------------------------

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Store ``messages``: one ``add/message`` call per batch, batches in order.

        With an outbox, the batches are committed to it and delivered in the background. An
        empty ``messages`` does nothing, as in every LangChain history.

        Raises:
            MemOSInputError: a message ``add/message`` would refuse; nothing is sent or stored.
            ClosedError: the history (or, with an outbox, its client) was closed; nothing is
                stored.
            DeadlineExceededError: with ``wait=True``, MemOS did not process the messages (or the
                outbox did not deliver them) within ``wait_timeout``; they are not lost.
            WriteRefusedError: with an outbox and ``wait=True``, MemOS refused them; they are
                kept in the outbox's dead letters.
            APIError: without an outbox, MemOS did not take them (see the error tree); sent
                in several calls, those before the error were: the error's ``stored_messages``
                says how many (the first ones), for a retry of the rest.
        """
        self._check_open()
        if isinstance(messages, (list, tuple)) and not messages:  # add_messages(msgs[n:])
            return
        if self.outbox is not None:
            self._add_through_outbox(self.outbox, messages)
            return
        run(self._add(messages), self.client)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        self._check_open()
        if isinstance(messages, (list, tuple)) and not messages:
            return
        if self.outbox is not None:  # the commit, and any wait, in a thread, in call order
            await self._ordered.run(self.add_messages, messages)
            return
        # In call order too: calls made at once (asyncio.gather) would reach MemOS in any order.
        await self._ordered.run_async(lambda: arun(self._add(messages), self._driver))

    def _batches(self, messages: Sequence[BaseMessage]) -> list[list[MessageInput]]:
        """Converted messages in order, cut into batches under the per-request token limit."""
        return batch_messages(to_memos_messages(messages), self.max_request_tokens)

    def _add(self, messages: Sequence[BaseMessage]) -> Flow[None]:
        stored = 0
        try:
            for batch in self._batches(messages):  # all converted before the first is sent
                task = yield call(
                    MemOSClient.add_message,
                    batch,
                    user_id=self.user_id,
                    conversation_id=self.conversation_id,
                    **self._write_options,
                )
                stored += len(batch)
                if self.wait and task.status != "completed" and task.task_id:
                    yield call(
                        MemOSClient.wait_for_task, str(task.task_id), timeout=self.wait_timeout
                    )
        except MemOSError as error:
            error.stored_messages = stored or None  # a retry of them all stores these twice
            raise

    def _add_through_outbox(self, outbox: Outbox, messages: Sequence[BaseMessage]) -> None:
        if self.client.is_closed:
            raise ClosedError(
                "the MemOSClient of this history was closed; the messages cannot be sent: close "
                "the client after the history (history.close() first)"
            )
        batches = self._batches(messages)
        if not batches:
            return
        options = dict(self._write_options)
        if self.wait and options["async_mode"] is None:
            options["async_mode"] = False  # processed before add/message answers
        wait = self.wait_timeout if self.wait else None
        outbox.sender(self.client).deliver(
            self.user_id, self.conversation_id, batches, options, wait=wait
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the outbox delivered this client's writes; ``False`` if ``timeout`` passed.

        Without an outbox there is nothing to wait for: ``add_messages`` has sent already.
        """
        if self.outbox is None:
            return True
        return self.outbox.sender(self.client).wait(None, timeout)  # starts the sender too

    # ---- clearing --------------------------------------------------------------------------

    def clear(self) -> None:
        """Delete memories, as ``clear_scope`` says.

        ``"conversation"``: every memory MemOS derived from this conversation (facts,
        preferences, tool memories, events and skills whose ``conversation_id`` is this one),
        found by paging through ``get/memory`` and deleted by id. Memories of the user's other
        conversations are untouched. The raw message log has no delete endpoint in the MemOS API, so
        :attr:`messages` may still return the conversation afterwards.

        ``"user"``: every memory of this user in the project (``delete/memory`` by user id).

        Clearing is idempotent: ids already gone when their delete is sent (another clear of the
        same conversation went first) are what was asked for, not an error.
        """
        run(self._clear(self.client), self.client)

    async def aclear(self) -> None:
        await arun(self._clear(self._driver), self._driver)

    def _clear(self, client: MemOSClient | AsyncMemOSClient) -> Flow[None]:
        if self.clear_scope == "user":
            yield call(MemOSClient.delete_memory, user_id=self.user_id)
            return
        selfhosted = client._config.selfhosted
        yield from conversation_cleared(self.user_id, self.conversation_id, selfhosted=selfhosted)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(user_id={self.user_id!r}, "
            f"conversation_id={self.conversation_id!r})"
        )


# Every option a history takes, its own and the client's: a misspelled one is named with these.
_OPTIONS = _CLIENT_OPTIONS | (
    frozenset(inspect.signature(MemOSChatMessageHistory.__init__).parameters)
    - {"self", "client_options"}
)
