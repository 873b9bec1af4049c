"""The embedded, offline, MemOS-compatible engine.

Use it through any client: ``MemOSClient(embedded="memos.db")``, or
``MEMOS_BASE_URL=embedded:///path/to/memos.db`` for every component at once.
"""

from langchain_memos.embedded.engine import EmbeddedEngine
from langchain_memos.embedded.semantic import E5Embeddings
from langchain_memos.embedded.transport import EmbeddedTransport, open_engine

__all__ = ["E5Embeddings", "EmbeddedEngine", "EmbeddedTransport", "open_engine"]
