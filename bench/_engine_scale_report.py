"""The targets of ``engine_scale.py`` (issue 13), judged on its rows, and its table."""

from __future__ import annotations

from typing import Any

# Judged on the one-user layout (the worst case), and the floor ratio on both.
TARGET_SEARCH_P95_MS = {10_000: 25.0, 100_000: 100.0, 1_000_000: 100.0}
TARGET_FLOOR_RATIO = 1.5  # search p50 against the raw FTS5 query over the same texts
TARGET_ADD_RATIO = 0.8  # add rate of the step to the largest size against the step to 10k
TARGET_BYTES_PER_MEMORY = 1_000  # half of the ~2 KB before
TARGET_RSS_MB = 100.0


def judge(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets: latency, add and disk on the one-user layout (the worst case), the
    ratio to the raw FTS5 floor on both layouts."""
    worst = {row["n"]: row for row in rows if row["layout"] == "one_user"}
    verdicts: list[dict[str, Any]] = []

    def verdict(target: str, value: float, unit: str, met: bool) -> None:
        verdicts.append({"target": target, "value": value, "unit": unit, "met": met})

    for row in rows:
        ratio = row["search"]["floor_ratio_p50"]
        verdict(
            f"search p50 <= {TARGET_FLOOR_RATIO:g}x raw FTS5 ({row['layout']}, {row['n']:,})",
            ratio,
            "x",
            ratio <= TARGET_FLOOR_RATIO,
        )
    for n, limit in TARGET_SEARCH_P95_MS.items():
        if n in worst:
            value = worst[n]["search"]["latency"]["p95_ms"]
            verdict(f"search p95 <= {limit:g} ms at {n:,} memories", value, "ms", value <= limit)
    added = {n: row for n, row in worst.items() if row["add"]["messages_per_s"]}
    if len(added) > 1:  # sizes a kept database (--reuse) already held add nothing to judge
        first, last = min(added), max(added)
        ratio = round(
            added[last]["add"]["messages_per_s"] / added[first]["add"]["messages_per_s"], 2
        )
        verdict(
            f"add rate of the step to {last:,} >= {TARGET_ADD_RATIO:g}x the step to {first:,}",
            ratio,
            "x",
            ratio >= TARGET_ADD_RATIO,
        )
    for n, row in sorted(worst.items()):
        per_memory = round(row["files"]["db_mb"] * 1_048_576 / row["rows"]["memories"])
        verdict(
            f"disk <= {TARGET_BYTES_PER_MEMORY:,} bytes a memory at {n:,}",
            per_memory,
            "bytes",
            per_memory <= TARGET_BYTES_PER_MEMORY,
        )
    if worst:
        value = max(m["peak_rss_mb"] for row in worst.values() for m in row["memory"].values())
        verdict(
            f"peak resident < {TARGET_RSS_MB:g} MB at every size",
            value,
            "MB",
            value < TARGET_RSS_MB,
        )
    return verdicts


# ---- report ------------------------------------------------------------------------------------


def print_table(rows: list[dict[str, Any]], verdicts: list[dict[str, Any]]) -> None:
    print()
    print(
        f"{'layout':<11}{'N':>8}{'memories':>10}{'messages':>10}{'add msg/s':>11}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}{'CPU p50':>8}{'FTS5 p50':>9}{'x FTS5':>7}"
        f"{'first':>6}{'top5':>6}{'found':>6}{'RSS MB':>8}{'DB MB':>8}{'B/mem':>7}"
    )
    for row in rows:
        latency = row["search"]["latency"]
        found = row["search"]["conversation_found"]
        rss = max(m["peak_rss_mb"] for m in row["memory"].values())
        print(
            f"{row['layout']:<11}{row['n']:>8,}{row['rows']['memories']:>10,}"
            f"{row['rows']['messages']:>10,}{row['add_cumulative']['messages_per_s'] or 0:>11,.0f}"
            f"{latency['p50_ms']:>9.1f}{latency['p95_ms']:>9.1f}{latency['mean_ms']:>9.1f}"
            f"{row['search']['cpu']['p50_ms']:>8.1f}"
            f"{row['search']['floor_latency']['p50_ms']:>9.2f}{row['search']['floor_ratio_p50']:>7.2f}"
            f"{found['first']:>6.2f}{found['top5']:>6.2f}{found['returned']:>6.2f}"
            f"{rss:>8.0f}{row['files']['db_mb']:>8.0f}"
            f"{row['files']['db_mb'] * 1_048_576 / row['rows']['memories']:>7,.0f}"
        )
    print()
    for verdict in verdicts:
        print(
            f"{'met' if verdict['met'] else 'NOT met':<8} {verdict['target']}: "
            f"{verdict['value']:,} {verdict['unit']}"
        )
