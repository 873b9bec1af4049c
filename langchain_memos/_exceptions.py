"""The exceptions raised by langchain-memos.

Everything derives from one root, so ``except MemOSError`` catches all of it::

    MemOSError
    ├── MemOSInputError (also a ValueError): a caller mistake, raised before any I/O
    │   ├── ConfigurationError: no API key, an insecure base URL, conflicting settings
    │   └── ClosedError: a client, memory, history or outbox used after ``close()``
    ├── APIConnectionError: the request did not get an answer
    │   └── APITimeoutError: not within the client's timeout
    ├── APIError: the service answered with an error
    │   ├── APIResponseValidationError: the answer was not a MemOS envelope
    │   └── APIStatusError: a MemOS error code, an HTTP error status, or both
    │       ├── BadRequestError        40000-40099, 40303, 40305, HTTP 400/413/422
    │       ├── AuthenticationError    40100, 40130, 40132, HTTP 401
    │       ├── PermissionDeniedError  40306, HTTP 403
    │       ├── NotFoundError          40001, 40307, 40308, 50120, 50123, 50131, HTTP 404
    │       ├── RateLimitError         40300-40302, 40304, 40309, HTTP 429 (rate limits, quotas)
    │       └── InternalServerError    50000 and above, HTTP 5xx
    ├── DeadlineExceededError (also a TimeoutError): a wait the caller bounded ran out while
    │                          the work goes on (``wait_for_task``, a history's ``wait=True``)
    ├── WriteRefusedError: a write the caller waited for was refused and dead-lettered
    └── OutboxError: the outbox cannot store or read writes (a full disk, a damaged file)
        └── OutboxFullError (also a TimeoutError): no room among ``max_pending`` writes in time

Every ``APIStatusError`` keeps the MemOS business ``code``, the ``http_status``, the ``message`` and
the parsed ``body``. None of them holds the request, so the API key cannot leak through one. The
package raises no built-in ``TimeoutError`` and no bare ``MemOSError``: the two that replace a
built-in ``TimeoutError`` also derive from it, so ``except TimeoutError`` still catches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClosedError",
    "ConfigurationError",
    "DeadlineExceededError",
    "InternalServerError",
    "MemOSError",
    "MemOSInputError",
    "NotFoundError",
    "OutboxError",
    "OutboxFullError",
    "PermissionDeniedError",
    "RateLimitError",
    "WriteRefusedError",
]


class MemOSError(Exception):
    """Root of every exception raised by this package."""

    #: Set by a chat history's ``add_messages`` sending the messages in several ``add/message``
    #: calls when this error came after some were taken: how many (the first ones given),
    #: so that a retry sends only the rest. ``None``: none was.
    stored_messages: int | None = None


class MemOSInputError(MemOSError, ValueError):
    """A caller mistake, detected before any request is sent."""


class ConfigurationError(MemOSInputError):
    """The client cannot be built as configured (missing key, insecure URL, ...)."""


class ClosedError(MemOSInputError):
    """A client, agent memory, chat history or outbox was used after its ``close()``.

    A caller mistake, like writing to a closed file, so raised whatever ``fail_open`` says:
    nothing was sent or stored. Make a new object, or close it after its last use.
    """


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
    """The request got no answer within the client's timeout (connect, write, read or pool).

    Only ever a single request: a longer wait the caller bounded, over answers that came in
    time, is a :class:`DeadlineExceededError`.
    """


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


class DeadlineExceededError(MemOSError, TimeoutError):
    """A wait bounded by the caller ran out; what it waited for goes on without it.

    Raised by ``wait_for_task`` when the task is still running after ``timeout`` seconds, and
    by :class:`~langchain_memos.MemOSChatMessageHistory` with an outbox and ``wait=True`` when
    the outbox has not delivered the messages within ``wait_timeout`` (they stay in the outbox
    and are sent later); by the agents' memory search (``fail_open=False``) when its answer came
    after the search's ``timeout`` (the answer is not used). Every request made during the wait
    was answered; a request that got no answer is an :class:`APITimeoutError`.

    Also a built-in ``TimeoutError``, so ``except TimeoutError`` catches it. Earlier versions
    raised ``APITimeoutError`` here: catch ``(APITimeoutError, DeadlineExceededError)`` for both.

    Example:
        >>> try:
        ...     client.wait_for_task(task_id, timeout=10)
        ... except DeadlineExceededError:
        ...     pass  # still processing: MemOS finishes it later
    """


class WriteRefusedError(MemOSError):
    """A write the caller waited for will never be delivered as it is: it is a dead letter.

    Raised by :class:`~langchain_memos.MemOSChatMessageHistory` with an outbox and
    ``wait=True`` when MemOS refused the messages (or they could not be sent at all). They are
    kept in the outbox's dead letters; ``errors`` says why, and ``outbox.requeue(error.seqs)``
    sends them again.

    Attributes:
        seqs: The dead letters' sequence numbers in the outbox.
        errors: Each refusal as the outbox recorded it (the error's class and message).
    """

    def __init__(
        self, message: str, *, seqs: Sequence[int] = (), errors: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.seqs = list(seqs)
        self.errors = list(errors)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, {"seqs": self.seqs, "errors": self.errors}))


class OutboxError(MemOSError):
    """The outbox could not store or read writes: a full disk, an unwritable or damaged file.

    The writes it was handed are not stored; the agents log this and answer all the same
    unless ``fail_open=False``.
    """


class OutboxFullError(OutboxError, TimeoutError):
    """``max_pending`` writes wait in the outbox and none left it within ``Outbox.put``'s timeout.

    Nothing of the writes handed over is stored. Also a built-in ``TimeoutError``, which is
    what ``Outbox.put`` raised here in earlier versions.
    """


def _rebuild(cls: type[MemOSError], message: str, state: dict[str, Any]) -> MemOSError:
    # Keyword-only constructors do not survive the default pickle protocol.
    return cls(message, **state)
