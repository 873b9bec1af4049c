"""``MemOSMiddleware``: MemOS memory for ``langchain.agents.create_agent``.

Needs the ``langchain`` extra: ``pip install 'langchain-memos[langchain]'``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any, cast

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from typing_extensions import NotRequired

try:
    from langchain.agents.middleware.types import (
        AgentMiddleware,
        AgentState,
        ExtendedModelResponse,
        ModelRequest,
        ModelResponse,
        PrivateStateAttr,
    )
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "langchain_memos.middleware needs the langchain package: "
        "pip install 'langchain-memos[langchain]'"
    ) from error

from langchain_memos._agent_memory import MemoryIntegration
from langchain_memos.client import MemOSClient
from langchain_memos.scope import (
    MEMORY_MESSAGE_ID,
    Scope,
    is_summary,
    turn_start,
    unsaved_messages,
    without_tools,
)
from langchain_memos.settings import MemorySettings

__all__ = ["MemOSMiddleware", "MemOSState"]

_MEMORY = "memos_memory"
_INPUT = "memos_turn_input"
_ANCHOR = "memos_turn_anchor"
_BEFORE = "memos_turn_before"
_SUMMARY = "memos_turn_summary"
_SAVED = "memos_saved_id"
_USER = "memos_user_id"
_CONVERSATION = "memos_conversation_id"


class MemOSState(AgentState[Any]):
    """The agent state plus this middleware's private keys (never in the agent's output).

    While a turn runs they hold its memory block, the ids of its input messages, of the last of
    them and of the message before them (what the turn adds comes after), the id of the newest
    summary then (to tell whether another middleware summarized during the turn), and its scope;
    ``after_agent`` empties them and keeps ``memos_saved_id``, the id of the last message the
    turn went through, where the next turn's input begins. Like any middleware's private keys,
    they are checkpointed with the thread and streamed with ``stream_mode="values"``,
    ``"updates"`` and ``"debug"``.
    """

    memos_memory: NotRequired[Annotated[str, PrivateStateAttr]]
    memos_turn_input: NotRequired[Annotated[list[str], PrivateStateAttr]]
    memos_turn_anchor: NotRequired[Annotated[str | None, PrivateStateAttr]]
    memos_turn_before: NotRequired[Annotated[str | None, PrivateStateAttr]]
    memos_turn_summary: NotRequired[Annotated[str | None, PrivateStateAttr]]
    memos_saved_id: NotRequired[Annotated[str | None, PrivateStateAttr]]
    memos_user_id: NotRequired[Annotated[str, PrivateStateAttr]]
    memos_conversation_id: NotRequired[Annotated[str | None, PrivateStateAttr]]


def _newest_summary(messages: Sequence[BaseMessage]) -> str | None:
    return next((m.id for m in reversed(messages) if is_summary(m)), None)


def _turn_messages(state: MemOSState) -> list[BaseMessage]:
    """The turn's messages that the state still holds at its end, as it holds them: its input
    (a message another middleware redacted is written redacted; one it removed, or summarized
    or trimmed away, is not written: what is written is only ever what the state holds) and
    what the turn added after it: after its input's last message; if a middleware removed that,
    the message before the input; if that too, the newest summary made during the turn; else
    every message left (the older ones were deleted)."""
    messages = state["messages"]
    ids = [m.id for m in messages]
    current = dict(zip(ids, messages, strict=True))
    summary = _newest_summary(messages)
    summarized = summary is not None and summary != state.get("memos_turn_summary")
    given = state.get("memos_turn_input", [])
    kept = [current[i] for i in given if i in current]
    for mark in (state.get("memos_turn_anchor"), state.get("memos_turn_before"), summary):
        if mark and mark in current and (mark != summary or summarized):
            start = ids.index(mark) + 1
            break
    else:
        start = 0
    earlier = set(given)
    return [*kept, *(m for m in messages[start:] if m.id not in earlier and not is_summary(m))]


def _input(state: MemOSState) -> list[BaseMessage]:
    """The messages a turn starts with that no turn went through yet (its user's input).

    After a run that failed (a model or a tool raised, a middleware refused the input by raising,
    as ``PIIMiddleware(strategy="block")`` does) its turn is still open: a new message instead of
    a resume leaves that turn behind, never written, and the input is the latest user turn."""
    messages = state["messages"]
    anchor = state.get("memos_turn_anchor")
    if anchor is not None:
        ids = [m.id for m in messages]
        if anchor not in ids:
            return list(messages[turn_start(messages) :])
        after = messages[ids.index(anchor) + 1 :]
        said = (i for i, m in enumerate(after) if isinstance(m, HumanMessage) and not is_summary(m))
        return list(after[next(said, len(after)) :])
    saved = state.get("memos_saved_id")
    return unsaved_messages(messages, saved if isinstance(saved, str) else None)


def _structured_output_tools(response_format: object) -> set[str]:
    """The names of the tools a ``ToolStrategy`` (or an ``AutoStrategy`` falling back to one)
    has the model call to return the structured response."""
    from langchain.agents.structured_output import AutoStrategy, ToolStrategy

    if isinstance(response_format, AutoStrategy):
        # Named as create_agent names them when it falls back; an untitled dict schema gets a
        # random name each time, which could never match (and would pile up): left out.
        names = {spec.name for spec in ToolStrategy(response_format.schema).schema_specs}
        return {name for name in names if not name.startswith("response_format_")}
    if isinstance(response_format, ToolStrategy):
        return {spec.name for spec in response_format.schema_specs}
    return set()


def _asks(messages: list[BaseMessage]) -> bool:
    """The turn's input holds something a user said (not only a summary or a system note)."""
    return any(isinstance(m, HumanMessage) and not is_summary(m) for m in messages)


def _config() -> Mapping[str, Any] | None:
    from langgraph.config import get_config

    try:
        return get_config()
    except RuntimeError:  # called outside a graph run
        return None


def _with_memory(request: ModelRequest[Any], memory: str) -> ModelRequest[Any]:
    """The request with ``memory`` appended to its system message (made if there is none)."""
    system = request.system_message
    if system is None:
        return request.override(
            system_message=SystemMessage(content=[{"type": "text", "text": memory}])
        )
    content = [
        *cast("list[dict[str, Any]]", system.content_blocks),
        {"type": "text", "text": f"\n\n{memory}"},
    ]
    # The caller's message with the block added: its id, name and kwargs kept.
    return request.override(system_message=system.model_copy(update={"content": content}))


class MemOSMiddleware(MemoryIntegration, AgentMiddleware[MemOSState, Any, Any]):
    """Long-term memory from MemOS for an agent made with ``create_agent``.

    Per user turn: one memory search for the latest human message (``before_agent``), the
    memory block appended to the system message of every model call (``wrap_model_call``; the
    block is never one of the conversation's messages: it is kept in the middleware's private
    state while the turn runs, see :class:`MemOSState`), and the turn's new messages written
    back in the background (``after_agent``), each turn's once, whatever other middleware
    summarized or deleted meanwhile. Every hook has a sync and an async form.

    The options are a :class:`~langchain_memos.settings.MemorySettings`, which documents them
    all; the middleware uses every one. The user and the conversation of a run come from the
    settings, else the run's config, else its runtime context
    (:func:`~langchain_memos.scope.resolve_scope`); a run without a user raises
    ``MemOSInputError``.

    A search that fails or takes longer than ``timeout`` gives an answer without memories and a
    logged warning (``fail_open=False`` raises instead). Writes are committed to a durable
    outbox before they are sent, delivered in order per conversation and retried while MemOS is
    unavailable, at least once (see :mod:`langchain_memos.outbox`); :meth:`close` and
    interpreter exit wait for them, at most :data:`~langchain_memos.outbox.CLOSE_TIMEOUT`.
    MemOS processes writes asynchronously: a fact said in one turn may not be recalled in the
    very next one.

    Args:
        client: The sync client, as ``settings.client`` (``MemOSMiddleware(client)`` for short).
        settings: The options; default ``MemorySettings()``.
        **options: Fields of :class:`~langchain_memos.settings.MemorySettings` by keyword, over
            ``settings`` (``MemOSMiddleware(client, timeout=1.0)``, the spelling from before
            the settings object); and ``full_instruction=True``, the older spelling of
            ``prompt_mode="full"``.

    Raises:
        MemOSInputError: an option that is not valid, or ``write_back`` without a sync client.
        TypeError: a keyword that is not an option.

    Example:
        >>> from langchain.agents import create_agent
        >>> memory = MemOSMiddleware(settings=MemorySettings(client=MemOSClient()))
        >>> agent = create_agent(model, tools, middleware=[memory])
        >>> agent.invoke(
        ...     {"messages": [("user", "Where should I travel?")]},
        ...     {"configurable": {"user_id": "memos_user_123", "thread_id": "t1"}},
        ... )
        >>> memory.close()
    """

    state_schema = MemOSState

    def __init__(
        self,
        client: MemOSClient | None = None,
        *,
        settings: MemorySettings | None = None,
        **options: Any,
    ) -> None:
        super().__init__()
        self._use("MemOSMiddleware", client, settings, options)
        self.tools = []
        # The tools create_agent's ToolStrategy answers with (its response_format), seen in the
        # model requests: how an agent returns its structured response, not conversation.
        self._plumbing: set[str] = set()

    # ---- before_agent: one search per user turn ------------------------------------------

    def _scope(self, runtime: Runtime[Any]) -> Scope:
        return self.memory.scope(_config(), getattr(runtime, "context", None))

    def _turn(
        self, state: MemOSState, scope: Scope, given: list[BaseMessage], text: str
    ) -> dict[str, Any]:
        messages = state["messages"]
        ids = [m.id for m in messages]
        last = given[-1].id if given else (ids[-1] if ids else None)
        first = ids.index(given[0].id) if given and given[0].id in ids else len(ids)
        return {
            _MEMORY: text,
            _INPUT: [m.id for m in given if m.id is not None],
            _ANCHOR: last or "",
            _BEFORE: ids[first - 1] if first > 0 else None,
            _SUMMARY: _newest_summary(messages),
            _USER: scope.user_id,
            _CONVERSATION: scope.conversation_id,
        }

    def before_agent(self, state: MemOSState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Search once for the turn's latest human message; keep the block in private state.

        A run whose input holds no human message (only an AI or a system message, or none)
        searches nothing: it is no user turn."""
        scope = self._scope(runtime)
        given = _input(state)
        text = self._render(self.memory.search(given, scope)) if _asks(given) else ""
        return self._turn(state, scope, given, text)

    async def abefore_agent(
        self, state: MemOSState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Async :meth:`before_agent`."""
        scope = self._scope(runtime)
        given = _input(state)
        text = self._render(await self.memory.asearch(given, scope)) if _asks(given) else ""
        return self._turn(state, scope, given, text)

    # ---- wrap_model_call: inject on every model call -------------------------------------

    def _request(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        self._plumbing |= _structured_output_tools(request.response_format)
        state = request.state if isinstance(request.state, Mapping) else {}
        memory = state.get(_MEMORY)
        return _with_memory(request, memory) if isinstance(memory, str) and memory else request

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any] | AIMessage | ExtendedModelResponse[Any]:
        """Call the model with the turn's memory block appended to the system message."""
        return handler(self._request(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any] | AIMessage | ExtendedModelResponse[Any]:
        """Async :meth:`wrap_model_call`."""
        return await handler(self._request(request))

    # ---- after_agent: write back the turn's new messages ---------------------------------

    def _written(
        self, state: MemOSState
    ) -> tuple[tuple[list[BaseMessage], Scope] | None, dict[str, Any]]:
        """This turn's messages to write (``write_back`` may filter them) and its scope, and the
        state update that closes the turn.

        No turn is open when ``before_agent`` did not run for it (a middleware before this one
        ended the run, as a guardrail does): nothing is written, and the messages it left are
        passed over, never written by a later turn."""
        messages = state["messages"]
        anchor, user = state.get("memos_turn_anchor"), state.get("memos_user_id")
        last = messages[-1].id if messages else None
        closed: dict[str, Any] = {_MEMORY: "", _INPUT: [], _ANCHOR: None, _BEFORE: None}
        if last is not None:
            closed[_SAVED] = last
        if anchor is None or user is None:
            return None, closed
        turn = [m for m in _turn_messages(state) if m.id != MEMORY_MESSAGE_ID]
        scope = Scope(user_id=user, conversation_id=state.get("memos_conversation_id"))
        return (self._kept(turn), scope), closed

    def _kept(self, turn: list[BaseMessage]) -> list[BaseMessage]:
        """What of a turn is written: ``write_back``'s choice, without the structured-output
        tool's call and its "Returning structured response" message."""
        return self._to_write(without_tools(turn, self._plumbing) if self._plumbing else turn)

    def after_agent(self, state: MemOSState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Queue the messages this turn added for the background writer."""
        turn, closed = self._written(state)
        if turn is not None:
            self.memory.save(*turn)
        return closed

    async def aafter_agent(self, state: MemOSState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Async :meth:`after_agent` (queueing never blocks the event loop)."""
        turn, closed = self._written(state)
        if turn is not None:
            await self.memory.asave(*turn)
        return closed
