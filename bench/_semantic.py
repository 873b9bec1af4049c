"""The ``--semantic`` side of ``locomo_recall.py``: the same engine with e5 vectors fused in."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from _common import percentile
from _locomo_engine import EngineRun

from langchain_memos.embedded.semantic import E5Embeddings


def rss_mb() -> float:
    """This process's resident memory now (not its peak), in MB."""
    fields = Path("/proc/self/status").read_text().split("\n")
    kb = next(int(line.split()[1]) for line in fields if line.startswith("VmRSS:"))
    return round(kb / 1024, 1)


def embeddings(weight: float | None, cosine_range: list[float] | None) -> E5Embeddings:
    """The adapter as shipped, or with the fusion knobs overridden (to tune on the tuning split)."""
    model = E5Embeddings()
    if weight is not None:
        model.fusion_weight = weight
    if cosine_range is not None:
        model.cosine_range = (cosine_range[0], cosine_range[1])
    model.embed_query("warm up")  # the model loads here, not inside the first timed add
    return model


def costs(run: EngineRun) -> dict[str, Any]:
    """What one run's adds and searches took."""
    search_ms = sorted(ns / 1e6 for ns in run.search_ns)
    return {
        "ingest_seconds": round(run.ingest_seconds, 3),
        "add_message_mean_ms": round(1000 * run.ingest_seconds / run.sessions, 1),
        "per_message_ms": round(1000 * run.ingest_seconds / run.messages, 2),
        "search_p50_ms": round(percentile(search_ms, 0.5), 2),
        "search_p95_ms": round(percentile(search_ms, 0.95), 2),
        "search_mean_ms": round(statistics.fmean(search_ms), 2),
        "unrelated_returned_mean": round(statistics.fmean(run.unrelated_returned), 2),
        "unrelated_questions_with_none": round(
            statistics.fmean(n == 0 for n in run.unrelated_returned), 3
        ),
    }
