"""Scoring LoCoMo recall for bench/locomo_recall.py: hits, splits, categories, paired tests, and
what each figure means."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Mapping
from typing import Any

from _common import percentile
from _locomo_data import CATEGORIES, REPORT_SPLIT, TUNING_SPLIT, DataSet, Packed

from langchain_memos.embedded._when import time_window


def hits_of(data: DataSet, packed: Mapping[tuple[str, int], Packed]) -> dict[tuple[str, int], bool]:
    return {
        (q.sample_id, q.index): bool(q.evidence & packed[(q.sample_id, q.index)].dia_ids)
        for q in data.questions
    }


def split_of(data: DataSet, sample_ids: frozenset[str]) -> DataSet:
    """The conversations and questions of these sample ids."""
    return DataSet(
        [c for c in data.conversations if c.sample_id in sample_ids],
        [q for q in data.questions if q.sample_id in sample_ids],
    )


def score(
    data: DataSet, packed: Mapping[tuple[str, int], Packed], whole_tokens: Mapping[str, int]
) -> dict[str, Any]:
    """Recall and tokens over all questions, then over the tuning and the report split."""
    return {
        **_score(data, packed, whole_tokens),
        "splits": {
            name: _score(split_of(data, ids), packed, whole_tokens)
            for name, ids in (("tuning", TUNING_SPLIT), ("report", REPORT_SPLIT))
        },
    }


def _score(
    data: DataSet, packed: Mapping[tuple[str, int], Packed], whole_tokens: Mapping[str, int]
) -> dict[str, Any]:
    packed = {(q.sample_id, q.index): packed[(q.sample_id, q.index)] for q in data.questions}
    hits = hits_of(data, packed)
    per_category: dict[str, Any] = {}
    for category, name in CATEGORIES.items():
        keys = [(q.sample_id, q.index) for q in data.questions if q.category == category]
        found = sum(hits[key] for key in keys)
        per_category[str(category)] = {
            "name": name,
            "questions": len(keys),
            "hits": found,
            "recall": round(found / len(keys), 4) if keys else None,
        }
    # The questions naming a time the engine reads as one (see embedded/_when.py).
    now = dt.datetime.now(dt.timezone.utc)
    dated = [(q.sample_id, q.index) for q in data.questions if time_window(q.text, now)]
    per_category["dated"] = {
        "name": "names a date (any category)",
        "questions": len(dated),
        "hits": sum(hits[key] for key in dated),
        "recall": round(sum(hits[key] for key in dated) / len(dated), 4) if dated else None,
    }
    used = [packed[key].tokens for key in hits]
    whole = [whole_tokens[q.sample_id] for q in data.questions]
    mean_tokens = statistics.fmean(used)
    return {
        "questions": len(hits),
        "hits": sum(hits.values()),
        "recall": round(sum(hits.values()) / len(hits), 4),
        "per_category": per_category,
        "mean_tokens_injected": round(mean_tokens, 1),
        "p50_tokens_injected": round(percentile(sorted(used), 0.5), 1),
        "max_tokens_injected": max(used),
        "mean_memories_injected": round(statistics.fmean(p.items for p in packed.values()), 2),
        "saving_vs_whole_conversation": round(1 - mean_tokens / statistics.fmean(whole), 4),
    }


def mcnemar_exact_p(wins: int, losses: int) -> float:
    """Two-sided exact McNemar test: the binomial tail of the discordant pairs at 1/2."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail: float = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired(
    data: DataSet, engine: Mapping[tuple[str, int], Packed], other: Mapping[tuple[str, int], Packed]
) -> dict[str, Any]:
    """Question by question: which of the two found the evidence."""
    mine, theirs = hits_of(data, engine), hits_of(data, other)
    wins = sum(mine[k] and not theirs[k] for k in mine)
    losses = sum(theirs[k] and not mine[k] for k in mine)
    return {
        "engine_only": wins,
        "baseline_only": losses,
        "both": sum(mine[k] and theirs[k] for k in mine),
        "neither": sum(not mine[k] and not theirs[k] for k in mine),
        "mcnemar_exact_p": float(f"{mcnemar_exact_p(wins, losses):.3g}"),
    }


DEFINITIONS = {
    "hit": "a question is a hit if any of its evidence dia_ids is among the turns of the "
    "packed memories (a memory's own turn, the turn it answers when its text carries "
    "that turn whole, and any turn up to two before or after its own whose whole text the "
    "returned memory_value holds: the neighbours search lets ride along past the 25-fact "
    "limit); questions without evidence count as misses",
    "dated": "questions (any category) naming a time the engine reads as one "
    "(embedded/_when.py: a date, a month and year, a year, or a relative time from now)",
    "splits": "conversations split by sample id before tuning: changes are tuned on the "
    "tuning split only and judged on the report split",
    "evidence": "every D<session>:<turn> id found in an evidence string "
    "('D8:6; D9:17' gives two ids, 'D:11:26' gives D11:26, 'D' none)",
    "tokens": "ceil(len(text) / 4) per injected memory, summed",
    "packing": "memories in rank order, each taken if it still fits in the budget and "
    "skipped otherwise, until the budget is used or the list ends",
    "engine": "MemOSClient(embedded=EmbeddedEngine(file)); add_message once per "
    "session (fast mode, async_mode=False): speaker_a as role user, speaker_b as role "
    "assistant, name = speaker, content = turn text, chat_time = session_N_date_time; one "
    "user_id per conversation, one conversation_id per session. search_memory(question, "
    "user_id, memory_limit_number=25, include_preference=False, relativity=0). "
    "Injected text: memory_value (what the LangChain retriever puts in page_content)",
    "cloud_cap": "the MemOS cloud returns at most 25 facts per search, so the engine "
    "packs at most 25 memories even when the budget has room for more",
    "memory_to_dia_id": "get_memory pages of each user's facts, paired with the "
    "session's turns in order with equal sources[0].content, each pair confirmed by "
    "get_memory_by_id metadata.sources",
    "engine_internal_200": "headroom only, not reachable through the API: the engine's "
    "own ranking (EmbeddedEngine.rank) with 200 candidates instead of 25",
    "top25_differs": "searches whose 25 facts are not the first 25 of the 200-candidate "
    "ranking: the API ranks max(50, 5 * 25) = 125 bm25 candidates, so a memory whose "
    "score a boost raises from below that depth is only seen with 200",
    "bm25": "Okapi BM25, k1=1.5, b=0.75, idf log((N-n+0.5)/(n+0.5)) with negative idf "
    "floored at 0.25 * mean idf (rank_bm25.BM25Okapi), one index per conversation; "
    "documents 'Speaker: text' tokenised as [a-z0-9]+ lowercased; the question likewise, "
    "stopwords removed (the engine's English list); every document is ranked, ties (among "
    "them the documents without a question word) in document order",
    "bm25_windows": "one window per turn: that turn with the turns before and after it "
    "in the same session, injected whole; a hit if the evidence is any turn of the window",
    "whole_conversation": "every session as '[session_N_date_time]' then 'Speaker: text' "
    "lines; saving = 1 - mean tokens injected / mean whole-conversation tokens, over "
    "questions",
}
