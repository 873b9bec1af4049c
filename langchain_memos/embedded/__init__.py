"""The embedded, offline, MemOS-compatible engine.

Use it through any client: ``MemOSClient(embedded="memos.db")``, or
``MEMOS_BASE_URL=embedded:///path/to/memos.db`` for every component at once.
"""

import typing as _typing

from langchain_memos.embedded.engine import EmbeddedEngine
from langchain_memos.embedded.transport import EmbeddedTransport, open_engine

if _typing.TYPE_CHECKING:
    from langchain_memos.embedded.semantic import E5Embeddings

__all__ = ["E5Embeddings", "EmbeddedEngine", "EmbeddedTransport", "open_engine"]


if not _typing.TYPE_CHECKING:  # type checkers see the import above, and so catch a typo

    def __getattr__(name: str) -> _typing.Any:
        # E5Embeddings is a LangChain Embeddings: importing it loads langchain_core, which the
        # engine and `serve` do not need unless they are given embeddings or a chat model.
        if name != "E5Embeddings":
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from langchain_memos.embedded.semantic import E5Embeddings

        globals()[name] = E5Embeddings
        return E5Embeddings
