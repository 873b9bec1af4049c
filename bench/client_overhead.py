"""Client overhead: what ``MemOSClient.search_memory`` costs on top of bare httpx.

One loopback server (a separate process) answers ``POST /api/openmem/v1/search/memory`` with the
documented example body (shared/memos_api.md 1.5). Against it, in one run, this script times
``search_memory`` of :class:`MemOSClient` and :class:`AsyncMemOSClient` next to a bare pooled
``httpx.Client`` / ``httpx.AsyncClient`` posting the same bytes to the same URL with the same
headers, both as a bare ``post`` (the baseline of the target) and as ``post`` + ``json()`` (what
a caller who reads the answer minimally does). The series are interleaved in blocks whose order
is shuffled every round, so drift hits every series alike.

Target: client p50 / bare-post p50 <= 1.05, for sync and async.

Run it with ``make bench`` or ``.venv/bin/python bench/client_overhead.py`` (``--help`` for the
knobs). The figures go to ``bench/results/client_overhead.json`` and a short table to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from _common import finish, report_head, summary, usable_cpus
from _interleave import bootstrap_ratio_ci, run_async, run_sync
from _loopback import (
    API_PREFIX,
    SEARCH_PATH,
    SEARCH_RESPONSE,
    SEARCH_RESPONSE_BYTES,
    WireRequest,
    alast_request,
    check_same_request,
    choose_cpus,
    encode,
    last_request,
    loopback_server,
    pin,
)

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos.types import SearchMemoryResult

API_KEY = "bench-key"
TARGET_RATIO = 1.05
RESULTS = Path(__file__).resolve().parent / "results" / "client_overhead.json"

# What the benchmark asks for: a typical recall for one user, in one conversation.
QUERY = "What should I cook for dinner tonight?"
USER_ID = "memos_user_123"
CONVERSATION_ID = "memos_conversation_123"


# ---- the series: client, bare post, bare post + json(), each sync and async ---------------------


def _bare_headers() -> dict[str, str]:
    # Exactly what MemOSClient sends; check_same_request() proves it on the wire.
    return {
        "Accept": "application/json",
        "Authorization": f"Token {API_KEY}",
        "Content-Type": "application/json",
    }


def _request_body() -> bytes:
    # Exactly the bytes MemOSClient encodes for the same call; check_same_request() proves it.
    return encode({"query": QUERY, "user_id": USER_ID, "conversation_id": CONVERSATION_ID})


def check_answers(client_result: object, bare_json: object) -> None:
    if not isinstance(client_result, SearchMemoryResult) or len(client_result) != 2:
        raise SystemExit(f"the client did not parse the documented example: {client_result!r}")
    if bare_json != SEARCH_RESPONSE:
        raise SystemExit("the loopback server did not answer with the documented example")


Samples = dict[str, list[int]]
Sent = dict[str, WireRequest]


def measure_sync(
    port: int, *, n: int, warmup: int, block: int, rng: random.Random
) -> tuple[Samples, Sent]:
    url = f"http://127.0.0.1:{port}{SEARCH_PATH}"
    body, headers = _request_body(), _bare_headers()
    with (
        MemOSClient(
            api_key=API_KEY, base_url=f"http://127.0.0.1:{port}{API_PREFIX}", max_retries=0
        ) as client,
        httpx.Client() as bare,
    ):

        def client_call() -> object:
            return client.search_memory(QUERY, user_id=USER_ID, conversation_id=CONVERSATION_ID)

        def bare_post() -> object:
            return bare.post(url, content=body, headers=headers)

        def bare_post_json() -> object:
            return bare.post(url, content=body, headers=headers).json()

        calls: dict[str, Callable[[], object]] = {
            "client": client_call,
            "bare_post": bare_post,
            "bare_post_json": bare_post_json,
        }
        sent: Sent = {}
        for name, call in calls.items():
            answer = call()
            sent[f"sync_{name}"] = last_request(port)
            if name == "client":
                check_answers(answer, bare_post_json())
        check_same_request(sent)
        return run_sync(calls, n=n, warmup=warmup, block=block, rng=rng), sent


async def measure_async(
    port: int, *, n: int, warmup: int, block: int, rng: random.Random
) -> tuple[Samples, Sent]:
    url = f"http://127.0.0.1:{port}{SEARCH_PATH}"
    body, headers = _request_body(), _bare_headers()
    async with (
        AsyncMemOSClient(
            api_key=API_KEY, base_url=f"http://127.0.0.1:{port}{API_PREFIX}", max_retries=0
        ) as client,
        httpx.AsyncClient() as bare,
    ):

        async def client_call() -> object:
            return await client.search_memory(
                QUERY, user_id=USER_ID, conversation_id=CONVERSATION_ID
            )

        async def bare_post() -> object:
            return await bare.post(url, content=body, headers=headers)

        async def bare_post_json() -> object:
            return (await bare.post(url, content=body, headers=headers)).json()

        calls: dict[str, Callable[[], Awaitable[object]]] = {
            "client": client_call,
            "bare_post": bare_post,
            "bare_post_json": bare_post_json,
        }
        sent: Sent = {}
        for name, call in calls.items():
            answer = await call()
            sent[f"async_{name}"] = await alast_request(port)
            if name == "client":
                check_answers(answer, await bare_post_json())
        check_same_request(sent)
        return await run_async(calls, n=n, warmup=warmup, block=block, rng=rng), sent


# ---- report ------------------------------------------------------------------------------------


def summarise(samples_ns: Sequence[int]) -> dict[str, float]:
    stats = ("n", "p50", "p95", "mean", "min", "max", "stdev")
    return summary(samples_ns, scale=1e-3, unit="_us", digits=2, stats=stats)


def ratios(
    samples: dict[str, list[int]],
    stats: dict[str, dict[str, float]],
    *,
    bootstrap: int,
    rng: random.Random,
) -> dict[str, Any]:
    client = stats["client"]
    out: dict[str, Any] = {}
    for baseline in ("bare_post", "bare_post_json"):
        base = stats[baseline]
        out[f"vs_{baseline}"] = {
            "p50": round(client["p50_us"] / base["p50_us"], 4),
            "p95": round(client["p95_us"] / base["p95_us"], 4),
            "mean": round(client["mean_us"] / base["mean_us"], 4),
            "p50_overhead_us": round(client["p50_us"] - base["p50_us"], 2),
            "p50_ci95": bootstrap_ratio_ci(
                samples["client"], samples[baseline], rounds=bootstrap, rng=rng
            ),
        }
    out["target_p50_ratio"] = TARGET_RATIO
    out["target_met"] = out["vs_bare_post"]["p50"] <= TARGET_RATIO
    return out


def print_table(report: dict[str, Any]) -> None:
    config = report["config"]
    print(
        f"client overhead: search/memory on loopback, n={config['n']} per series, "
        f"warmup={config['warmup']}, blocks of {config['block']}"
    )
    print(f"{'series':<22}{'p50 us':>10}{'p95 us':>10}{'mean us':>10}")
    for name, row in report["series"].items():
        print(f"{name:<22}{row['p50_us']:>10.1f}{row['p95_us']:>10.1f}{row['mean_us']:>10.1f}")
    for mode in ("sync", "async"):
        for baseline in ("bare_post", "bare_post_json"):
            ratio = report["ratios"][mode][f"vs_{baseline}"]
            ci = ratio["p50_ci95"]
            ci_text = f" (95% CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else ""
            print(
                f"{mode:<5} client/{baseline:<15} p50 {ratio['p50']:.3f}{ci_text}, "
                f"p95 {ratio['p95']:.3f}, {ratio['p50_overhead_us']:+.1f} us at p50"
            )
        met = report["ratios"][mode]["target_met"]
        print(f"{mode:<5} target p50 ratio <= {TARGET_RATIO}: {'met' if met else 'NOT met'}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=3000, help="timed calls per series")
    parser.add_argument("--warmup", type=int, default=300, help="untimed calls per series first")
    parser.add_argument("--block", type=int, default=25, help="consecutive calls per series")
    parser.add_argument("--seed", type=int, default=20260801, help="seed of the block order")
    parser.add_argument("--bootstrap", type=int, default=400, help="resamples for the CIs (0: off)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin client and server CPUs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    if not (10 <= args.n <= 1_000_000 and 0 <= args.warmup <= 100_000 and args.block >= 1):
        parser.error("need 10 <= n <= 1e6, 0 <= warmup <= 1e5 and block >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    usable = usable_cpus()  # before pinning narrows it
    pinned = choose_cpus(args.no_pin)
    started = time.perf_counter()
    with loopback_server(pinned[1] if pinned else None) as port:
        pin(pinned[0] if pinned else None)
        gc.collect()
        gc.freeze()  # setup objects out of the collector's way: less noise for every series
        sync_samples, sync_sent = measure_sync(
            port, n=args.n, warmup=args.warmup, block=args.block, rng=rng
        )
        async_samples, async_sent = asyncio.run(
            measure_async(port, n=args.n, warmup=args.warmup, block=args.block, rng=rng)
        )
    elapsed = time.perf_counter() - started
    sent = {**sync_sent, **async_sent}
    check_same_request(sent)
    request_line, request_headers, request_body = next(iter(sent.values()))

    series: dict[str, dict[str, float]] = {}
    report_ratios: dict[str, Any] = {}
    for mode, samples in (("sync", sync_samples), ("async", async_samples)):
        stats = {name: summarise(values) for name, values in samples.items()}
        series.update({f"{mode}_{name}": stat for name, stat in stats.items()})
        report_ratios[mode] = ratios(samples, stats, bootstrap=args.bootstrap, rng=rng)
    packages = ("httpx", "httpcore", "h11", "anyio", "pydantic", "pydantic-core", "langchain-memos")
    report: dict[str, Any] = {
        **report_head(
            "client_overhead",
            packages,
            usable_cpus=usable,
            pinned_client_cpu=pinned[0] if pinned else None,
            pinned_server_cpu=pinned[1] if pinned else None,
        ),
        "config": {
            "n": args.n,
            "warmup": args.warmup,
            "block": args.block,
            "seed": args.seed,
            "bootstrap": args.bootstrap,
            "order": "blocks of `block` calls per series, series order shuffled every round",
            "server": "asyncio.Protocol in a spawned process, precomputed HTTP/1.1 keep-alive",
            "cpus": "client and server pinned to one CPU each" if pinned else "not pinned",
            "gc": "enabled; setup objects frozen (gc.freeze) before the warm-up",
            "endpoint": SEARCH_PATH,
            "wire_check": "the server saw the same request line, headers and body from all six",
            "request_line": request_line.decode(),
            "request_headers": [name.decode() for name, _ in request_headers],
            "request_body_bytes": len(request_body),
            "response_body_bytes": len(SEARCH_RESPONSE_BYTES),
            "client": "MemOSClient/AsyncMemOSClient(max_retries=0).search_memory",
            "bare_post": "httpx.Client()/AsyncClient().post(url, content=body, headers=headers)",
            "bare_post_json": "the same, then response.json()",
            "wall_seconds": round(elapsed, 1),
        },
        "series": series,
        "ratios": report_ratios,
    }
    return finish(report, args.out, print_table, elapsed)


if __name__ == "__main__":
    sys.exit(main())
