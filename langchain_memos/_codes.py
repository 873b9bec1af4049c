"""The MemOS business codes, the HTTP status each answers with, and which ones a retry can cure.

One table for both sides of the wire: the client turns a code into an exception type
(``_response``), the embedded engine answers a code with its status. Codes from
shared/memos_api.md 1.16; success is ``0`` (or ``200``, see ``_constants.SUCCESS_CODES``).
"""

from __future__ import annotations

__all__ = [
    "AUTH_CODES",
    "BAD_FILE",
    "BAD_FILE_TYPE",
    "BAD_REQUEST",
    "CONVERSATION_ID_TOO_LONG",
    "FIELD_REQUIRED",
    "FILE_NOT_BASE64",
    "INTERNAL_ERROR",
    "KNOWLEDGEBASE_NOT_FOUND",
    "LIST_REQUIRED",
    "MEMORY_NOT_FOUND",
    "NOT_FOUND_CODES",
    "NO_SUCH_ENDPOINT",
    "PERMISSION_CODES",
    "RATE_LIMIT_CODES",
    "RELATIVITY_OUT_OF_RANGE",
    "RETRYABLE_CODES",
    "TASK_NOT_FOUND",
    "TOO_MANY_FILES",
    "TOO_MANY_TOKENS",
    "USER_ID_TOO_LONG",
    "WRITE_REJECTED_CODES",
    "http_status",
]

# The codes the embedded engine answers with.
BAD_REQUEST = 40000  # "Invalid request parameters"
NO_SUCH_ENDPOINT = 40001
FIELD_REQUIRED = 40002
LIST_REQUIRED = 40003
BAD_FILE_TYPE = 40006
BAD_FILE = 40007
FILE_NOT_BASE64 = 40008
USER_ID_TOO_LONG = 40010
CONVERSATION_ID_TOO_LONG = 40011
RELATIVITY_OUT_OF_RANGE = 40012
TOO_MANY_TOKENS = 40013
MEMORY_NOT_FOUND = 40307
INTERNAL_ERROR = 50000
TOO_MANY_FILES = 50103
KNOWLEDGEBASE_NOT_FOUND = 50120
TASK_NOT_FOUND = 50131

AUTH_CODES = frozenset({40100, 40130, 40132})
PERMISSION_CODES = frozenset({40306})
NOT_FOUND_CODES = frozenset(
    {NO_SUCH_ENDPOINT, MEMORY_NOT_FOUND, 40308, KNOWLEDGEBASE_NOT_FOUND, 50123, TASK_NOT_FOUND}
)
# Rate limits and quotas.
RATE_LIMIT_CODES = frozenset({40300, 40301, 40302, 40304, 40309})

# Business codes after which the same request may succeed.
RETRYABLE_CODES = frozenset({50000, 50002, 50004, 50005, 50143, 50144, 50145, 40300, 40309})
# Codes that prove a write was rejected before it was processed.
WRITE_REJECTED_CODES = frozenset({50143, 50144, 50145, 40300, 40309})

_STATUS_OF = (
    (AUTH_CODES, 401),
    (PERMISSION_CODES, 403),
    (NOT_FOUND_CODES, 404),
    (RATE_LIMIT_CODES, 429),
)


def http_status(code: int) -> int:
    """The HTTP status that goes with the error ``code``: 401, 403, 404 and 429 for the codes
    listed for them, else 500 from 50000 up and 400 below."""
    for codes, status in _STATUS_OF:
        if code in codes:
            return status
    return 500 if code >= INTERNAL_ERROR else 400
