"""serve: search/memory throughput and latency over HTTP, against the previous server and the floor.

Three ways to answer the same ``search/memory`` request on the same SQLite file, in one run:

- ``uvicorn``: today's ``serve()`` (the ASGI app on uvicorn), in its own process;
- ``http.server``: the hand-written HTTP/1.1 server ``serve()`` was before, loaded from git
  (``--previous REV:PATH``, the last commit that had it) into its own process, same engine;
- ``in_process``: ``EmbeddedEngine.handle`` called directly by threads of the bench process, the
  same bytes in and out with no HTTP at all: the floor any server can only add to.

The database holds 200 synthetic conversations (``engine_scale.py``'s generator) of one user,
and the requests are questions about them, so every search finds memories. The load comes from
this process: ``c`` keep-alive connections over raw sockets (asyncio), each sending its next
request as soon as the answer arrived, so the client costs a few microseconds a request. For each
concurrency (1, 16, 64) it sends a warm-up, then ``--requests`` timed requests; at each
concurrency of each round the three take turns in a shuffled order, so that the machine's other
load changes little between the figures compared. Reported: requests/s over the timed wall time,
p50/p99 latency from send to the last byte of the answer, errors, and each round's throughput
against the previous server's in the same round. Figures go to ``bench/results/serve_http.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _common import (
    ChildProcess,
    code_under_test,
    finish,
    git,
    latency_ms,
    machine_info,
    versions,
)
from _conversations import Vocabulary, conversation, question
from _serve_http_report import best, print_table

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine

RESULTS = Path(__file__).resolve().parent / "results" / "serve_http.json"
PREVIOUS = "530b5eb:langchain_memos/embedded/server.py"
PATH = "/api/openmem/v1/search/memory"
USER = "user-000"
SEED = 7
CONVERSATIONS = 200
QUESTIONS = 100


# ---- the servers, each in its own process --------------------------------------------------


def run_server(kind: str, db: str, previous: str) -> int:
    """Child process: serve ``db`` with ``kind`` until SIGTERM; the URL is the first stdout line."""
    import threading

    engine = EmbeddedEngine(db)
    if kind == "uvicorn":
        from langchain_memos.embedded.server import serve
    else:
        source = git("show", previous)
        if source is None:
            raise SystemExit(f"cannot read {previous} from git")
        module_path = Path(tempfile.mkdtemp()) / "previous_server.py"
        module_path.write_text(source)
        spec = importlib.util.spec_from_file_location("previous_server", module_path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["previous_server"] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        serve = module.serve
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: print("usage", *usage(), flush=True))
    with serve(engine) as server:
        print(f"serving {server.base_url}", flush=True)
        stop.wait()
    engine.close()
    return 0


def seed_database(db: Path) -> list[bytes]:
    """200 conversations of one user; the request bodies of questions about them."""
    vocabulary = Vocabulary(SEED)
    engine = EmbeddedEngine(str(db))  # closed here: no connection of ours outlives the seeding
    with MemOSClient(embedded=engine, max_retries=0) as client:
        for k in range(CONVERSATIONS):
            _, turns = conversation(vocabulary, SEED, k)
            client.add_message(turns, user_id=USER, conversation_id=f"conv-{k:06d}")
    engine.close()
    rng = random.Random(SEED)
    asked = [question(vocabulary, SEED, rng.randrange(CONVERSATIONS), i) for i in range(QUESTIONS)]
    return [json.dumps({"query": q, "user_id": USER}).encode() for q in asked]


# ---- the load ----------------------------------------------------------------------------------


def _request(host: str, port: int, body: bytes) -> bytes:
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(
    host: str, port: int, requests: list[bytes], latencies: list[int], errors: list[str]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for request in requests:
            started = time.perf_counter_ns()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter_ns() - started)
            if not head.startswith(b"HTTP/1.1 200") or b'"code": 0' not in body[:20]:
                errors.append(head.split(b"\r\n", 1)[0].decode())
    finally:
        writer.close()


async def _load(url_host: str, port: int, requests: list[bytes], concurrency: int) -> Any:
    latencies: list[int] = []
    errors: list[str] = []
    shares = [requests[i::concurrency] for i in range(concurrency)]
    started = time.perf_counter()
    await asyncio.gather(*(_connection(url_host, port, s, latencies, errors) for s in shares))
    return time.perf_counter() - started, latencies, errors


def usage() -> tuple[float, int]:
    """CPU seconds and context switches of this process so far, all its threads' (ended too)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime, own.ru_nvcsw + own.ru_nivcsw


def server_usage(server: ChildProcess) -> tuple[float, int]:
    """:func:`usage` of a server started by :func:`run_server`, which prints it on SIGUSR1."""
    assert server.popen.stdout is not None
    os.kill(server.pid, signal.SIGUSR1)
    _, cpu, switches = server.popen.stdout.readline().split()
    return float(cpu), int(switches)


def measure_http(
    server: ChildProcess, bodies: list[bytes], concurrency: int, n: int, warmup: int
) -> Any:
    host, port = server.url.split("//", 1)[1].split("/", 1)[0].rpartition(":")[::2]
    wire = [_request(host, int(port), body) for body in bodies]
    asyncio.run(_load(host, int(port), [wire[i % len(wire)] for i in range(warmup)], concurrency))
    timed = [wire[(i * 7) % len(wire)] for i in range(n)]
    before = server_usage(server)
    wall, latencies, errors = asyncio.run(_load(host, int(port), timed, concurrency))
    after = server_usage(server)
    return wall, latencies, errors, after[0] - before[0], after[1] - before[1]


def measure_in_process(db: Path, bodies: list[bytes], concurrency: int, n: int) -> Any:
    engine = EmbeddedEngine(str(db))
    latencies: list[int] = []
    errors: list[str] = []

    def one(body: bytes) -> None:
        started = time.perf_counter_ns()
        status, payload = engine.handle("POST", PATH, body)
        latencies.append(time.perf_counter_ns() - started)
        if status != 200 or b'"code": 0' not in payload[:20]:
            errors.append(str(status))

    for body in bodies:  # warm-up
        one(body)
    latencies.clear()
    timed = [bodies[(i * 7) % len(bodies)] for i in range(n)]
    started, before = time.perf_counter(), usage()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, timed))
    wall, after = time.perf_counter() - started, usage()
    engine.close()
    return wall, latencies, errors, after[0] - before[0], after[1] - before[1]


def figures(
    wall: float, latencies: list[int], errors: list[str], cpu: float, switches: int
) -> dict[str, Any]:
    return {
        "requests_per_s": round(len(latencies) / wall, 1),
        **latency_ms(latencies, digits=2),
        # What the server process spent per request, whatever share of the machine it got, and
        # how often its threads stopped running (to wait, or preempted): the cost of handing a
        # request between threads, which the machine's other load changes least.
        "cpu_ms_per_request": round(cpu * 1000 / len(latencies), 3),
        "context_switches_per_request": round(switches / len(latencies), 2),
        "errors": len(errors),
        "error_samples": errors[:3],
    }


# ---- the run ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with tempfile.TemporaryDirectory(prefix="memos-serve-bench-") as scratch:
        db = Path(scratch) / "memos.db"
        bodies = seed_database(db)
        for round_index in range(args.rounds):
            for c in args.concurrency:
                order = ["uvicorn", "http.server", "in_process"]
                random.Random(round_index * 1000 + c).shuffle(order)
                for kind in order:
                    if kind == "in_process":
                        measured = measure_in_process(db, bodies, c, args.requests)
                    else:
                        command = [sys.executable, __file__, "--server", kind, "--db", str(db)]
                        server = ChildProcess.start([*command, "--previous", args.previous])
                        try:
                            measured = measure_http(server, bodies, c, args.requests, args.warmup)
                        finally:
                            server.stop()
                    row = figures(*measured)
                    results.setdefault(kind, {}).setdefault(f"c{c}", []).append(row)
                    rate, p50, p99 = row["requests_per_s"], row["p50_ms"], row["p99_ms"]
                    print(
                        f"round {round_index + 1} {kind:<11} c{c:<3} {rate:>8} req/s"
                        f"  p50 {p50} ms  p99 {p99} ms  cpu {row['cpu_ms_per_request']} ms/req"
                        f"  switches {row['context_switches_per_request']}/req"
                        f"  errors {row['errors']}"
                    )
    previous = results["http.server"]
    return {
        kind: {c: best(rows, previous[c]) for c, rows in per_c.items()}
        for kind, per_c in results.items()
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per level")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--previous", default=PREVIOUS, help="REV:PATH of the previous server")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--server", choices=["uvicorn", "http.server"], help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.server:
        return run_server(args.server, args.db, args.previous)
    started = time.perf_counter()
    results = run(args)
    report = {
        "benchmark": "serve_http",
        "machine": machine_info(load_average=os.getloadavg()),
        "versions": versions("httpx", "uvicorn", "httptools", "uvloop"),
        "code": code_under_test(),
        "previous_server": args.previous,
        "options": {
            "requests": args.requests,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "concurrency": args.concurrency,
            "database": f"{CONVERSATIONS} conversations of one user (engine_scale.py, seed {SEED})",
        },
        "results": results,
    }
    return finish(report, args.out, print_table, time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
