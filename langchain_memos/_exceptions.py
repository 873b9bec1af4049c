"""The exceptions raised by langchain-memos.

Everything derives from one root, so ``except MemOSError`` catches all of it::

    MemOSError
    ├── MemOSInputError (also a ValueError): a caller mistake, raised before any I/O
    │   └── ConfigurationError: no API key, an insecure base URL, conflicting settings
    ├── APIConnectionError: the request did not get an answer
    │   └── APITimeoutError
    └── APIError: the service answered with an error
        ├── APIResponseValidationError: the answer was not a MemOS envelope
        └── APIStatusError: a MemOS error code, an HTTP error status, or both
            ├── BadRequestError        40000-40099, 40303, 40305, HTTP 400/413/422
            ├── AuthenticationError    40100, 40130, 40132, HTTP 401
            ├── PermissionDeniedError  40306, HTTP 403
            ├── NotFoundError          40001, 40307, 40308, 50120, 50123, 50131, HTTP 404
            ├── RateLimitError         40300-40302, 40304, 40309, HTTP 429 (rate limits and quotas)
            └── InternalServerError    50000 and above, HTTP 5xx

Every ``APIStatusError`` keeps the MemOS business ``code``, the ``http_status``, the ``message`` and
the parsed ``body``. None of them holds the request, so the API key cannot leak through one.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "InternalServerError",
    "MemOSError",
    "MemOSInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
]


class MemOSError(Exception):
    """Root of every exception raised by this package."""


class MemOSInputError(MemOSError, ValueError):
    """A caller mistake, detected before any request is sent."""


class ConfigurationError(MemOSInputError):
    """The client cannot be built as configured (missing key, insecure URL, ...)."""


class APIConnectionError(MemOSError):
    """The request did not get an answer: DNS, refused or reset connection, protocol error."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, {"method": self.method, "path": self.path}))


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, write, read or pool)."""


class APIError(MemOSError):
    """The service answered, and the answer is an error."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        body: object = None,
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.body = body
        self.path = path

    def __str__(self) -> str:
        parts = [f"code={self.code}"] if self.code is not None else []
        if self.http_status is not None:
            parts.append(f"http_status={self.http_status}")
        if self.path:
            parts.append(f"path={self.path}")
        return f"{self.message} ({', '.join(parts)})" if parts else self.message

    def __reduce__(self) -> tuple[Any, ...]:
        state = {
            "code": self.code,
            "http_status": self.http_status,
            "body": self.body,
            "path": self.path,
        }
        return (_rebuild, (type(self), self.message, state))


class APIResponseValidationError(APIError):
    """The answer was not a MemOS envelope (an HTML error page, truncated JSON, ...)."""


class APIStatusError(APIError):
    """A MemOS error code in the envelope, an HTTP error status, or both."""


class BadRequestError(APIStatusError):
    """The service rejected the request's parameters."""


class AuthenticationError(APIStatusError):
    """The API key is missing, invalid or expired."""


class PermissionDeniedError(APIStatusError):
    """The key may not perform this operation."""


class NotFoundError(APIStatusError):
    """The memory, user, task or knowledge base does not exist."""


class RateLimitError(APIStatusError):
    """A rate limit or a quota was exceeded."""


class InternalServerError(APIStatusError):
    """The service failed; many of these are transient."""


def _rebuild(cls: type[MemOSError], message: str, state: dict[str, Any]) -> MemOSError:
    # Keyword-only constructors do not survive the default pickle protocol.
    return cls(message, **state)
