"""The figures bench/serve_http.py reports: the median round of each server at each concurrency,
each round against the previous server's in the same round, and the console table."""

from __future__ import annotations

from typing import Any


def best(rows: list[dict[str, Any]], previous: list[dict[str, Any]]) -> dict[str, Any]:
    """The median round by throughput, every round's throughput, and its ratio to the previous
    server's in the same round (measured minutes apart at most, so the least disturbed)."""
    ordered = sorted(rows, key=lambda row: row["requests_per_s"])
    pairs = zip(rows, previous, strict=True)
    ratios = [row["requests_per_s"] / before["requests_per_s"] for row, before in pairs]
    return {
        **ordered[len(ordered) // 2],
        "rounds_requests_per_s": [r["requests_per_s"] for r in rows],
        "rounds_vs_http_server": [round(ratio, 2) for ratio in ratios],
    }


def print_table(report: dict[str, Any]) -> None:
    print(
        f"{'server':<12}{'c':>4}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'cpu ms':>8}{'switches':>9}"
        f"{'vs http.server':>16}  each round vs http.server"
    )
    results = report["results"]
    for kind, per_c in results.items():
        for c, row in per_c.items():
            before = results["http.server"][c]["requests_per_s"]
            ratio = f"{row['requests_per_s'] / before:.2f}x"
            rounds = " ".join(f"{r:.2f}x" for r in row["rounds_vs_http_server"])
            print(
                f"{kind:<12}{c:>4}{row['requests_per_s']:>10}{row['p50_ms']:>9}{row['p99_ms']:>9}"
                f"{row['cpu_ms_per_request']:>8}{row['context_switches_per_request']:>9}"
                f"{ratio:>16}  {rounds}"
            )
