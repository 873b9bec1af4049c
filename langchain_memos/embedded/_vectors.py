"""Optional vector similarity for the embedded engine, through any LangChain ``Embeddings``.

Vectors are stored in SQLite next to the memories and searched by exact cosine similarity over
an in-memory matrix per owner (one user, or one knowledge base) and memory kind. Exact search is
simple and, with numpy, fast enough for this engine's sizes (100k vectors of 384 dimensions is
about 40M multiply-adds a query). Writes, rewrites and deletions change the matrices in place: a
deletion never makes the next search reload every vector; only a write that rolls back does.

A model's cosine is not a relativity: multilingual-e5 rates unrelated text at 0.8. The index maps
cosines through the model's ``cosine_range`` (the cosines meaning 0 and 1, when its ``Embeddings``
declares one; raw cosine otherwise) and tells search what weight the model's order carries
against the lexical one (``fusion_weight``, 1 when not declared).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langchain_memos._exceptions import ConfigurationError
from langchain_memos.embedded import _vector_changes as vector_changes

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["VectorIndex"]


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise ConfigurationError(
            "vector search needs numpy: pip install 'langchain-memos[vectors]' "
            "(or 'langchain-memos[semantic]' for E5Embeddings, which brings it)"
        ) from None
    return numpy


class _Matrix:
    """Unit vectors of one owner and kind, with their memory rows; grows by doubling."""

    def __init__(self, numpy: Any, dimensions: int) -> None:
        self.np = numpy
        self.seqs: npt.NDArray[np.int64] = numpy.zeros(16, dtype=numpy.int64)
        self.rows: npt.NDArray[np.float32] = numpy.zeros((16, dimensions), dtype=numpy.float32)
        self.size = 0

    def discard(self, gone: npt.NDArray[np.int64]) -> None:
        """Drop the rows of the memories in ``gone``, keeping the others in order."""
        keep = ~self.np.isin(self.seqs[: self.size], gone)
        kept = int(keep.sum())
        if kept == self.size:
            return
        self.seqs[:kept] = self.seqs[: self.size][keep]
        self.rows[:kept] = self.rows[: self.size][keep]
        self.size = kept

    def append(self, seq: int, unit: npt.NDArray[np.float32]) -> None:
        if self.size == len(self.seqs):
            self.seqs = self.np.resize(self.seqs, 2 * self.size)
            grown = self.np.zeros((2 * self.size, self.rows.shape[1]), dtype=self.np.float32)
            grown[: self.size] = self.rows
            self.rows = grown
        self.seqs[self.size] = seq
        self.rows[self.size] = unit
        self.size += 1


class VectorIndex:
    """Stores vectors in the ``vectors`` table and finds the nearest ones to a query."""

    def __init__(self, embeddings: object = None) -> None:
        self.np = _numpy()
        low, high = getattr(embeddings, "cosine_range", (0.0, 1.0))
        if not 0 <= low < high <= 1:
            raise ConfigurationError(f"cosine_range must rise within [0, 1], got {(low, high)}")
        self._low, self._span = float(low), float(high - low)
        self.weight = float(getattr(embeddings, "fusion_weight", 1.0))
        self._lock = threading.Lock()
        self._matrices: dict[tuple[str, str], _Matrix] = {}
        self._loaded = False
        # The file's data_version and its last vector change when last read (another
        # connection's commit changes the version; see _vector_changes), and the last memory row
        # read (rows past it are new, whether or not their writer recorded the change).
        self._version: int | None = None
        self._change = 0
        self._seen = 0

    def _unit(self, vector: Sequence[float]) -> npt.NDArray[np.float32]:
        array = self.np.asarray(vector, dtype=self.np.float32)
        norm = float(self.np.linalg.norm(array))
        unit: npt.NDArray[np.float32] = array / norm if norm else array
        return unit

    def add(
        self, db: sqlite3.Connection, seq: int, owner: str, kind: str, vector: Sequence[float]
    ) -> None:
        unit = self._unit(vector)
        db.execute(
            "INSERT INTO vectors (seq, owner, kind, vector) VALUES (?, ?, ?, ?)",
            (seq, owner, kind, unit.tobytes()),
        )
        vector_changes.changed(db, [seq])
        with self._lock:
            if self._loaded:
                self._matrix(owner, kind, len(unit)).append(seq, unit)

    def discard(self, seqs: Sequence[int]) -> None:
        """Forget the vectors of deleted (or rewritten) memories, in memory as in the table."""
        with self._lock:
            self._discard(seqs)

    def _discard(self, seqs: Sequence[int]) -> None:
        gone = self.np.asarray(list(seqs), dtype=self.np.int64)
        for matrix in self._matrices.values():
            matrix.discard(gone)

    def forget(self) -> None:
        """After a rolled-back write: the matrices may hold vectors the table never kept (and
        whose rows a later memory will reuse), or lack ones it still has; the next search
        reloads them from the table, which the rollback left as it was."""
        with self._lock:
            self._matrices.clear()
            self._loaded = False

    def relativity(self, cosine: float) -> float:
        """Where ``cosine`` lies in the model's range: 0 at or below its floor, 1 at its top."""
        return round(min(max((cosine - self._low) / self._span, 0.0), 1.0), 4)

    def _matrix(self, owner: str, kind: str, dimensions: int) -> _Matrix:
        key = (owner, kind)
        if key not in self._matrices:
            self._matrices[key] = _Matrix(self.np, dimensions)
        return self._matrices[key]

    def _load(self, store: Any) -> None:
        """Read the table into memory once (again after a rollback).

        The store's lock is taken before this index's own, in the order a write takes them (it
        adds its vector inside its transaction): a first search that held this index's lock while
        waiting for the store's would wait forever on a write waiting for this index's lock.
        """
        with store.snapshot() as db, self._lock:
            if self._loaded:
                return
            self._matrices.clear()
            self._change, self._seen = vector_changes.latest(db), 0
            self._read(db, [])
            self._loaded = True

    def _catch_up(self, store: Any) -> None:
        """Bring the vectors in memory up to what other connections wrote since (locks taken as
        in :meth:`_load`): the memories whose vectors changed (written, rewritten, deleted, a row
        number reused; see _vector_changes) are dropped and read again, and rows past the last
        one read are read (a writer that lists no changes: an older version of this package).
        Every memory found is also checked on the way out (``Store.by_seq``)."""
        with store.snapshot() as db, self._lock:
            if not self._loaded or db.execute("PRAGMA data_version").fetchone()[0] == self._version:
                return
            changed, self._change = vector_changes.since(db, self._change)
            if changed:  # this engine's own writes among them, which it holds already
                self._discard(changed)
            self._read(db, changed)

    def _read(self, db: sqlite3.Connection, changed: list[int]) -> None:
        """Append the vectors of the rows past the last one read, and of ``changed``."""
        # Two lookups by row number, not one OR that SQLite answers by reading the whole table.
        rows = db.execute(
            "SELECT seq, owner, kind, vector FROM vectors WHERE seq > ? UNION ALL "
            "SELECT seq, owner, kind, vector FROM vectors "
            "WHERE seq IN (SELECT value FROM json_each(?)) AND seq <= ? ORDER BY seq",
            (self._seen, json.dumps(changed), self._seen),
        )
        for row in rows:
            unit = self.np.frombuffer(row[3], dtype=self.np.float32)
            self._matrix(row[1], row[2], len(unit)).append(row[0], unit)
            self._seen = max(self._seen, row[0])
        self._version = db.execute("PRAGMA data_version").fetchone()[0]

    def nearest(
        self,
        store: Any,
        owners: Sequence[str],
        kind: str,
        query: Sequence[float],
        limit: int,
    ) -> list[tuple[int, float]]:
        """The ``limit`` memory rows most similar to ``query``, most similar first, with the
        relativity of their cosine."""
        unit = self._unit(query)
        found: list[tuple[int, float]] = []
        while True:
            if not self._loaded:
                self._load(store)
            else:
                self._catch_up(store)
            with self._lock:
                if not self._loaded:  # a rollback emptied it since: read the table again
                    continue
                for owner in owners:
                    matrix = self._matrices.get((owner, kind))
                    if matrix is None or matrix.size == 0:
                        continue
                    scores = matrix.rows[: matrix.size] @ unit
                    top = self.np.argsort(-scores)[:limit]
                    found += [(int(matrix.seqs[i]), float(scores[i])) for i in top]
                break
        found.sort(key=lambda pair: -pair[1])
        return [(seq, self.relativity(cosine)) for seq, cosine in found[:limit]]
