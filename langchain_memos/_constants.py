"""Names, defaults and limits shared by every part of the package."""

from __future__ import annotations

import httpx

API_KEY_ENV = "MEMOS_API_KEY"
BASE_URL_ENV = "MEMOS_BASE_URL"
IS_GLOBAL_ENV = "MEMOS_IS_GLOBAL"

DEFAULT_BASE_URL = "https://memos.memtensor.cn/api/openmem/v1"
GLOBAL_BASE_URL = "https://api.memt.ai/platform/api/openmem/v1"
EMBEDDED_SCHEME = "embedded://"
# A base URL "selfhosted+http(s)://host:port" names a self-hosted (open-source) MemOS server.
SELFHOSTED_PREFIX = "selfhosted+"
# What an embedded client calls itself; requests never leave the process.
EMBEDDED_BASE_URL = "http://embedded.memos/api/openmem/v1"

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
# The cloud recommends <= 50 QPS; a pool this size never becomes the bottleneck below that.
DEFAULT_CONNECTION_LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=30.0
)
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A Retry-After longer than this is not waited for: the error is raised instead.
MAX_RETRY_AFTER = 60.0

MAX_ID_LENGTH = 100
MAX_REQUEST_TOKENS = 40_000
"""The most text one ``add/message`` request may carry, in tokens (the documented limit); a
query or other text field of any request is held to it too."""
# How the title (memory_key) of a memory holding a LangGraph store record begins (_store_scope).
STORE_TITLE_MARK = "langgraph-store:"
# Ids MemOS makes are UUIDs (36 characters); the API documents no bound.
MAX_MEMOS_ID_LENGTH = 256
MAX_RECALL_LIMIT = 25
MAX_PAGE_SIZE = 50
MAX_MESSAGE_LIMIT = 50
KNOWLEDGEBASE_FILE_TYPES = ("document", "skill")
"""What a knowledge-base file may be: a document, or a skill (see the docs' knowledge bases)."""

SUCCESS_CODES = frozenset({0, 200})
MESSAGE_ROLES = frozenset({"user", "assistant", "system", "tool"})
CONTENT_PART_TYPES = frozenset({"text", "image_url", "file"})
