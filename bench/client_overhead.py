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
import datetime as dt
import gc
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from _common import code_under_test, finish, machine_info, percentile, usable_cpus, versions

from langchain_memos import AsyncMemOSClient, MemOSClient
from langchain_memos.types import SearchMemoryResult

API_PREFIX = "/api/openmem/v1"
SEARCH_PATH = API_PREFIX + "/search/memory"
API_KEY = "bench-key"
TARGET_RATIO = 1.05
RESULTS = Path(__file__).resolve().parent / "results" / "client_overhead.json"

# What the benchmark asks for: a typical recall for one user, in one conversation.
QUERY = "What should I cook for dinner tonight?"
USER_ID = "memos_user_123"
CONVERSATION_ID = "memos_conversation_123"

# The documented example answer of search/memory (shared/memos_api.md 1.5).
SEARCH_RESPONSE: dict[str, Any] = {
    "code": 0,
    "message": "ok",
    "data": {
        "memory_detail_list": [
            {
                "id": "c6c63472-25d3-49ee-b360-9b0702d96781",
                "memory_key": "Spicy Food Preference",
                "memory_value": "User likes spicy food but doesn't like heavy oil dishes, ...",
                "memory_type": "UserMemory",
                "create_time": 1762674694466,
                "conversation_id": "memos_conversation_123",
                "status": "activated",
                "confidence": 0.99,
                "tags": ["Dietary Preference", "Spicy", "Heavy Oil"],
                "update_time": 1762674694423,
                "relativity": 0.00242424,
            }
        ],
        "preference_detail_list": [
            {
                "id": "46d8372d-241a-4ffc-890b-ae13c90d5565",
                "preference_type": "explicit_preference",
                "preference": "User likes spicy food but dislikes heavy oil spicy food.",
                "reasoning": "In the first query, the user explicitly stated ...",
                "create_time": 1762675342352,
                "conversation_id": "memos_conversation_123",
                "status": "activated",
                "update_time": 1762674923302,
            }
        ],
        "tool_memory_detail_list": [],
        "skill_detail_list": [],
        "preference_note": (
            "\n# Note:\nFactual memory is a summary of facts, while preference memory is a "
            "summary of user preferences.\nYour reply must not violate any of the user's "
            "preferences, whether explicit or implicit, and briefly explain why you answered "
            "this way to avoid conflicts.\n"
        ),
    },
}


# ---- the loopback server ---------------------------------------------------------------------
#
# An asyncio Protocol in its own process, answering with precomputed bytes. Chosen over
# ``http.server.ThreadingHTTPServer``: that one starts a thread per connection and parses every
# request with ``email.parser`` (~100 us of server CPU per request, and jittery), while this one
# does a few microseconds of work per request. A fast, constant server is the conservative
# choice: it shrinks the shared part of each round trip, so the ratio shows the client's cost
# rather than hiding it behind the server's. A separate process keeps the server off the GIL of
# the client being measured; with two or more CPUs each side is pinned to its own.

MAX_REQUEST_BYTES = 1 << 20


def _http_response(status: bytes, body: bytes, content_type: bytes = b"application/json") -> bytes:
    head = (
        b"HTTP/1.1 " + status + b"\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: keep-alive\r\n\r\n"
    )
    return head + body


def _encode(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


SEARCH_RESPONSE_BYTES = _encode(SEARCH_RESPONSE)
LAST_REQUEST_PATH = "/__last_search_request__"
_OK = _http_response(b"200 OK", SEARCH_RESPONSE_BYTES)
_NOT_FOUND = _http_response(b"404 Not Found", _encode({"code": 40400, "message": "not found"}))
_SEARCH_LINE = b"POST " + SEARCH_PATH.encode() + b" HTTP/1.1"
_LAST_LINE = b"GET " + LAST_REQUEST_PATH.encode() + b" HTTP/1.1"


class _LoopbackProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive, one request at a time per connection, Content-Length bodies only.

    ``GET /__last_search_request__`` answers with the raw bytes of the latest search request,
    so that the script can compare what the client and the bare caller really sent.
    """

    last_search_request = b""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        transport = self._transport
        assert transport is not None
        self._buffer += data
        if len(self._buffer) > MAX_REQUEST_BYTES:
            transport.close()
            return
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self._buffer[:end]).split(b"\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            total = end + 4 + length
            if len(self._buffer) < total:
                return
            if lines[0] == _SEARCH_LINE:
                _LoopbackProtocol.last_search_request = bytes(self._buffer[:total])
                transport.write(_OK)
            elif lines[0] == _LAST_LINE:
                raw = _LoopbackProtocol.last_search_request
                transport.write(_http_response(b"200 OK", raw, b"application/octet-stream"))
            else:
                transport.write(_NOT_FOUND)
            del self._buffer[:total]


def _pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def _serve(ready: Connection, cpu: int | None) -> None:
    """The server process: report the port on ``ready``, then serve until terminated."""
    _pin(cpu)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_LoopbackProtocol, "127.0.0.1", 0, backlog=16)
        ready.send(server.sockets[0].getsockname()[1])
        ready.close()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# ---- measurement -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    n: int
    p50_us: float
    p95_us: float
    mean_us: float
    min_us: float
    max_us: float
    stdev_us: float


def summarise(samples_ns: Sequence[int]) -> Summary:
    us = sorted(value / 1000 for value in samples_ns)
    return Summary(
        n=len(us),
        p50_us=round(percentile(us, 0.50), 2),
        p95_us=round(percentile(us, 0.95), 2),
        mean_us=round(statistics.fmean(us), 2),
        min_us=round(us[0], 2),
        max_us=round(us[-1], 2),
        stdev_us=round(statistics.stdev(us), 2),
    )


def _block_schedule(names: Sequence[str], n: int, block: int, rng: random.Random) -> list[str]:
    """Blocks of ``block`` calls per series, the series shuffled anew every round."""
    schedule: list[str] = []
    rounds = -(-n // block)
    for _ in range(rounds):
        order = list(names)
        rng.shuffle(order)
        schedule.extend(order)
    return schedule


def run_sync(
    calls: dict[str, Callable[[], object]], *, n: int, warmup: int, block: int, rng: random.Random
) -> dict[str, list[int]]:
    samples: dict[str, list[int]] = {name: [] for name in calls}
    for _ in range(warmup):
        for call in calls.values():
            call()
    gc.collect()
    clock = time.perf_counter_ns
    for name in _block_schedule(list(calls), n, block, rng):
        call, out = calls[name], samples[name]
        for _ in range(min(block, n - len(out))):
            started = clock()
            call()
            out.append(clock() - started)
    return samples


async def run_async(
    calls: dict[str, Callable[[], Awaitable[object]]],
    *,
    n: int,
    warmup: int,
    block: int,
    rng: random.Random,
) -> dict[str, list[int]]:
    samples: dict[str, list[int]] = {name: [] for name in calls}
    for _ in range(warmup):
        for call in calls.values():
            await call()
    gc.collect()
    clock = time.perf_counter_ns
    for name in _block_schedule(list(calls), n, block, rng):
        call, out = calls[name], samples[name]
        for _ in range(min(block, n - len(out))):
            started = clock()
            await call()
            out.append(clock() - started)
    return samples


def bootstrap_ratio_ci(
    numerator: Sequence[int], denominator: Sequence[int], *, rounds: int, rng: random.Random
) -> tuple[float, float] | None:
    """95% bootstrap interval of median(numerator) / median(denominator)."""
    if rounds <= 0:
        return None
    ratios = sorted(
        statistics.median(rng.choices(numerator, k=len(numerator)))
        / statistics.median(rng.choices(denominator, k=len(denominator)))
        for _ in range(rounds)
    )
    return round(percentile(ratios, 0.025), 4), round(percentile(ratios, 0.975), 4)


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
    return _encode({"query": QUERY, "user_id": USER_ID, "conversation_id": CONVERSATION_ID})


WireRequest = tuple[bytes, list[tuple[bytes, bytes]], bytes]


def _wire_view(raw: bytes) -> WireRequest:
    """Request line, headers (lower-cased names, sorted: order carries no meaning) and body."""
    head, _, body = raw.partition(b"\r\n\r\n")
    line, *fields = head.split(b"\r\n")
    headers = []
    for field in fields:
        name, _, value = field.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    return line, sorted(headers), body


def last_request(port: int) -> WireRequest:
    answer = httpx.get(f"http://127.0.0.1:{port}{LAST_REQUEST_PATH}")
    answer.raise_for_status()
    return _wire_view(answer.content)


async def alast_request(port: int) -> WireRequest:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"http://127.0.0.1:{port}{LAST_REQUEST_PATH}")
    answer.raise_for_status()
    return _wire_view(answer.content)


def check_same_request(sent: dict[str, WireRequest]) -> None:
    """Fail unless every series put the same request on the wire (seen by the server)."""
    reference_name, reference = next(iter(sent.items()))
    for name, request in sent.items():
        if request != reference:
            raise SystemExit(
                f"{name} and {reference_name} sent different requests:\n{request}\n{reference}"
            )


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


def ratios(
    samples: dict[str, list[int]], stats: dict[str, Summary], *, bootstrap: int, rng: random.Random
) -> dict[str, Any]:
    client = stats["client"]
    out: dict[str, Any] = {}
    for baseline in ("bare_post", "bare_post_json"):
        base = stats[baseline]
        out[f"vs_{baseline}"] = {
            "p50": round(client.p50_us / base.p50_us, 4),
            "p95": round(client.p95_us / base.p95_us, 4),
            "mean": round(client.mean_us / base.mean_us, 4),
            "p50_overhead_us": round(client.p50_us - base.p50_us, 2),
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
    for name, summary in report["series"].items():
        print(
            f"{name:<22}{summary['p50_us']:>10.1f}{summary['p95_us']:>10.1f}"
            f"{summary['mean_us']:>10.1f}"
        )
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


def _choose_cpus(no_pin: bool) -> tuple[int, int] | None:
    if no_pin or not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else None


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    usable = usable_cpus()  # before pinning narrows it
    pinned = _choose_cpus(args.no_pin)
    context = multiprocessing.get_context("spawn")
    ready, ready_child = context.Pipe(duplex=False)
    server = context.Process(
        target=_serve, args=(ready_child, pinned[1] if pinned else None), daemon=True
    )
    server.start()
    ready_child.close()
    started = time.perf_counter()
    try:
        if not ready.poll(30):
            raise SystemExit("the loopback server did not start within 30 s")
        port: int = ready.recv()
        _pin(pinned[0] if pinned else None)
        gc.collect()
        gc.freeze()  # setup objects out of the collector's way: less noise for every series
        sync_samples, sync_sent = measure_sync(
            port, n=args.n, warmup=args.warmup, block=args.block, rng=rng
        )
        async_samples, async_sent = asyncio.run(
            measure_async(port, n=args.n, warmup=args.warmup, block=args.block, rng=rng)
        )
    finally:
        server.terminate()
        server.join(10)
        if server.is_alive():
            server.kill()
            server.join(10)
    elapsed = time.perf_counter() - started
    sent = {**sync_sent, **async_sent}
    check_same_request(sent)
    request_line, request_headers, request_body = next(iter(sent.values()))

    series: dict[str, Summary] = {}
    report_ratios: dict[str, Any] = {}
    for mode, samples in (("sync", sync_samples), ("async", async_samples)):
        stats = {name: summarise(values) for name, values in samples.items()}
        series.update({f"{mode}_{name}": summary for name, summary in stats.items()})
        report_ratios[mode] = ratios(samples, stats, bootstrap=args.bootstrap, rng=rng)
    report: dict[str, Any] = {
        "benchmark": "client_overhead",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code": code_under_test(),
        "machine": machine_info(
            usable_cpus=usable,
            pinned_client_cpu=pinned[0] if pinned else None,
            pinned_server_cpu=pinned[1] if pinned else None,
        ),
        "versions": versions(
            "httpx", "httpcore", "h11", "anyio", "pydantic", "pydantic-core", "langchain-memos"
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
        "series": {name: asdict(summary) for name, summary in series.items()},
        "ratios": report_ratios,
    }
    return finish(report, args.out, print_table, elapsed)


if __name__ == "__main__":
    sys.exit(main())
