"""Load: 1,000 concurrent searches and 1,000 concurrent adds through one ``AsyncMemOSClient``.

``python -m langchain_memos serve`` runs as a subprocess on a SQLite file in a temporary directory
(the durable engine, WAL mode), on a free loopback port, with a token. Seed conversations (the
synthetic English of ``engine_scale.py``) give a few users something to recall. Then one
``AsyncMemOSClient``, with the client's own connection pool and its default limits, runs these
phases, each round:

- ``serial``: 50 ``search_memory`` calls one at a time, the baseline without contention;
- ``search``: 1,000 ``search_memory`` calls in one ``asyncio.gather``, questions about the seeded
  conversations, spread over the users (half with the conversation's id, which boosts it);
- ``add``: 1,000 ``add_message`` calls of two turns each in one ``gather``, four calls per new
  conversation, in the client's default mode (``async_mode`` unset, so the service's default,
  asynchronous; the embedded engine in fast mode has stored everything when it answers);
- ``mixed``: 500 of each, shuffled, in one ``gather``.

Per phase it records errors by exception type, retries, the latency of every call (from the call
to its answer, so it includes the wait for one of the pool's connections), throughput over the
phase's wall time, the CPU time of the client process and of the server, and what the sockets
did: the peak number of the client's TCP sockets (its descriptors, sampled every 10 ms, and
cross-checked against ESTABLISHED connections to the server port in /proc/net/tcp), the
connections the pool opened (httpcore's connection events), the sockets left in TIME_WAIT, the
bench process's file descriptors, and the server's threads and resident memory.

Then it checks that the writes are really there: ``get_message`` for every conversation the run
added must give back exactly the turns sent, ``get_status`` of a sample of tasks must say
``completed``, and after the server stops, the database file itself must hold every message.

Run it with ``.venv/bin/python bench/load.py`` (``--help`` for the knobs). The figures go to
``bench/results/load.json`` and a table to stdout. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import TOKEN, ChildProcess, finish, report_head, start_serve
from _conversations import Vocabulary
from _load_checks import check_database, check_messages, check_tasks
from _load_phase import PhaseResult, phase_record, run_round, summarise
from _load_work import ADDS_PER_CONVERSATION, TURNS_PER_ADD, Add, round_phases, seed_conversations
from _proc import (
    SAMPLE_SECONDS,
    TCP_EVERY,
    Meters,
    ephemeral_ports,
    open_fds,
    process_status,
    tcp_table,
)

from langchain_memos import AsyncMemOSClient
from langchain_memos._constants import DEFAULT_CONNECTION_LIMITS, DEFAULT_TIMEOUT

RESULTS = Path(__file__).resolve().parent / "results" / "load.json"


def print_table(report: dict[str, Any]) -> None:
    config = report["config"]
    pool = config["pool"]
    print(
        f"load: one AsyncMemOSClient (pool: {pool['max_connections']} connections, "
        f"{pool['max_keepalive_connections']} kept alive) against serve on SQLite; "
        f"{config['calls']} calls per phase, {config['rounds']} rounds"
    )
    print(
        f"{'phase':<8}{'kind':<8}{'calls/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'errors':>8}{'peak conns':>12}{'opened':>8}{'cpu ms/call c+s':>17}"
    )
    for name, phase in report["summary"].items():
        for kind, lat in phase["latency"].items():
            client_ms = phase["client_cpu_s_per_call"] * 1e3
            cpu = f"{client_ms:.2f}+{phase['server_cpu_s_per_call'] * 1e3:.2f}"
            print(
                f"{name:<8}{kind:<8}{phase['calls_per_s_median']:>9.0f}{lat['p50_ms']:>9.1f}"
                f"{lat['p95_ms']:>9.1f}{lat['p99_ms']:>9.1f}{lat['max_ms']:>9.1f}"
                f"{sum(phase['errors'].values()):>8}{phase['peak_client_sockets']:>12}"
                f"{statistics.median(phase['connections_opened_per_round']):>8.0f}{cpu:>17}"
            )
    print("calls/s: median over rounds; latencies pooled over rounds; opened: median per round")
    fds = report["file_descriptors"]
    print(
        f"fds: {fds['before_client']} before the client, peak {fds['peak']}, "
        f"{fds['after_close']} after aclose(); sockets in TIME_WAIT to the server port at the "
        f"end: {report['sockets']['time_wait_at_end']} (ephemeral ports: "
        f"{report['sockets']['ephemeral_ports']}); server peak RSS "
        f"{report['server']['peak_rss_mb']} MB"
    )
    checks = report["checks"]
    print(
        f"check: get_message exact for {checks['get_message']['conversations_exact']}/"
        f"{checks['get_message']['conversations']} conversations; get_status of "
        f"{checks['get_status']['sampled']} tasks: {checks['get_status']['statuses']}; the file "
        f"holds {checks['database']['messages_in_file']}/"
        f"{checks['database']['messages_expected']} messages"
    )


async def measure(args: argparse.Namespace, server: ChildProcess) -> dict[str, Any]:
    rng = random.Random(args.seed)
    vocabulary = Vocabulary(args.seed)
    meters = Meters.start(server.port, server.pid)
    client = AsyncMemOSClient(api_key=TOKEN, base_url=server.url)  # the package's defaults
    try:
        seed_started = time.perf_counter()
        seeded_messages = await seed_conversations(
            client,
            vocabulary,
            args.seed,
            args.seed_conversations,
            args.users,
            args.check_concurrency,
        )
        seed_seconds = time.perf_counter() - seed_started
        meters.sampler.start()
        results: list[PhaseResult] = []
        all_adds: list[Add] = []
        next_k = args.seed_conversations
        for round_index in range(args.rounds):
            phases, adds, next_k = round_phases(
                vocabulary,
                args.seed,
                rng,
                round_index,
                calls=args.calls,
                serial=args.serial,
                seeded=args.seed_conversations,
                users=args.users,
                next_k=next_k,
                mixed=not args.no_mixed,
            )
            all_adds.extend(adds)
            results += await run_round(client, round_index, phases, meters)
        fds_open = open_fds()[0]
        task_ids = [task for r in results for task in r.task_ids]
        checks = {
            "get_message": await check_messages(client, all_adds, args.check_concurrency),
            "get_status": await check_tasks(
                client, task_ids, args.task_sample, args.check_concurrency, rng
            ),
        }
    finally:
        await client.aclose()
        meters.sampler.stop()
    overall = meters.sampler.take()
    return {
        "results": results,
        "all_adds": all_adds,
        "seeded_messages": seeded_messages,
        "seed_seconds": seed_seconds,
        "checks": checks,
        "fds": {
            "before_client": meters.fds_before,
            "after_phases_client_open": fds_open,
            "after_close": open_fds()[0],
            "peak": max([r.peaks.fds for r in results] + [overall.fds]),
        },
        "time_wait_at_end": meters.sockets.time_wait(tcp_table()),
        "server_status_end": process_status(server.pid),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=1000, help="concurrent calls per phase")
    parser.add_argument("--rounds", type=int, default=3, help="times each phase runs")
    parser.add_argument("--users", type=int, default=20, help="users the work is spread over")
    parser.add_argument(
        "--seed-conversations", type=int, default=200, help="conversations stored before the load"
    )
    parser.add_argument(
        "--serial", type=int, default=50, help="searches one at a time first, per round (0: none)"
    )
    parser.add_argument("--no-mixed", action="store_true", help="skip the mixed phase")
    parser.add_argument("--task-sample", type=int, default=200, help="tasks checked by get_status")
    parser.add_argument(
        "--check-concurrency", type=int, default=20, help="concurrent calls of the checks"
    )
    parser.add_argument("--seed", type=int, default=20260801, help="seed of text and queries")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    if not 0 <= args.serial <= args.calls:
        parser.error("need 0 <= serial <= calls")
    if not (2 <= args.calls <= 100_000 and 1 <= args.rounds <= 100 and args.users >= 1):
        parser.error("need 2 <= calls <= 1e5, 1 <= rounds <= 100 and users >= 1")
    if args.seed_conversations < 1 or args.check_concurrency < 1:
        parser.error("need seed-conversations >= 1 and check-concurrency >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path("/proc/net/tcp").exists():
        raise SystemExit("load.py reads /proc (Linux only)")
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="memos-load-") as scratch:
        db = Path(scratch) / "memos.db"
        server = start_serve(db)
        try:
            run = asyncio.run(measure(args, server))
        finally:
            # SIGTERM, as an operator would; it finishes requests in progress, closes the file.
            errors = server.stop()
        stopped = {"exit_code": server.returncode, "stderr": errors.strip().splitlines()}
        run["checks"]["database"] = check_database(db, run["all_adds"], run["seeded_messages"])
    elapsed = time.perf_counter() - started
    results: list[PhaseResult] = run["results"]
    limits = DEFAULT_CONNECTION_LIMITS
    report: dict[str, Any] = {
        **report_head(
            "load",
            ("httpx", "httpcore", "h11", "anyio", "pydantic", "langchain-memos"),
            load_average_1_5_15_before=[round(v, 2) for v in load_before],
            load_average_1_5_15_after=[round(v, 2) for v in os.getloadavg()],
        ),
        "config": {
            "calls": args.calls,
            "rounds": args.rounds,
            "users": args.users,
            "seed_conversations": args.seed_conversations,
            "seeded_messages": run["seeded_messages"],
            "seed_seconds": round(run["seed_seconds"], 2),
            "adds_per_conversation": ADDS_PER_CONVERSATION,
            "turns_per_add": TURNS_PER_ADD,
            "add_mode": "async_mode unset (the service default, asynchronous); the embedded "
            "engine in fast mode stores the turns and memories before answering",
            "mixed_phase": not args.no_mixed,
            "seed": args.seed,
            "server": "python -m langchain_memos serve --port 0 --db <tmp>/memos.db, token "
            "from MEMOS_SERVE_TOKEN (a subprocess; ThreadingHTTPServer, one thread per "
            "connection, one SQLite connection behind a lock)",
            "client": "one AsyncMemOSClient(api_key=token, base_url=...) with its own pool",
            "pool": {
                "max_connections": limits.max_connections,
                "max_keepalive_connections": limits.max_keepalive_connections,
                "keepalive_expiry_s": limits.keepalive_expiry,
            },
            "timeout": {
                "connect": DEFAULT_TIMEOUT.connect,
                "read": DEFAULT_TIMEOUT.read,
                "write": DEFAULT_TIMEOUT.write,
                "pool": DEFAULT_TIMEOUT.pool,
            },
            "latency": "from the call to its answer, including the wait for a pooled connection",
            "throughput": "calls of the phase / wall time of its asyncio.gather",
            "sampling": f"/proc/self/fd and /proc/<server>/status every "
            f"{SAMPLE_SECONDS * 1000:.0f} ms, /proc/net/tcp every "
            f"{SAMPLE_SECONDS * TCP_EVERY * 1000:.0f} ms, from a thread of the bench process "
            "(its CPU time is part of the client's)",
            "peak_client_sockets": "sockets of the bench process opened after the client was "
            "made (asyncio's own excluded)",
            "logging": "httpcore.connection and langchain_memos at DEBUG into counting handlers "
            "(connections opened/closed, retries); nothing printed",
            "connections_opened": "httpcore.connection 'connect_tcp.complete' log events",
            "pool_behaviour": "httpcore 1.0.9 closes a connection that goes idle whenever the "
            "pool holds more than max_keepalive_connections (it counts all connections, not "
            "the idle ones: encode/httpcore#1035), so a burst may open a connection per call",
            "wall_seconds": round(elapsed, 1),
        },
        "summary": summarise(results),
        "phases": [phase_record(r) for r in results],
        "file_descriptors": run["fds"],
        "sockets": {
            "time_wait_at_end": run["time_wait_at_end"],
            "ephemeral_ports": ephemeral_ports(),
        },
        "server": {
            "end_status": run["server_status_end"],
            "peak_rss_mb": round(run["server_status_end"].get("VmHWM", 0) / 1024, 1),
            **stopped,
        },
        "checks": run["checks"],
    }
    return finish(report, args.out, print_table, elapsed)


if __name__ == "__main__":
    sys.exit(main())
