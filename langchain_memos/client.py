"""``MemOSClient`` and ``AsyncMemOSClient``: the two thin I/O shells over the MemOS API.

Both take the same configuration and expose the same methods, generated from the endpoint
descriptions in ``_endpoints``; they differ only in how they send and how they sleep. The
blocking client lives in ``_sync_client``, the asyncio one in ``_async_client``, and what they
share in ``_client_base`` (the shell) and ``_base_client`` (the flows, without I/O).
"""

from __future__ import annotations

from langchain_memos._async_client import AsyncMemOSClient
from langchain_memos._sync_client import MemOSClient

__all__ = ["AsyncMemOSClient", "MemOSClient"]
