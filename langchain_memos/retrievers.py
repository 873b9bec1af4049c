"""``MemOSRetriever``: MemOS memories as LangChain ``Document``s."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import ensure_config, run_in_executor
from langchain_core.utils import secret_from_env
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from langchain_memos._config import hashed_password
from langchain_memos._constants import API_KEY_ENV, MAX_RECALL_LIMIT
from langchain_memos._documents import to_documents
from langchain_memos._endpoints.scopes import check_views, view_scope
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import check_fraction, check_int
from langchain_memos._validation.keywords import check_keywords
from langchain_memos.client import AsyncMemOSClient, MemOSClient
from langchain_memos.types import Filter, MemoryView, SearchMemoryResult

__all__ = ["MemOSRetriever", "to_documents"]

# The retriever fields that are search/memory options, by the API's names.
_SEARCH_OPTIONS = (
    "conversation_id",
    "filter",
    "knowledgebase_ids",
    "include_memory_view",
    "include_preference",
    "preference_limit_number",
    "include_tool_memory",
    "tool_memory_limit_number",
    "include_skill",
    "skill_limit_number",
    "relativity",
)
# Each kind besides facts: the switch that asks for it and the limit of how many come back.
_OTHER_KINDS = (
    ("include_preference", "preference_limit_number"),
    ("include_tool_memory", "tool_memory_limit_number"),
    ("include_skill", "skill_limit_number"),
)
_CALL_OPTIONS = frozenset({"k", "user_id", *_SEARCH_OPTIONS})
_LIMITS = ("k", *(limit for _, limit in _OTHER_KINDS))
_PER_KIND = tuple(name for pair in _OTHER_KINDS for name in pair)


class MemOSRetriever(BaseRetriever):
    """Recall MemOS memories relevant to a query, as ``Document``s.

    Every ``search/memory`` option is a field and can be overridden per call:
    ``retriever.invoke("travel plans", k=3, filter={...})``. ``user_id`` and ``conversation_id``
    may also come from the run's config (``configurable.user_id`` and ``configurable.thread_id``),
    so that one retriever serves every user of a server: a per-call argument wins over the
    config, which wins over the field.

    ``k`` (1-25, default 9) is the number of Documents returned, whatever their kind; fewer
    only when MemOS recalls fewer. The retriever asks for ``k`` facts and ``k`` of every other
    kind it includes (preferences by default; tool memories and skills when asked for), unless
    that kind's own limit (``preference_limit_number``...) is set, then keeps the ``k`` most
    relevant of them all, as :func:`to_documents` orders them: by ``relativity`` when every
    item has one (the embedded engine scores every kind), else taking the kinds in turn (the
    cloud documents no relativity for preferences). Since no kind can give more than 25, k
    stays within 25: the k most relevant are then always among those asked for.

    ``include_memory_view`` names the memory views to recall instead (``detail_factual``,
    ``preference``, ``profile``, ``event``, ``skill``, ``tool_memory``), and each recalled
    item is a Document whose ``metadata["kind"]`` is fact, preference, profile, event, skill
    or tool (see :func:`to_documents` for each kind's metadata). The views replace the per-kind
    switches and limits: those left at their defaults are not sent, and one set on the
    retriever or in the call is refused, as MemOS would ignore it. ``k`` is then sent as
    ``memory_limit_number``, which MemOS takes as the budget of all the views together, and
    the ``k`` most relevant Documents of every view are returned, merged as above.

    A bad option (a field of the wrong type, a ``k`` outside 1-25) is a ``MemOSInputError``
    that names it, raised when the retriever is built, or for a per-call option before any
    request. A pickled retriever leaves out the API key (and the clients made with it):
    unpickled, it reads ``MEMOS_API_KEY`` again.

    Example:
        >>> retriever = MemOSRetriever(user_id="memos_user_123", k=5)
        >>> docs = retriever.invoke("Where should we travel?")  # 5 facts and preferences
        >>> docs[0].metadata["kind"], docs[0].page_content
        >>> views = ["detail_factual", "preference", "profile", "event"]
        >>> retriever.invoke("Plan our weekend", include_memory_view=views)
    """

    client: MemOSClient | None = Field(default=None, exclude=True)
    """The client for sync calls; built from ``api_key`` / ``base_url`` when not given."""
    async_client: AsyncMemOSClient | None = Field(default=None, exclude=True)
    """The client for async calls; with only ``client``, async calls run in a thread."""
    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(API_KEY_ENV, default=None), repr=False
    )
    base_url: str | None = None

    user_id: str | None = None
    conversation_id: str | None = None
    k: int = 9
    filter: Filter | None = None
    include_preference: StrictBool = True
    preference_limit_number: int | None = None
    include_tool_memory: StrictBool = False
    tool_memory_limit_number: int | None = None
    include_skill: StrictBool = False
    skill_limit_number: int | None = None
    knowledgebase_ids: list[str] | None = None
    include_memory_view: list[MemoryView] | None = None
    relativity: float | None = None

    _built_sync: MemOSClient | None = PrivateAttr(default=None)
    _built_async: AsyncMemOSClient | None = PrivateAttr(default=None)

    @field_validator(*_LIMITS, mode="before")
    @classmethod
    def _valid_limit(cls, value: object, info: ValidationInfo) -> object:
        # The same check, and message, as a per-call option gets.
        return _check_limit(info.field_name or "k", value)

    @field_validator("include_memory_view", mode="before")
    @classmethod
    def _valid_views(cls, value: object) -> object:
        return check_views("include_memory_view", value)

    @model_validator(mode="after")
    def _views_replace_per_kind(self) -> MemOSRetriever:
        # The request's own refusal, when the retriever is built rather than at its first call.
        if self.include_memory_view is not None:
            chosen = {name: getattr(self, name) for name in _PER_KIND}
            view_scope(self.include_memory_view, **_chosen(chosen, self.model_fields_set))
        return self

    @field_validator("relativity", mode="before")
    @classmethod
    def _valid_relativity(cls, value: object) -> object:
        return check_fraction("relativity", value)

    if not TYPE_CHECKING:  # keeps the typed signature the pydantic plugin gives mypy

        def __init__(self, **data: Any) -> None:
            # A pydantic model ignores a field it does not have: a misspelled one is refused.
            check_keywords("MemOSRetriever", data, _fields(type(self)))
            problem = None
            try:
                super().__init__(**data)
            except ValidationError as error:
                # Without the input values, which could be the key.
                problem = "; ".join(
                    map(_describe, error.errors(include_url=False, include_input=False))
                )
            if problem is not None:  # raised outside the handler: no pydantic error in the chain
                raise MemOSInputError(f"MemOSRetriever got a bad option: {problem}")

    def __repr_args__(self) -> Any:
        # The URL as the client shows it: a user:password@ or token@ in it hashed.
        for name, value in super().__repr_args__():
            yield name, hashed_password(value) if name == "base_url" and value else value

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        state["__dict__"] = {**state["__dict__"], "api_key": None}
        state["__pydantic_private__"] = {
            **(state["__pydantic_private__"] or {}),
            "_built_sync": None,
            "_built_async": None,
        }
        return state

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": API_KEY_ENV}

    # ---- clients ---------------------------------------------------------------------------

    def _client_options(self) -> dict[str, Any]:
        key = self.api_key.get_secret_value() if self.api_key else None
        return {"api_key": key, "base_url": self.base_url}

    def _sync_client(self) -> MemOSClient:
        if self.client is not None:
            return self.client
        if self._built_sync is None:
            self._built_sync = MemOSClient(**self._client_options())
        return self._built_sync

    def _async_client(self) -> AsyncMemOSClient | None:
        if self.async_client is not None:
            return self.async_client
        if self.client is not None:
            return None
        if self._built_async is None:
            self._built_async = AsyncMemOSClient(**self._client_options())
        return self._built_async

    # ---- options ---------------------------------------------------------------------------

    def _search_kwargs(self, query: str, overrides: dict[str, Any]) -> dict[str, Any]:
        """The ``search_memory`` arguments; ``memory_limit_number`` is ``k``."""
        check_keywords("MemOSRetriever.invoke()", overrides, _CALL_OPTIONS)
        k = _check_limit("k", overrides.get("k", self.k))
        if k is None:  # unlike the other kinds' limits, k has no "unset": it is what is returned
            raise MemOSInputError(f"k must be between 1 and {MAX_RECALL_LIMIT}; got None")
        options = {name: overrides.get(name, getattr(self, name)) for name in _SEARCH_OPTIONS}
        user_id = overrides.get("user_id", self.user_id)
        if user_id is None:
            raise MemOSInputError(
                "MemOSRetriever needs a user_id: set it on the retriever, pass it per call, "
                "or put it in the run's config as configurable.user_id"
            )
        if options["include_memory_view"] is not None:
            # The views replace the per-kind options: the defaults are not sent; one set on
            # purpose is, and the request refuses it before any I/O.
            chosen = _chosen(options, self.model_fields_set | set(overrides))
            options = {**options, **{name: chosen.get(name) for name in _PER_KIND}}
            return {"query": query, "user_id": user_id, "memory_limit_number": k, **options}
        for include, limit in _OTHER_KINDS:
            # Preferences come unless refused; tool memories and skills only when asked for.
            wanted = options[include] is True or (
                include == "include_preference" and options[include] is None
            )
            if wanted and options[limit] is None:
                options[limit] = k  # so that the k most relevant can all be of this kind
        return {"query": query, "user_id": user_id, "memory_limit_number": k, **options}

    @staticmethod
    def _scope(config: RunnableConfig | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        # As every runnable reads it: the config given, over the run's it is called within (a
        # step of a chain, a tool calling it with only its callbacks).
        configurable = ensure_config(config).get("configurable") or {}
        scoped = dict(kwargs)
        if "user_id" not in scoped and configurable.get("user_id") is not None:
            scoped["user_id"] = configurable["user_id"]
        conversation = configurable.get("conversation_id")
        if conversation is None:  # a None is no value: the thread decides, as in resolve_scope
            conversation = configurable.get("thread_id")
        if "conversation_id" not in scoped and conversation is not None:
            scoped["conversation_id"] = str(conversation)
        return scoped

    def invoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        return super().invoke(input, config, **self._scope(config, kwargs))

    async def ainvoke(
        self, input: str, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        return await super().ainvoke(input, config, **self._scope(config, kwargs))

    # ---- searching -------------------------------------------------------------------------

    def search(self, query: str, **overrides: Any) -> SearchMemoryResult:
        """The structured search result, with ``preference_note`` and every list, not Documents.

        It holds what MemOS answered: up to ``k`` items of each kind, not yet cut to ``k``.
        """
        return self._sync_client().search_memory(**self._search_kwargs(query, overrides))

    async def asearch(self, query: str, **overrides: Any) -> SearchMemoryResult:
        """Async :meth:`search`."""
        kwargs = self._search_kwargs(query, overrides)
        client = self._async_client()
        if client is None:
            return await run_in_executor(None, self.search, query, **overrides)
        return await client.search_memory(**kwargs)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = kwargs.get("k", self.k)
        return to_documents(self.search(query, **kwargs), k)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = kwargs.get("k", self.k)
        return to_documents(await self.asearch(query, **kwargs), k)


@cache
def _fields(model: type[BaseRetriever]) -> frozenset[str]:
    """What a retriever class is built with: its fields, by name and by alias."""
    return frozenset(
        key for name, field in model.model_fields.items() for key in (name, field.alias) if key
    )


def _chosen(options: dict[str, Any], chosen: set[str]) -> dict[str, Any]:
    """The per-kind options set on purpose (on the retriever or in the call), not by default."""
    return {name: options[name] for name in _PER_KIND if name in chosen}


def _check_limit(name: str, value: object) -> int | None:
    return check_int(name, value, low=1, high=MAX_RECALL_LIMIT)


def _describe(error: ErrorDetails) -> str:
    """One pydantic error, in our own words when one of our checks raised it."""
    raised = (error.get("ctx") or {}).get("error")
    if isinstance(raised, MemOSInputError):
        return str(raised)
    return f"{'.'.join(map(str, error['loc']))}: {error['msg']}"
