"""``MemOSMiddleware``: MemOS memory for ``langchain.agents.create_agent``.

Needs the ``langchain`` extra: ``pip install 'langchain-memos[langchain]'``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, cast

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
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

from langchain_memos._agent_memory import AgentMemory
from langchain_memos._recall import DEFAULT_SEARCH_TIMEOUT
from langchain_memos._validation import check_flag
from langchain_memos._writer import OutboxArg
from langchain_memos.client import AsyncMemOSClient, MemOSClient
from langchain_memos.outbox import DEFAULT_MAX_PENDING
from langchain_memos.prompts import (
    MemoryPrompt,
    MemoryPromptBuilder,
    PromptMode,
    check_prompt_mode,
)
from langchain_memos.scope import Scope, message_filter, turn_start

__all__ = ["MemOSMiddleware", "MemOSState"]

_MEMORY = "memos_memory"
_TURN_START = "memos_turn_start"
_USER = "memos_user_id"
_CONVERSATION = "memos_conversation_id"


class MemOSState(AgentState[Any]):
    """The agent state plus this middleware's private keys (never in the agent's output)."""

    memos_memory: NotRequired[Annotated[str, PrivateStateAttr]]
    memos_turn_start: NotRequired[Annotated[int, PrivateStateAttr]]
    memos_user_id: NotRequired[Annotated[str, PrivateStateAttr]]
    memos_conversation_id: NotRequired[Annotated[str | None, PrivateStateAttr]]


def _config() -> Mapping[str, Any] | None:
    from langgraph.config import get_config

    try:
        return get_config()
    except RuntimeError:  # called outside a graph run
        return None


def _with_memory(request: ModelRequest[Any], memory: str) -> ModelRequest[Any]:
    """The request with ``memory`` appended to its system message (made if there is none)."""
    if request.system_message is None:
        content: list[str | dict[str, Any]] = [{"type": "text", "text": memory}]
    else:
        content = [
            *cast("list[dict[str, Any]]", request.system_message.content_blocks),
            {"type": "text", "text": f"\n\n{memory}"},
        ]
    return request.override(system_message=SystemMessage(content=content))


class MemOSMiddleware(AgentMiddleware[MemOSState, Any, Any]):
    """Long-term memory from MemOS for an agent made with ``create_agent``.

    Per user turn: one memory search for the latest human message (``before_agent``), the
    memory block appended to the system message of every model call (``wrap_model_call``; the
    block never enters the conversation state), and the turn's new messages written back in
    the background (``after_agent``). Every hook has a sync and an async form.

    The user comes from ``user_id``, else the run's ``config["configurable"]["user_id"]``, else
    the runtime context's ``user_id``; the conversation from ``conversation_id``, else
    ``configurable.conversation_id`` or ``configurable.thread_id``, else the context's. Ids
    follow the retriever's rule (:func:`~langchain_memos.scope.resolve_scope`): a user
    id must be a non-blank string (``42`` raises, it is not read as ``"42"``); a thread id is
    used as ``str(thread_id)``. A run without a user raises ``MemOSInputError``.

    A search that fails or takes longer than ``timeout`` gives an answer without memories and a
    logged warning (``fail_open=False`` raises instead). Writes are committed to a durable
    outbox before they are sent, delivered in order per conversation and retried while MemOS is
    unavailable, at least once (see :mod:`langchain_memos.outbox`); :meth:`close` and
    interpreter exit wait for them, at most :data:`~langchain_memos.outbox.CLOSE_TIMEOUT`.
    MemOS processes writes asynchronously: a fact said in one turn may not be recalled in the
    very next one.

    Args:
        client: Sync client (sync runs and the background writer). With neither client, one
            is built from the environment.
        async_client: Async client for ``ainvoke``/``astream`` searches; without it, async runs
            search with ``client`` in a thread.
        user_id: A fixed user for every run.
        conversation_id: A fixed conversation for every run.
        builder: Renders the recalled memories (default: the documented memory block).
        search_options: Extra ``search_memory`` arguments (``memory_limit_number``, ...).
        timeout: Seconds the search may take (default 2).
        fail_open: Degrade on memory failures instead of raising (default ``True``).
        write_back: Write each turn's new messages to MemOS (default ``True``); or a function
            of a message that says which to write, e.g. ``lambda m: m.type == "human"`` to
            store only what the user said (keep a tool call and its result together).
        prompt_mode: What every model call gets (see
            :meth:`~langchain_memos.prompts.MemoryPrompt.text`): ``"protocol"`` (default) the
            current time and its zone, the memories and the docs' four-step memory-safety
            protocol with its instructions, without the docs' role and query (the agent has
            its own role, the conversation has the query); ``"memories"`` only the
            ``<memories>`` block and its time zone; ``"full"`` the docs' complete system
            prompt, role and query included. In the query's language (``builder`` decides).
        full_instruction: The older spelling of ``prompt_mode="full"``.
        outbox: An :class:`~langchain_memos.outbox.Outbox` or a database path for the writes;
            default: ``$MEMOS_OUTBOX_PATH`` or a file in the user cache, in memory for the
            embedded engine.
        max_pending: At most this many writes wait; a further one waits for room.

    Example:
        >>> from langchain.agents import create_agent
        >>> memory = MemOSMiddleware(client=MemOSClient())
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
        async_client: AsyncMemOSClient | None = None,
        user_id: str | None = None,
        conversation_id: str | None = None,
        builder: MemoryPromptBuilder | None = None,
        search_options: Mapping[str, Any] | None = None,
        timeout: float = DEFAULT_SEARCH_TIMEOUT,
        fail_open: bool = True,
        write_back: bool | Callable[[BaseMessage], bool] = True,
        prompt_mode: PromptMode | None = None,
        full_instruction: bool = False,
        outbox: OutboxArg = None,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        super().__init__()
        check_flag("full_instruction", full_instruction)  # before a writer thread starts
        mode = check_prompt_mode(prompt_mode, full_instruction=full_instruction)
        self._keep = message_filter(write_back)
        self.memory = AgentMemory(
            client=client,
            async_client=async_client,
            user_id=user_id,
            conversation_id=conversation_id,
            builder=builder,
            search_options=search_options,
            timeout=timeout,
            fail_open=fail_open,
            write_back=write_back is not False,
            outbox=outbox,
            max_pending=max_pending,
        )
        self.prompt_mode: PromptMode = mode
        self.tools = []

    # ---- before_agent: one search per user turn ------------------------------------------

    def _scope(self, runtime: Runtime[Any]) -> Scope:
        return self.memory.scope(_config(), getattr(runtime, "context", None))

    def _turn(self, state: MemOSState, scope: Scope, text: str) -> dict[str, Any]:
        return {
            _MEMORY: text,
            _TURN_START: turn_start(state["messages"]),
            _USER: scope.user_id,
            _CONVERSATION: scope.conversation_id,
        }

    def _render(self, prompt: MemoryPrompt) -> str:
        return prompt.text(self.prompt_mode)

    def before_agent(self, state: MemOSState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Search once for the turn's latest human message; keep the block in private state."""
        scope = self._scope(runtime)
        prompt = self.memory.search(state["messages"], scope)
        return self._turn(state, scope, self._render(prompt))

    async def abefore_agent(
        self, state: MemOSState, runtime: Runtime[Any]
    ) -> dict[str, Any] | None:
        """Async :meth:`before_agent`."""
        scope = self._scope(runtime)
        prompt = await self.memory.asearch(state["messages"], scope)
        return self._turn(state, scope, self._render(prompt))

    # ---- wrap_model_call: inject on every model call -------------------------------------

    def _request(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
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

    def _written(self, state: MemOSState) -> tuple[list[BaseMessage], Scope] | None:
        """This turn's messages to write (``write_back`` may filter them) and its scope."""
        user = state.get("memos_user_id")
        if user is None:
            return None  # before_agent did not run (e.g. the run was resumed after an interrupt)
        start = state.get("memos_turn_start", 0)
        scope = Scope(user_id=user, conversation_id=state.get("memos_conversation_id"))
        messages: list[BaseMessage] = list(state["messages"][start:])
        if self._keep is not None:
            messages = [m for m in messages if self._keep(m)]
        return messages, scope

    def after_agent(self, state: MemOSState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Queue the messages this turn added for the background writer."""
        turn = self._written(state)
        if turn is not None:
            self.memory.save(*turn)
        return None

    async def aafter_agent(self, state: MemOSState, runtime: Runtime[Any]) -> dict[str, Any] | None:
        """Async :meth:`after_agent` (queueing never blocks the event loop)."""
        turn = self._written(state)
        if turn is not None:
            await self.memory.asave(*turn)
        return None

    # ---- lifecycle -----------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the queued writes were sent; ``False`` if ``timeout`` passed first."""
        return self.memory.flush(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Deliver the queued writes for at most ``timeout`` seconds, then stop the writer.

        The default bound is :data:`~langchain_memos.outbox.CLOSE_TIMEOUT` (5 s). ``False`` if
        writes are still waiting then: a warning says how many and where they are kept.
        """
        return self.memory.close(timeout)
