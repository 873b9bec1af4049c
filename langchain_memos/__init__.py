"""LangChain and LangGraph integration for the MemOS memory service.

Every public class and function can be imported from here. Only the error classes are loaded
with the package; any other name loads its module when it is first used, so that
``import langchain_memos`` stays light and ``MemOSMiddleware`` (which needs the ``langchain``
extra) costs nothing to those who do not use it.
"""

# Imported under private names, so that the namespace holds only what is exported.
import importlib as _importlib
import typing as _typing

from langchain_memos._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClosedError,
    ConfigurationError,
    DeadlineExceededError,
    InternalServerError,
    MemOSError,
    MemOSInputError,
    NotFoundError,
    OutboxError,
    OutboxFullError,
    PermissionDeniedError,
    RateLimitError,
    WriteRefusedError,
)

if _typing.TYPE_CHECKING:
    from langchain_memos._selfhosted import SelfHostedOptions, SelfHostedTransport
    from langchain_memos.chat_message_histories import MemOSChatMessageHistory
    from langchain_memos.client import AsyncMemOSClient, MemOSClient
    from langchain_memos.embedded import E5Embeddings, EmbeddedEngine
    from langchain_memos.filters import validate_filter
    from langchain_memos.graph import MemOSGraphMemory, create_memos_pre_model_hook
    from langchain_memos.middleware import MemOSMiddleware
    from langchain_memos.outbox import Outbox
    from langchain_memos.prompts import MemoryPromptBuilder, build_memory_prompt
    from langchain_memos.retrievers import MemOSRetriever
    from langchain_memos.scope import resolve_scope, unsaved_messages
    from langchain_memos.settings import MemorySettings
    from langchain_memos.store import MemOSStore
    from langchain_memos.tools import create_memory_tools
    from langchain_memos.types import SearchMemoryResult, parse_timestamp

__version__ = "0.1.0"

# The names loaded on first use, and the module each comes from.
_LAZY = {
    "AsyncMemOSClient": "client",
    "E5Embeddings": "embedded",
    "EmbeddedEngine": "embedded",
    "MemOSChatMessageHistory": "chat_message_histories",
    "MemOSClient": "client",
    "MemOSGraphMemory": "graph",
    "MemOSMiddleware": "middleware",
    "MemOSRetriever": "retrievers",
    "MemOSStore": "store",
    "MemoryPromptBuilder": "prompts",
    "MemorySettings": "settings",
    "Outbox": "outbox",
    "SearchMemoryResult": "types",
    "SelfHostedOptions": "_selfhosted",
    "SelfHostedTransport": "_selfhosted",
    "build_memory_prompt": "prompts",
    "create_memory_tools": "tools",
    "create_memos_pre_model_hook": "graph",
    "parse_timestamp": "types",
    "resolve_scope": "scope",
    "unsaved_messages": "scope",
    "validate_filter": "filters",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncMemOSClient",
    "AuthenticationError",
    "BadRequestError",
    "ClosedError",
    "ConfigurationError",
    "DeadlineExceededError",
    "E5Embeddings",
    "EmbeddedEngine",
    "InternalServerError",
    "MemOSChatMessageHistory",
    "MemOSClient",
    "MemOSError",
    "MemOSGraphMemory",
    "MemOSInputError",
    "MemOSMiddleware",
    "MemOSRetriever",
    "MemOSStore",
    "MemoryPromptBuilder",
    "MemorySettings",
    "NotFoundError",
    "Outbox",
    "OutboxError",
    "OutboxFullError",
    "PermissionDeniedError",
    "RateLimitError",
    "SearchMemoryResult",
    "SelfHostedOptions",
    "SelfHostedTransport",
    "WriteRefusedError",
    "__version__",
    "build_memory_prompt",
    "create_memory_tools",
    "create_memos_pre_model_hook",
    "parse_timestamp",
    "resolve_scope",
    "unsaved_messages",
    "validate_filter",
]


if not _typing.TYPE_CHECKING:  # type checkers see the imports above, and so catch a typo

    def __getattr__(name: str) -> _typing.Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(_importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value  # later lookups skip this function
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
