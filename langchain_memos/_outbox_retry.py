"""When an outbox's sender tries a write again, and how it words what went wrong (see
:mod:`langchain_memos._outbox_sender`, which states the delivery rules)."""

from __future__ import annotations

from langchain_memos._exceptions import BadRequestError, MemOSError, MemOSInputError, NotFoundError

__all__ = ["FIRST_BACKOFF", "backoff", "describe", "outage", "seconds"]

FIRST_BACKOFF = 1.0


def backoff(attempts: int, longest: float) -> float:
    """Seconds to wait after ``attempts`` failed attempts: 1 s doubling, at most ``longest``."""
    # Capped before it is computed: 2.0**1024 overflows, and 2**40 s is forever anyway.
    return min(FIRST_BACKOFF * 2.0 ** min(attempts, 40), longest)


def outage(error: BaseException) -> bool:
    """Whether sending ``error``'s write again later may succeed.

    Connection problems, timeouts, rate limits, 5xx, authentication, and any answer that is not
    MemOS's own (a proxy's HTML 404 or 413 page, a captive portal) are outages. A refusal in
    MemOS's own envelope (a JSON ``code``) of the request as invalid or of what it names as not
    found, a caller mistake found before sending, and any error the sender cannot classify
    (an unencodable text, a bug) are not: retrying them would block the conversation forever.
    """
    if isinstance(error, MemOSInputError):
        return False
    if isinstance(error, BadRequestError | NotFoundError):
        return error.code is None  # no MemOS code: a gateway's page, not MemOS's answer
    return isinstance(error, MemOSError)


def seconds(value: float) -> str:
    """Seconds as a person reads them: ``5``, ``0.3``, never ``4.99998``."""
    return f"{round(value, 1):g}"


def describe(error: BaseException) -> str:
    """An error as the outbox records it: its class and message."""
    return f"{type(error).__name__}: {error}"
