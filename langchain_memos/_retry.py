"""The retry policy: whether a failed request is sent again, and how long to wait first.

Reads are retried on the failures a retry can cure; writes only when MemOS provably did not
process them (nothing was sent, or a code that says the write was refused), unless the client
was built with ``retry_unsafe_writes``. :func:`retry_delay` computes every wait, so a test can
replace it to record the waits instead of sleeping through them.
"""

from __future__ import annotations

import logging
import random
from email.utils import parsedate_to_datetime
from time import time
from typing import TYPE_CHECKING, Any

import httpx

from langchain_memos import _constants as C  # noqa: N812 - a namespace of constants
from langchain_memos._codes import RETRYABLE_CODES, WRITE_REJECTED_CODES
from langchain_memos._exceptions import APIConnectionError, APIError, MemOSError
from langchain_memos._response import NOT_SENT

if TYPE_CHECKING:
    from langchain_memos._base_client import APIRequest
    from langchain_memos._config import ClientConfig

__all__ = ["RETRYABLE_STATUSES", "RetryState", "retry_after_seconds", "retry_delay", "should_retry"]

logger = logging.getLogger("langchain_memos")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - time()
    except (TypeError, ValueError):
        return None


def should_retry(
    request: APIRequest[Any],
    error: MemOSError,
    *,
    cause: BaseException | None,
    retry_unsafe_writes: bool,
) -> bool:
    """Whether sending the same request again is both useful and safe."""
    careful = request.write and not retry_unsafe_writes
    if isinstance(error, APIConnectionError):
        return not careful or isinstance(cause, NOT_SENT)
    if not isinstance(error, APIError):
        return False
    if careful:
        return error.code in WRITE_REJECTED_CODES or (
            error.http_status == 429 and error.code in (None, *WRITE_REJECTED_CODES)
        )
    if error.code is not None and error.code not in C.SUCCESS_CODES:
        return error.code in RETRYABLE_CODES
    return error.http_status in RETRYABLE_STATUSES


def retry_delay(attempt: int, retry_after: float | None) -> float | None:
    """Seconds to wait before retry number ``attempt + 1``; ``None`` gives up.

    A ``Retry-After`` from the service wins when it is reasonable; otherwise exponential backoff
    from 0.5 s, capped at 8 s, with up to 25% jitter so that clients do not retry in lockstep.
    """
    if retry_after is not None and retry_after >= 0:
        return retry_after if retry_after <= C.MAX_RETRY_AFTER else None
    backoff: float = min(C.INITIAL_RETRY_DELAY * 2**attempt, C.MAX_RETRY_DELAY)
    return backoff * (1 - 0.25 * random.random())  # noqa: S311 - jitter, not cryptography


class RetryState:
    """Decides, request by request, whether to try again and how long to wait first."""

    __slots__ = ("attempt", "config", "request")

    def __init__(self, config: ClientConfig, request: APIRequest[Any]) -> None:
        self.config = config
        self.request = request
        self.attempt = 0

    def next_delay(
        self,
        error: MemOSError,
        *,
        cause: BaseException | None = None,
        headers: httpx.Headers | None = None,
    ) -> float | None:
        if self.attempt >= self.config.max_retries or not should_retry(
            self.request,
            error,
            cause=cause,
            retry_unsafe_writes=self.config.retry_unsafe_writes,
        ):
            return None
        delay = retry_delay(self.attempt, retry_after_seconds(headers) if headers else None)
        if delay is None:
            return None
        self.attempt += 1
        logger.debug(
            "retrying %s %s in %.2f s (retry %d of %d) after %s",
            self.request.method,
            self.request.path,
            delay,
            self.attempt,
            self.config.max_retries,
            type(error).__name__,
        )
        return delay
