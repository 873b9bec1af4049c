"""Agent turn: memory searches per user turn, and the latency they add, for three integrations.

An agent turn is one user message answered by a tool loop: a deterministic fake chat model
calls a trivial tool ``tool_calls`` times (default 3), then answers, so one turn makes
``tool_calls + 1`` model calls. Measured in one run, on the same MemOS server:

- ``none_*``: no memory, the baseline turn of each framework: ``langchain.agents.create_agent``,
  a hand-built LangGraph ``StateGraph``, and ``langgraph.prebuilt.create_react_agent``;
- ``middleware``: ``MemOSMiddleware`` in ``create_agent`` (one search per user turn in
  ``before_agent``, the block injected into every model call, the turn written back in the
  background);
- ``graph_nodes``: ``MemOSGraphMemory`` nodes in the ``StateGraph`` (recall -> model <-> tools ->
  save);
- ``naive_per_call``: a search before every model call, the legacy
  ``create_memos_pre_model_hook`` in ``create_react_agent`` (its ``pre_model_hook`` runs before
  each model call; it does not write back).

The MemOS service is the embedded engine run by ``python -m langchain_memos serve`` in its own
process, seeded with the same few dozen remembered turns for every user, behind a delaying proxy
(``bench/_delay_proxy.py``, another process) that answers every request ``--delay-ms`` (default
50) later than the engine did. The proxy counts the HTTP requests by path: searches and adds per
turn are requests that really happened, read before and after each turn.

Every variant has its own user (so one variant's write-backs never change another's searches)
and keeps one conversation (one ``thread_id``, with an ``InMemorySaver`` checkpointer) for all of
its turns. The variants take turns in an order shuffled every round. A turn's time is the wall
time of ``invoke`` (or ``ainvoke``), which returns as soon as the background write is queued;
after it, untimed, the bench waits for the write (as a user's pause between turns would) and
reads the proxy's counters, so each turn's requests are attributed to it. The turns run in sync
mode (``invoke``) and in async mode (``ainvoke``, with ``AsyncMemOSClient`` searches).

Run it with ``.venv/bin/python bench/agent_turn.py`` (``--help`` for the knobs). The figures go
to ``bench/results/agent_turn.json`` and a table to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from _agent_variants import SEED_STATEMENTS, Variant, build_variants, probe_search, run_turns, seed
from _common import TOKEN, ChildProcess, finish, report_head, start_serve, summary

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos.outbox import OUTBOX_PATH_ENV

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results" / "agent_turn.json"
COUNTS_PATH = "/__proxy__/counts"


# ---- report ---------------------------------------------------------------------------------


def summarise_ms(values_s: Sequence[float]) -> dict[str, float]:
    return summary(values_s, scale=1000, digits=2, stats=("p50", "p95", "mean", "min", "max"))


def per_turn(values: Sequence[int]) -> dict[str, float]:
    return {"mean": round(statistics.fmean(values), 3), "min": min(values), "max": max(values)}


def mode_report(variants: list[Variant], search_ms: float) -> dict[str, Any]:
    """Each variant's figures; ``search_ms`` is one search's round trip through the proxy (p50)."""
    turn = {v.name: summarise_ms(v.turn_s) for v in variants}
    out: dict[str, Any] = {}
    for v in variants:
        own, first = turn[v.baseline], turn["none_create_agent"]
        searches = per_turn(v.searches)
        added_mean = turn[v.name]["mean"] - own["mean"]
        out[v.name] = {
            "framework": v.framework,
            "baseline": v.baseline,
            "turn_ms": turn[v.name],
            "added_ms_vs_own_baseline": {
                "p50": round(turn[v.name]["p50"] - own["p50"], 2),
                "mean": round(added_mean, 2),
            },
            "added_ms_vs_none_create_agent": {
                "p50": round(turn[v.name]["p50"] - first["p50"], 2),
                "mean": round(turn[v.name]["mean"] - first["mean"], 2),
            },
            "added_mean_ms_beyond_search_round_trips": round(
                added_mean - searches["mean"] * search_ms, 2
            ),
            "searches_per_turn": searches,
            "adds_per_turn": per_turn(v.adds),
            "model_calls_per_turn": per_turn(v.model_calls),
            "model_calls_with_memory_per_turn": per_turn(v.calls_with_memory),
            "turns_with_memory_in_the_prompt": sum(n > 0 for n in v.calls_with_memory),
            "write_back": None
            if not v.flush_s
            else {
                "turns_returned_before_write_done": v.write_pending_at_return,
                "write_done_ms_after_return": summarise_ms(v.flush_s),
            },
        }
    return out


def print_table(report: dict[str, Any]) -> None:
    config = report["config"]
    print(
        f"agent turn: {config['turns']} user turns per variant, {config['tool_calls']} tool calls "
        f"({config['tool_calls'] + 1} model calls) per turn, +{config['delay_ms']:g} ms per MemOS "
        "request"
    )
    probe = report["search_round_trip_ms"]  # measured after the turns
    print(
        f"one search: p50 {probe['through_proxy']['p50']:.1f} ms through the proxy, "
        f"{probe['direct']['p50']:.1f} ms direct to the engine"
    )
    header = (
        f"{'mode':<6}{'variant':<19}{'searches':>9}{'adds':>6}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'+p50 ms':>9}{'+mean ms':>10}"
    )
    print(header)
    for mode, variants in report["modes"].items():
        for name, row in variants.items():
            added = row["added_ms_vs_own_baseline"]
            baseline = name == row["baseline"]
            print(
                f"{mode:<6}{name:<19}{row['searches_per_turn']['mean']:>9.2f}"
                f"{row['adds_per_turn']['mean']:>6.2f}{row['turn_ms']['p50']:>9.1f}"
                f"{row['turn_ms']['p95']:>9.1f}"
                + (
                    f"{'-':>9}{'-':>10}"
                    if baseline
                    else f"{added['p50']:>+9.1f}{added['mean']:>+10.1f}"
                )
            )
    print("+p50/+mean: against the no-memory variant of the same framework (none_*)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--turns", type=int, default=20, help="timed user turns per variant")
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed user turns per variant first"
    )
    parser.add_argument("--tool-calls", type=int, default=3, help="tool calls per user turn")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="added per MemOS request")
    parser.add_argument("--model-ms", type=float, default=0.0, help="latency of each model call")
    parser.add_argument(
        "--modes", default="sync,async", help="comma-separated: sync (invoke), async (ainvoke)"
    )
    parser.add_argument("--probe", type=int, default=30, help="direct searches timed at the end")
    parser.add_argument("--seed", type=int, default=20260801, help="seed of the variants' order")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not set(args.modes) <= {"sync", "async"} or not args.modes:
        parser.error("--modes takes sync, async or both")
    if not (args.turns >= 1 and args.warmup >= 0 and args.tool_calls >= 0 and args.probe >= 1):
        parser.error("need turns >= 1, warmup >= 0, tool-calls >= 0 and probe >= 1")
    if args.delay_ms < 0 or args.model_ms < 0:
        parser.error("delays cannot be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # The write-back outbox (a file, as for any service) goes to a scratch directory, not the
    # user's cache.
    scratch = tempfile.TemporaryDirectory(prefix="agent-turn-")
    os.environ[OUTBOX_PATH_ENV] = str(Path(scratch.name) / "outbox.sqlite3")
    rng = random.Random(args.seed)
    delay = args.delay_ms / 1000
    timeout = max(2.0, 4 * delay + 1.0)  # the package default, or room for a long delay
    started = time.perf_counter()
    server = start_serve()
    proxy: ChildProcess | None = None
    loop = asyncio.new_event_loop()
    try:
        proxy = ChildProcess.start(
            [
                sys.executable,
                str(BENCH / "_delay_proxy.py"),
                "--upstream",
                server.url.removesuffix("/api/openmem/v1"),
                "--delay-ms",
                str(args.delay_ms),
            ]
        )
        counts_url = proxy.url.removesuffix("/api/openmem/v1") + COUNTS_PATH
        with (
            httpx.Client() as control,
            MemOSClient(base_url=server.url, api_key=TOKEN, max_retries=0) as direct,
            MemOSClient(base_url=proxy.url, api_key=TOKEN, max_retries=0) as client,
        ):

            def counts() -> Counter[str]:
                answer = control.get(counts_url)
                answer.raise_for_status()
                return Counter(answer.json())

            measured: dict[str, list[Variant]] = {}
            for mode in args.modes:
                async_client = (
                    AsyncMemOSClient(base_url=proxy.url, api_key=TOKEN, max_retries=0)
                    if mode == "async"
                    else None
                )
                variants = build_variants(
                    mode,
                    client,
                    async_client,
                    tool_calls=args.tool_calls,
                    model_latency=args.model_ms / 1000,
                    timeout=timeout,
                )
                for variant in variants:
                    seed(direct, variant.user_id)
                gc.collect()
                run_turns(
                    mode,
                    variants,
                    turns=args.turns,
                    warmup=args.warmup,
                    rng=rng,
                    counts=counts,
                    loop=loop,
                )
                for variant in variants:
                    if variant.memory is not None:
                        variant.memory.close(timeout=60)
                if async_client is not None:
                    loop.run_until_complete(async_client.aclose())
                measured[mode] = variants
            probe_user = f"bench-{args.modes[0]}-middleware"
            search_round_trip = {
                "through_proxy": summarise_ms(probe_search(client, probe_user, args.probe)),
                "direct": summarise_ms(probe_search(direct, probe_user, args.probe)),
            }
    finally:
        loop.close()
        if proxy is not None:
            proxy.stop()
        server.stop()
    elapsed = time.perf_counter() - started
    search_ms = search_round_trip["through_proxy"]["p50"]
    modes = {mode: mode_report(variants, search_ms) for mode, variants in measured.items()}
    packages = ("langchain", "langchain-core", "langgraph", "httpx", "pydantic", "langchain-memos")
    report: dict[str, Any] = {
        **report_head("agent_turn", packages),
        "config": {
            "turns": args.turns,
            "warmup": args.warmup,
            "tool_calls": args.tool_calls,
            "model_calls_per_turn": args.tool_calls + 1,
            "delay_ms": args.delay_ms,
            "model_ms": args.model_ms,
            "modes": args.modes,
            "seed": args.seed,
            "probe": args.probe,
            "search_timeout_s": timeout,
            "server": "python -m langchain_memos serve (embedded engine, in memory, token), "
            "its own process",
            "proxy": "bench/_delay_proxy.py in its own process: counts each request by path, "
            "sleeps delay_ms, forwards it",
            "seed_memories": f"{len(SEED_STATEMENTS)} user turns per user, fast mode, sync adds",
            "users": "one per variant and mode, seeded alike",
            "conversation": "one thread_id per variant and mode for all its turns, InMemorySaver",
            "order": "every round, each variant answers the same query, in a shuffled order",
            "timed": "invoke/ainvoke only; the write-back is awaited (flush) after, untimed",
            "counted": "HTTP requests seen by the proxy, read before and after each turn",
            "clients": "MemOSClient/AsyncMemOSClient(max_retries=0); memory fail_open=False",
            "naive_per_call": "create_memos_pre_model_hook in create_react_agent (no write-back)",
            "wall_seconds": round(elapsed, 1),
        },
        "search_round_trip_ms": search_round_trip,
        "modes": modes,
    }
    return finish(report, args.out, print_table, elapsed)


if __name__ == "__main__":
    sys.exit(main())
