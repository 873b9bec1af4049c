"""What the agent middleware and the LangGraph nodes share: one object per integration.

Both integrations do the same three things per user turn, through :class:`AgentMemory`:

* :func:`~langchain_memos.scope.resolve_scope` decides whose memory a run uses (``user_id``)
  and which conversation its turns belong to (``conversation_id``);
* :class:`~langchain_memos._recall.MemoryRecall` runs one search with a deadline and the
  fail-open policy, and renders it with a :class:`~langchain_memos.prompts.MemoryPromptBuilder`;
* :class:`~langchain_memos._writer.BackgroundWriter` sends the turn's new messages to
  ``add/message`` off the critical path.

:class:`MemoryIntegration` is what the two classes have in common on their outside: how they
are built from settings, and ``settings``, ``flush`` and ``close``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from langchain_memos._exceptions import ClosedError, MemOSInputError
from langchain_memos._recall import MemoryRecall
from langchain_memos._validation import check_instance
from langchain_memos._writer import BackgroundWriter, Storable
from langchain_memos.client import MemOSClient
from langchain_memos.messages import to_memos_messages
from langchain_memos.outbox import OutboxError
from langchain_memos.prompts import MemoryPrompt, PromptMode
from langchain_memos.scope import (
    Scope,
    last_human_text,
    message_filter,
    messages_to_store,
    resolve_scope,
)
from langchain_memos.settings import DEFAULT_CONVERSATION_ID, MemorySettings, settings_for

__all__ = ["AgentMemory", "MemoryIntegration"]

logger = logging.getLogger("langchain_memos")


class AgentMemory:
    """Scope, recall and write-back for one integration instance (middleware or graph nodes).

    Args:
        settings: The integration's options (see :class:`~langchain_memos.settings.MemorySettings`).
            With neither client, one is built from the environment; writing back needs the
            sync ``client`` (the writer's thread), asked for here.
    """

    def __init__(self, settings: MemorySettings) -> None:
        check_instance("settings", settings, MemorySettings)
        if settings.client is None and settings.async_client is None:
            settings = replace(settings, client=MemOSClient())
        client = settings.client
        write_back = settings.write_back is not False
        if write_back and client is None:
            raise MemOSInputError(
                "write_back sends turns from a background thread and needs a sync client: "
                "pass client=MemOSClient(...) as well, or write_back=False"
            )
        self.settings = settings
        """The settings in use (with the client built from the environment, if it was)."""
        self.user_id = settings.user_id
        self.conversation_id = settings.conversation_id
        self.fail_open = settings.fail_open
        self.recall = MemoryRecall(settings)
        self.writer = (
            BackgroundWriter(client, outbox=settings.outbox, max_pending=settings.max_pending)
            if write_back and client is not None
            else None
        )
        self._closed = False
        self._delivered = True  # what close() found, said again by a second close
        self._warned_nested = False

    def scope(self, config: Mapping[str, Any] | None, context: object = None) -> Scope:
        """This run's scope (see :func:`resolve_scope`)."""
        if self.writer is not None and not self._warned_nested and _in_a_tool_call(config):
            self._warned_nested = True
            logger.warning(
                "a MemOS memory that writes back runs in an agent called from another agent's "
                "tool (a subagent): the task it is given is that agent's model's words, which "
                "it writes to the user's conversation as the user's own. Give the subagent "
                "write_back=False (it still recalls), or no memory"
            )
        return resolve_scope(
            user_id=self.user_id,
            conversation_id=self.conversation_id,
            config=config,
            context=context,
        )

    def _check_open(self) -> None:
        """A turn on a closed memory is the caller's mistake, raised whatever ``fail_open``."""
        if self._closed:
            raise ClosedError(
                "this MemOS memory was closed (close()) and takes no more turns: close it "
                "after the agent's last turn, or make a new MemOSMiddleware / MemOSGraphMemory"
            )

    def search(self, messages: Sequence[BaseMessage], scope: Scope) -> MemoryPrompt:
        """The memory prompt for the latest human message.

        Raises:
            ClosedError: the memory was closed (before the model is called).
        """
        self._check_open()
        return self.recall.search(last_human_text(messages), scope)

    async def asearch(self, messages: Sequence[BaseMessage], scope: Scope) -> MemoryPrompt:
        """Async :meth:`search`."""
        self._check_open()
        return await self.recall.asearch(last_human_text(messages), scope)

    def save(self, messages: Sequence[BaseMessage], scope: Scope) -> None:
        """Queue ``messages`` for the background writer; never blocks on the network.

        What is stored is :func:`~langchain_memos.scope.messages_to_store`'s choice (no system
        messages, no calls of the package's memory tools nor their results). A message MemOS
        cannot store is a warning when ``fail_open`` (the turn's other messages are written
        without it), an error otherwise; an outbox that cannot store the turn (a full disk) is
        an ERROR line and a count in ``writer.not_stored`` when ``fail_open``, an
        :class:`OutboxError` otherwise.

        Raises:
            ClosedError: the memory (or its client) was closed, whatever ``fail_open``: the
                turn is not stored, and the caller must hear it.
        """
        self._check_open()
        job = self._job(messages, scope)
        if job is not None:
            with self._input_policy(job[1], job[2]):
                job[0].submit(job[1], **job[2], storable=self._partial(job[2]))

    async def asave(self, messages: Sequence[BaseMessage], scope: Scope) -> None:
        """Async :meth:`save`: never blocks the event loop, even when the queue is full."""
        self._check_open()
        job = self._job(messages, scope)
        if job is not None:
            with self._input_policy(job[1], job[2]):
                await job[0].asubmit(job[1], **job[2], storable=self._partial(job[2]))

    def _partial(self, target: Mapping[str, str]) -> Storable | None:
        """With ``fail_open``, what of a turn MemOS would refuse is written instead: one
        message it cannot store costs the turn only itself (see :meth:`_storable`)."""
        return partial(self._storable, target=target) if self.fail_open else None

    @staticmethod
    def _storable(
        messages: Sequence[BaseMessage], target: Mapping[str, str]
    ) -> list[BaseMessage] | None:
        """The turn's messages MemOS can store, each on its own, with a warning that says which
        are left out and why (a tool's result over one request, say: not worth the user's own
        words). A tool step (the AI message that calls tools, and their results) goes whole,
        so that no stored call lacks its result, nor a result its call. None when all or none
        of them can (then the turn is handed over whole, and fails whole if it fails); when
        none can for several reasons, the error names each."""
        reasons: dict[int, str] = {}
        for index, message in enumerate(messages):
            try:
                to_memos_messages([message])
            except MemOSInputError as error:
                said = str(error)  # "messages[0]...": counted in the turn instead
                alone = "messages[0]"
                said = said[len(alone) :] if said.startswith(alone) else f": {said}"
                reasons[index] = f"messages[{index}] ({message.type}){said}"
        left = set(reasons)
        for step in _tool_steps(messages):
            if left & step:
                left |= step
        if len(left) == len(messages) and len(reasons) > 1:  # every one: each says why
            raise MemOSInputError("; ".join(reasons.values()))
        if not left or len(left) == len(messages):
            return None
        logger.warning(
            "MemOS did not store %d of this turn's %d messages of user %s in conversation "
            "%s (the others are written): %s%s",
            len(left),
            len(messages),
            target["user_id"],
            target["conversation_id"],
            "; ".join(reasons.values()),
            "" if left == set(reasons) else "; and the tool steps they belong to",
        )
        return [m for index, m in enumerate(messages) if index not in left]

    def _job(
        self, messages: Sequence[BaseMessage], scope: Scope
    ) -> tuple[BackgroundWriter, list[BaseMessage], dict[str, str]] | None:
        kept = messages_to_store(messages)
        if self.writer is None or not kept:
            return None
        target = {
            "user_id": scope.user_id,
            "conversation_id": scope.conversation_id or DEFAULT_CONVERSATION_ID,
        }
        return self.writer, kept, target

    @contextmanager
    def _input_policy(
        self, messages: Sequence[BaseMessage], target: Mapping[str, str]
    ) -> Iterator[None]:
        """A turn's memory is never worth its answer, unless ``fail_open=False``.

        The warning says what was not stored (how many messages, of which types, whose and
        where; ``messages[i]`` in the reason counts in that list) and why.
        """
        try:
            yield
        except ClosedError:  # a closed memory or client: not the turn's fault, the caller's
            raise
        except MemOSInputError as error:
            if not self.fail_open:
                raise
            logger.warning(
                "MemOS did not store this turn's %d messages (%s) of user %s in conversation "
                "%s: %s",
                len(messages),
                ", ".join(m.type for m in messages),
                target["user_id"],
                target["conversation_id"],
                error,
            )
        except OutboxError as error:  # a full disk: the answer still reaches the caller
            if not self.fail_open:
                raise
            logger.error("MemOS memory lost this turn: %s", error)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait for the background writes; ``False`` if ``timeout`` passed first."""
        return True if self.writer is None else self.writer.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Deliver for at most ``timeout`` seconds (see :meth:`BackgroundWriter.close`), stop.

        Further turns raise :class:`ClosedError`; closing again returns the same answer.
        """
        if not self._closed:
            self._closed = True
            if self.writer is not None:
                self._delivered = False  # until the writer says otherwise (Ctrl-C)
                self._delivered = self.writer.close(timeout)
        return self._delivered


class MemoryIntegration:
    """The outside the middleware and the graph nodes share: built from settings, then
    ``settings``, ``flush`` and ``close``; each turn goes through :attr:`memory`."""

    memory: AgentMemory

    def _use(
        self,
        name: str,
        client: MemOSClient | None,
        settings: MemorySettings | None,
        options: dict[str, Any],
    ) -> None:
        """Settle the options (``name`` is the class the errors name) and make the memory."""
        self.memory = AgentMemory(settings_for(name, client, settings, options))
        self.prompt_mode: PromptMode = self.memory.settings.prompt_mode
        self._keep = message_filter(self.memory.settings.write_back)

    @property
    def settings(self) -> MemorySettings:
        """The settings in use (with the client built from the environment, if it was)."""
        return self.memory.settings

    def _render(self, prompt: MemoryPrompt) -> str:
        return prompt.text(self.prompt_mode)

    def _to_write(self, messages: Sequence[BaseMessage]) -> list[BaseMessage]:
        """The messages ``write_back`` keeps."""
        keep = self._keep
        return list(messages) if keep is None else [m for m in messages if keep(m)]

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the queued writes were sent; ``False`` if ``timeout`` passed first."""
        return self.memory.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Deliver the queued writes for at most ``timeout`` seconds, then stop the writer.

        The default bound is :data:`~langchain_memos.outbox.CLOSE_TIMEOUT` (5 s). ``True``
        when nothing is waiting any more (delivered, or refused and kept in the dead letters,
        each logged as an error); ``False`` if writes are still waiting: a warning says how
        many and where they are kept. Later turns raise :class:`~langchain_memos.ClosedError`;
        closing again does nothing and returns the same answer.
        """
        return self.memory.close(timeout)


def _in_a_tool_call(config: Mapping[str, Any] | None) -> bool:
    """Whether the run is of an agent called from a tool: LangGraph names each node a run is
    nested in in its checkpoint namespace ("tools:<task>|model:<task>"), and create_agent's
    tool node, like Deep Agents' whose task tool runs subagents, is "tools"."""
    configurable = (config or {}).get("configurable") or {}
    namespace = str(configurable.get("checkpoint_ns") or "")
    return any(part.split(":", 1)[0] == "tools" for part in namespace.split("|")[:-1])


def _tool_steps(messages: Sequence[BaseMessage]) -> list[set[int]]:
    """The positions of each AI message that calls tools and of the results of its calls."""
    steps: list[set[int]] = []
    caller: dict[str, set[int]] = {}
    for index, message in enumerate(messages):
        if isinstance(message, AIMessage) and (message.tool_calls or message.invalid_tool_calls):
            step = {index}
            steps.append(step)
            for call in [*message.tool_calls, *message.invalid_tool_calls]:
                call_id = call.get("id")
                if isinstance(call_id, str):  # "" too: a result with it is refused, and so its call
                    caller[call_id] = step
        elif isinstance(message, ToolMessage) and message.tool_call_id in caller:
            caller[message.tool_call_id].add(index)
    return steps
