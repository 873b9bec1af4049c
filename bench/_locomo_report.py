"""The console table of bench/locomo_recall.py: each system's recall by split and category, the
tokens it injects, and what the other parts of the report (Chinese set, relativity, semantic
costs, the target) found."""

from __future__ import annotations

from typing import Any

import _relativity
import _zh_recall
from _locomo_data import CATEGORIES, REPORT_SPLIT, TUNING_SPLIT

SYSTEMS = {
    "engine": "engine via search_memory, <=25 facts (cloud cap)",
    "bm25_turns": "BM25 over single turns",
    "bm25_windows": "BM25 over 3-turn windows",
    "engine_internal_200": "engine ranking, 200 candidates (not via API)",
    "bm25_turns_25": "BM25 over single turns, <=25 items",
    "bm25_windows_25": "BM25 over 3-turn windows, <=25 items",
    "semantic": "engine + e5 vectors (--semantic), <=25 facts",
    "semantic_internal_200": "engine + e5 vectors, 200 candidates",
}


def print_table(report: dict[str, Any]) -> None:
    data, config = report["data"], report["config"]
    print(
        f"LoCoMo dev: {data['conversations']} conversations, {data['sessions']} sessions, "
        f"{data['turns']} turns, {data['questions']} questions of categories 1-4; "
        f"budget {config['budget_tokens']} tokens"
    )
    columns = [*map(str, CATEGORIES), "dated"]
    head = "".join(f"{'c' + c if c != 'dated' else c:>7}" for c in columns)
    for split in ("all", "tuning", "report"):
        ids = {"all": "", "tuning": sorted(TUNING_SPLIT), "report": sorted(REPORT_SPLIT)}[split]
        print(f"\n{split} split {', '.join(ids)}".rstrip())
        print(f"{'system':<55}{'recall':>7}{head}{'tokens':>8}{'items':>7}{'saving':>8}")
        for name, label in SYSTEMS.items():
            if name not in report["systems"]:
                continue
            row = report["systems"][name]
            row = row if split == "all" else row["splits"][split]
            cats = "".join(f"{row['per_category'][c]['recall'] or 0:>7.3f}" for c in columns)
            print(
                f"{label:<55}{row['recall']:>7.3f}{cats}{row['mean_tokens_injected']:>8.0f}"
                f"{row['mean_memories_injected']:>7.1f}{row['saving_vs_whole_conversation']:>8.1%}"
            )
    print(
        "the MemOS cloud caps a search at 25 facts (memory_limit_number <= 25), so the engine row "
        "packs at most 25 memories; rows below the first three are extra views"
    )
    whole = report["whole_conversation"]
    engine = report["engine"]
    print(
        f"whole conversation in context: {whole['mean_tokens_per_question']:.0f} tokens a "
        f"question on average ({whole['min_tokens']}-{whole['max_tokens']})"
    )
    print(
        f"ingest: {engine['messages']} messages in {engine['sessions']} add_message calls, "
        f"{engine['ingest_seconds']:.2f} s, {engine['messages_per_second']:.0f} messages/s; "
        f"search_memory p50 {engine['search_p50_ms']:.1f} ms, p95 {engine['search_p95_ms']:.1f} ms"
    )
    for name, pair in report["paired_vs_engine"].items():
        print(
            f"engine vs {SYSTEMS[name]}: engine alone finds {pair['engine_only']}, the baseline "
            f"alone {pair['baseline_only']} (exact McNemar p = {pair['mcnemar_exact_p']:.2g})"
        )
    _zh_recall.print_table(report["zh_recall"])
    _relativity.print_table(report)
    if "semantic" in report:
        semantic = report["semantic"]
        _zh_recall.print_table(report["zh_recall_semantic"], "with e5 vectors")
        for mode in ("lexical", "semantic"):
            cost = semantic[mode]
            print(
                f"{mode}: add_message {cost['add_message_mean_ms']:.1f} ms a call "
                f"({cost['per_message_ms']:.2f} ms a message); search p50 "
                f"{cost['search_p50_ms']:.1f} ms, p95 {cost['search_p95_ms']:.1f} ms; asked of "
                f"another user, {cost['unrelated_returned_mean']:.2f} memories pass 0.45 "
                f"(none for {cost['unrelated_questions_with_none']:.0%} of questions)"
            )
        print(
            f"resident memory: {semantic['rss_mb_lexical']:.0f} MB after the lexical run, "
            f"{semantic['rss_mb_semantic']:.0f} MB after the semantic one; fusion weight "
            f"{semantic['fusion_weight']}, cosine range {semantic['cosine_range']}"
        )
    target = report["target"]
    print(
        f"target recall >= {target['recall']}: {'met' if target['met'] else 'NOT met'} "
        f"({target['engine_recall']:.3f}; {target['margin_vs_bm25_turns']:+.3f} vs BM25 turns, "
        f"{target['margin_vs_bm25_windows']:+.3f} vs BM25 windows)"
    )
