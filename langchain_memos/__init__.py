"""LangChain and LangGraph integration for the MemOS memory service."""

from langchain_memos._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InternalServerError,
    MemOSError,
    MemOSInputError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from langchain_memos.chat_message_histories import MemOSChatMessageHistory
from langchain_memos.client import AsyncMemOSClient, MemOSClient
from langchain_memos.filters import validate_filter
from langchain_memos.retrievers import MemOSRetriever
from langchain_memos.types import parse_timestamp

__version__ = "0.1.0"

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncMemOSClient",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "InternalServerError",
    "MemOSChatMessageHistory",
    "MemOSClient",
    "MemOSError",
    "MemOSInputError",
    "MemOSRetriever",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "__version__",
    "parse_timestamp",
    "validate_filter",
]
