"""Recall: does the embedded engine's search find the turn that answers a LoCoMo question?

On the LoCoMo development split (``../shared/data/locomo-dev/``, read at run time and never
copied: CC BY-NC 4.0), this script ingests every ``session_N`` of each conversation through the
product path, ``MemOSClient(embedded=EmbeddedEngine(...)).add_message`` in fast mode (no LLM),
with the session's ``session_N_date_time`` as ``chat_time``. Then, for every question of
categories 1-4, it calls ``search_memory`` with the cloud's cap of 25 facts, packs the recalled
memories into a 1,500-token budget, and counts the questions whose evidence turn (``dia_id``) is
among the packed memories.

In the same run it measures two baselines at the same budget: plain Okapi BM25 over single turns
and over centred 3-turn windows. It reports recall (overall and per category), the tokens
injected, the saving against putting the whole conversation in context, ingest throughput and
search latency.

The five conversations are split, once and before any tuning, by sample id: changes to how the
engine produces and ranks memories are tuned on ``TUNING_SPLIT`` (conv-26, conv-30) and judged on
``REPORT_SPLIT`` (conv-41, conv-42, conv-43), which they are never fitted to. Every figure is
reported for both splits; a gain that shows only on the tuning split is not a gain.

Target: engine recall >= 0.88 on the report split, clearly above both baselines.

What the 0.45 default relativity separates: of the questions whose evidence memory is among the
25, the share where it passes 0.45; and each question asked at the default of the next
conversation's user, whose memories cannot answer it, with what comes back counted. With
``--before DIR`` the script runs itself once more against the ``langchain_memos`` package in
``DIR`` (an earlier checkout) and keeps that run's recall and relativity figures beside these.

Beside LoCoMo it scores our own Chinese recall set (``bench/data/zh_recall.json``, see
``_zh_recall.py``): short questions that mostly share no character bigram with what they should
find, recall@k on its tuning and its report half.

With ``--semantic`` (``langchain-memos[semantic]`` installed) it runs the engine a second time
with ``E5Embeddings`` fused in, side by side: both splits, the Chinese set, how many memories pass
the default relativity for a question asked of another conversation's user, the latency of an add
and a search, and resident memory after each run.

Run it with ``.venv/bin/python bench/locomo_recall.py`` (``--help`` for the knobs). It exits
with status 2 when the data set is missing. The figures go to
``bench/results/locomo_recall.json``: aggregates, ids and categories only, never text from the
data set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _relativity
import _zh_recall
from _common import code_under_test, finish, machine_info, percentile, versions
from _locomo_data import (
    BUDGET,
    CATEGORIES,
    CLOUD_LIMIT,
    DATA_DIR,
    DATA_FILE,
    HEADROOM_LIMIT,
    REPORT_SPLIT,
    TARGET_RECALL,
    TUNING_SPLIT,
    load,
    run_baseline,
    tokens,
    turn_units,
    whole_conversation,
    window_units,
)
from _locomo_engine import run_engine
from _locomo_report import SYSTEMS, print_table
from _locomo_score import DEFINITIONS, paired, score

RESULTS = Path(__file__).resolve().parent / "results" / "locomo_recall.json"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the locomo-dev directory")
    parser.add_argument("--budget", type=int, default=BUDGET, help="tokens of memory per question")
    parser.add_argument(
        "--db", default=None, help="engine database (default: a file in a temporary directory)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument(
        "--semantic",
        action="store_true",
        help="also run the engine with e5 vectors (langchain-memos[semantic]) side by side",
    )
    parser.add_argument(
        "--before",
        type=Path,
        default=None,
        help="also run against the langchain_memos package in this directory (an earlier "
        "checkout) and report its figures beside these",
    )
    parser.add_argument("--fusion-weight", type=float, default=None, help="override e5's weight")
    parser.add_argument(
        "--cosine-range", type=float, nargs=2, default=None, help="override e5's cosine range"
    )
    args = parser.parse_args(argv)
    if args.budget < 1:
        parser.error("the budget must be positive")
    if args.db not in (None, ":memory:") and Path(args.db).exists():
        parser.error(f"{args.db} exists; the benchmark needs an empty database")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    source = args.data / DATA_FILE
    if not source.is_file():
        print(
            f"skipped: {source} not found. The LoCoMo development split is read at run time from "
            "../shared/data/locomo-dev/ beside the repository (or --data DIR).",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    data = load(source)
    whole_tokens = {c.sample_id: tokens(whole_conversation(c)) for c in data.conversations}

    with tempfile.TemporaryDirectory(prefix="locomo-recall-") as scratch:
        db_path = args.db or str(Path(scratch) / "memos.db")
        run = run_engine(data, db_path, args.budget)
    semantic: dict[str, Any] = {}
    if args.semantic:
        import _semantic

        semantic["rss_mb_lexical"] = _semantic.rss_mb()
        model = _semantic.embeddings(args.fusion_weight, args.cosine_range)
        with tempfile.TemporaryDirectory(prefix="locomo-recall-") as scratch:
            vector_db = str(Path(scratch) / "memos.db")
            vector_run = run_engine(data, vector_db, args.budget, model)
        semantic["rss_mb_semantic"] = _semantic.rss_mb()
        semantic |= {
            "fusion_weight": model.fusion_weight,
            "cosine_range": list(model.cosine_range),
            "threads": model.threads,
            "lexical": _semantic.costs(run),
            "semantic": _semantic.costs(vector_run),
        }
    systems_packed = {
        "engine": run.api,
        "bm25_turns": run_baseline(data, turn_units, args.budget, sys.maxsize),
        "bm25_windows": run_baseline(data, window_units, args.budget, sys.maxsize),
        "engine_internal_200": run.headroom,
        "bm25_turns_25": run_baseline(data, turn_units, args.budget, CLOUD_LIMIT),
        "bm25_windows_25": run_baseline(data, window_units, args.budget, CLOUD_LIMIT),
    }
    if semantic:
        systems_packed["semantic"] = vector_run.api
        systems_packed["semantic_internal_200"] = vector_run.headroom
    systems = {name: score(data, packed, whole_tokens) for name, packed in systems_packed.items()}
    for name in systems:
        systems[name] = {"label": SYSTEMS[name], **systems[name]}
    elapsed = time.perf_counter() - started

    search_ms = sorted(ns / 1e6 for ns in run.search_ns)
    engine_recall = systems["engine"]["splits"]["report"]["recall"]
    turns = sum(len(c.turns) for c in data.conversations)
    whole = [whole_tokens[q.sample_id] for q in data.questions]
    report: dict[str, Any] = {
        "benchmark": "locomo_recall",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code": code_under_test(),
        "machine": machine_info(),
        "versions": versions("langchain-memos", "httpx", "pydantic", "pydantic-core"),
        "data": {
            "source": "LoCoMo-10 conversations conv-26, conv-30, conv-41, conv-42, conv-43 "
            "(snap-research/LoCoMo, CC BY-NC 4.0), read at run time",
            "file": DATA_FILE,
            "conversations": len(data.conversations),
            "sample_ids": [c.sample_id for c in data.conversations],
            "sessions": sum(len(c.sessions) for c in data.conversations),
            "turns": turns,
            "questions": len(data.questions),
            "questions_per_category": {
                str(c): sum(q.category == c for q in data.questions) for c in CATEGORIES
            },
            "questions_without_evidence": sum(not q.evidence for q in data.questions),
            "evidence_strings_normalised": data.evidence_strings_normalised,
            "evidence_ids_not_in_conversation": data.evidence_ids_not_in_conversation,
        },
        "config": {
            "tuning_split": sorted(TUNING_SPLIT),
            "report_split": sorted(REPORT_SPLIT),
            "budget_tokens": args.budget,
            "cloud_fact_cap": CLOUD_LIMIT,
            "headroom_limit": HEADROOM_LIMIT,
            "database": "file in a temporary directory (WAL)" if args.db is None else args.db,
            "wall_seconds": round(elapsed, 1),
        },
        "definitions": {
            **DEFINITIONS,
        },
        "systems": systems,
        "paired_vs_engine": {
            name: paired(data, run.api, systems_packed[name])
            for name in ("bm25_turns", "bm25_windows")
        },
        "whole_conversation": {
            "tokens_by_sample_id": whole_tokens,
            "mean_tokens_per_question": round(statistics.fmean(whole), 1),
            "min_tokens": min(whole_tokens.values()),
            "max_tokens": max(whole_tokens.values()),
        },
        "engine": {
            "messages": run.messages,
            "sessions": run.sessions,
            "fact_memories": run.memories,
            "turns_without_a_fact": run.turns_without_a_fact,
            "facts_carrying_their_previous_turn": run.facts_carrying_their_previous_turn,
            "duplicate_turn_texts_within_a_session": run.duplicate_texts_in_a_session,
            "ingest_seconds": round(run.ingest_seconds, 3),
            "messages_per_second": round(run.messages / run.ingest_seconds, 1),
            "searches": len(search_ms),
            "search_p50_ms": round(percentile(search_ms, 0.5), 2),
            "search_p95_ms": round(percentile(search_ms, 0.95), 2),
            "search_mean_ms": round(statistics.fmean(search_ms), 2),
            "mean_facts_returned": round(statistics.fmean(run.recalled_per_search), 2),
            "searches_whose_top25_differs_from_internal_ranking": run.top25_mismatches,
            "missed_questions": [
                [q.sample_id, q.index, q.category]
                for q in data.questions
                if not (q.evidence & run.api[(q.sample_id, q.index)].dia_ids)
            ],
        },
        "target": {
            "recall": TARGET_RECALL,
            "engine_recall": engine_recall,
            "met": engine_recall >= TARGET_RECALL,
            "margin_vs_bm25_turns": round(engine_recall - systems["bm25_turns"]["recall"], 4),
            "margin_vs_bm25_windows": round(engine_recall - systems["bm25_windows"]["recall"], 4),
        },
    }
    report["relativity"] = _relativity.separation(data, run)
    report["zh_recall"] = _zh_recall.run()
    if args.before is not None:
        report["before"] = _relativity.before(
            args.before, ["--data", str(args.data), "--budget", str(args.budget)]
        )
    if semantic:
        report["semantic"] = semantic
        report["zh_recall_semantic"] = _zh_recall.run(embeddings=model)
        report["paired_semantic_vs_engine"] = paired(data, run.api, vector_run.api)
    return finish(report, args.out, print_table, elapsed)


if __name__ == "__main__":
    sys.exit(main())
