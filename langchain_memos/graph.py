"""LangGraph nodes that recall and save MemOS memories, and a legacy ``pre_model_hook`` adapter.

For a ``StateGraph`` with a ``messages`` channel (``add_messages``)::

    memory = MemOSGraphMemory(client=MemOSClient())
    builder.add_node("recall", memory.memory_node())
    builder.add_node("model", call_model)
    builder.add_node("save", memory.save_node())
    builder.add_edge(START, "recall")
    builder.add_edge("recall", "model")
    builder.add_edge("model", "save")

The recall node keeps one memory ``SystemMessage`` (id ``"memos-memory"``) at the front of the
conversation and replaces it on every turn; the save node queues the turn's new messages for a
background writer. ``create_memos_pre_model_hook`` gives the memory to the model only, for the
deprecated ``langgraph.prebuilt.create_react_agent``; new code should use
:class:`langchain_memos.middleware.MemOSMiddleware` with ``langchain.agents.create_agent``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AnyMessage, BaseMessage, RemoveMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from typing_extensions import NotRequired, TypedDict

from langchain_memos._agent_memory import MemoryIntegration
from langchain_memos._exceptions import MemOSInputError
from langchain_memos.client import MemOSClient
from langchain_memos.prompts import MemoryPrompt
from langchain_memos.scope import MEMORY_MESSAGE_ID, Scope, unsaved_messages
from langchain_memos.settings import MemorySettings

__all__ = [
    "MEMORY_MESSAGE_ID",
    "SAVED_ID_KEY",
    "MemOSGraphMemory",
    "create_memos_pre_model_hook",
]

SAVED_ID_KEY = "memos_saved_id"
"""The state key where the save node keeps the id of the last message it saved."""


class _SaveState(TypedDict):
    """What the save node reads and writes.

    Declared by the node itself, so LangGraph adds ``memos_saved_id`` to any graph the node is
    part of (a plain ``messages`` entry never replaces the graph's own channel and reducer).
    """

    messages: list[AnyMessage]
    memos_saved_id: NotRequired[str]


def _messages(state: object) -> list[BaseMessage]:
    value = (
        state.get("messages") if isinstance(state, Mapping) else getattr(state, "messages", None)
    )
    if value is None:
        raise MemOSInputError("the graph state has no 'messages' channel")
    return list(value)


def _context() -> object:
    from langgraph.runtime import get_runtime

    try:
        return get_runtime().context
    except (RuntimeError, KeyError, AttributeError):  # outside a graph run
        return None


class MemOSGraphMemory(MemoryIntegration):
    """MemOS recall and write-back as LangGraph nodes (sync and async graphs alike).

    The options are a :class:`~langchain_memos.settings.MemorySettings`, which documents them
    all; the nodes use every one (``write_back`` applies to :meth:`save_node`). The user and the
    conversation of a run come from the settings, else the run's config, else its runtime
    context (:func:`~langchain_memos.scope.resolve_scope`); a run without a user raises
    ``MemOSInputError``.

    A search that fails or takes longer than ``timeout`` recalls nothing and logs a warning
    (``fail_open=False`` raises). Writes are committed to a durable outbox before they are sent,
    delivered in order per conversation and retried while MemOS is unavailable, at least once
    (see :mod:`langchain_memos.outbox`); :meth:`close` and interpreter exit wait for them.

    Args:
        client: The sync client, as ``settings.client`` (``MemOSGraphMemory(client)`` for short).
        settings: The options; default ``MemorySettings()``.
        **options: Fields of :class:`~langchain_memos.settings.MemorySettings` by keyword, over
            ``settings``; and ``full_instruction=True``, the older spelling of
            ``prompt_mode="full"``.

    Raises:
        MemOSInputError: an option that is not valid, or ``write_back`` without a sync client.
        TypeError: a keyword that is not an option.
    """

    def __init__(
        self,
        client: MemOSClient | None = None,
        *,
        settings: MemorySettings | None = None,
        **options: Any,
    ) -> None:
        self._use("MemOSGraphMemory", client, settings, options)

    def _scope(self, config: RunnableConfig | None) -> Scope:
        return self.memory.scope(config, _context())

    # ---- recall: one memory SystemMessage at the front, replaced each turn ---------------

    def _update(self, messages: list[BaseMessage], prompt: MemoryPrompt) -> dict[str, Any]:
        present = any(m.id == MEMORY_MESSAGE_ID for m in messages)
        text = self._render(prompt)
        if not text:
            return {"messages": [RemoveMessage(id=MEMORY_MESSAGE_ID)] if present else []}
        memory = SystemMessage(content=text, id=MEMORY_MESSAGE_ID)
        if present:
            return {"messages": [memory]}  # same id: replaced where it stands
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), memory, *messages]}

    def recall(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        """Node: search for the latest human message; put the memory message in front."""
        messages = _messages(state)
        return self._update(messages, self.memory.search(messages, self._scope(config)))

    async def arecall(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        """Async :meth:`recall`."""
        messages = _messages(state)
        return self._update(messages, await self.memory.asearch(messages, self._scope(config)))

    # ---- save: the turn's new messages, each written once ---------------------------------

    def _unsaved(
        self, state: Any, config: RunnableConfig
    ) -> tuple[list[BaseMessage], Scope, dict[str, Any]]:
        """The messages not saved yet, their scope, and the state update that marks them saved.

        What was saved is the id of the last message saved, kept in the graph state (see
        :data:`SAVED_ID_KEY`), so it is checkpointed with the thread: a new process, or another
        worker, resuming the thread does not save a message twice.
        """
        scope = self._scope(config)
        saved = state.get(SAVED_ID_KEY) if isinstance(state, Mapping) else None
        new = unsaved_messages(_messages(state), saved if isinstance(saved, str) else None)
        update = {SAVED_ID_KEY: new[-1].id} if new and new[-1].id is not None else {}
        return self._to_write(new), scope, update

    def save(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        """Node: queue the messages not saved yet (this turn's) for the background writer.

        Returns ``{"memos_saved_id": <id of the last of them>}``: :meth:`save_node` declares
        that key, so LangGraph keeps it in the state; a node of your own that calls this method
        needs the key in its graph's state (``memos_saved_id: NotRequired[str]``), else each
        save falls back to the latest user turn.
        """
        new, scope, update = self._unsaved(state, config)
        self.memory.save(new, scope)
        return update

    async def asave(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        """Async :meth:`save`; queueing never blocks the event loop."""
        new, scope, update = self._unsaved(state, config)
        await self.memory.asave(new, scope)
        return update

    # ---- the legacy create_react_agent hook ------------------------------------------------

    def _llm_input(self, messages: Sequence[BaseMessage], prompt: MemoryPrompt) -> dict[str, Any]:
        text = self._render(prompt)
        memory = [SystemMessage(content=text, id=MEMORY_MESSAGE_ID)] if text else []
        return {"llm_input_messages": [*memory, *messages]}

    def hook(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        """``pre_model_hook``: the memory goes to the model call only, not into the state."""
        messages = _messages(state)
        return self._llm_input(messages, self.memory.search(messages, self._scope(config)))

    async def ahook(self, state: Any, config: RunnableConfig) -> dict[str, Any]:
        """Async :meth:`hook`."""
        messages = _messages(state)
        prompt = await self.memory.asearch(messages, self._scope(config))
        return self._llm_input(messages, prompt)

    # ---- nodes and lifecycle ---------------------------------------------------------------

    def memory_node(self) -> Runnable[Any, dict[str, Any]]:
        """The recall node, with its sync and async forms."""
        return RunnableLambda(self.recall, afunc=self.arecall, name="memos_memory")

    def save_node(self) -> Runnable[Any, dict[str, Any]]:
        """The save node, with its sync and async forms.

        It declares the ``memos_saved_id`` state key it keeps (LangGraph adds it to the graph),
        so the graph's own state schema needs nothing more.
        """
        return _SaveNode(self)

    def pre_model_hook(self) -> Runnable[Any, dict[str, Any]]:
        """The ``pre_model_hook`` node, with its sync and async forms."""
        return RunnableLambda(self.hook, afunc=self.ahook, name="memos_pre_model_hook")


def create_memos_pre_model_hook(
    client: MemOSClient | None = None, *, settings: MemorySettings | None = None, **options: Any
) -> Runnable[Any, dict[str, Any]]:
    """A ``pre_model_hook`` for ``create_react_agent`` that gives the model the user's memories.

    Returns ``{"llm_input_messages": [memory SystemMessage, *messages]}``: the memory is used
    for the model call and never stored in the state. Takes the arguments of
    :class:`MemOSGraphMemory`; it does not write back (``write_back`` is ``False`` unless given
    as a keyword).

    A ``pre_model_hook`` runs before **every** model call, so a turn with N tool calls makes
    N + 1 searches (``bench/agent_turn.py``: 4 searches and +234 ms per turn against +59 ms for
    the middleware, with 50 ms per request). Prefer the middleware or the recall node
    (:meth:`MemOSGraphMemory.memory_node`), which search once per user turn.

    Example:
        >>> agent = create_react_agent(model, tools, pre_model_hook=create_memos_pre_model_hook(
        ...     client=MemOSClient()))
        >>> agent.invoke(inputs, {"configurable": {"user_id": "memos_user_123"}})
    """
    options.setdefault("write_back", False)
    return MemOSGraphMemory(client, settings=settings, **options).pre_model_hook()


class _SaveNode(RunnableLambda[Any, dict[str, Any]]):
    """:meth:`MemOSGraphMemory.save` as a node whose input type is :class:`_SaveState`.

    ``StateGraph.add_node`` reads a node's input schema from the type of the first parameter of
    its ``__call__``, and adds the schema's keys to the graph's channels: so ``memos_saved_id``
    is written, checkpointed and read back, whatever the graph's own state schema.
    """

    def __init__(self, memory: MemOSGraphMemory) -> None:
        super().__init__(memory.save, afunc=memory.asave, name="memos_save")
        self._memory = memory

    def __call__(self, state: _SaveState, config: RunnableConfig) -> dict[str, Any]:
        """Save as the sync node does (see :meth:`MemOSGraphMemory.save`)."""
        return self._memory.save(state, config)
