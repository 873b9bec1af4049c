"""MemOSStore against langgraph's InMemoryStore: put / get / search latency, side by side.

Three stores, one run: ``InMemoryStore`` (the reference, a dict in this process), ``MemOSStore``
on the embedded engine in process (``MemOSClient(embedded=...)``), and ``MemOSStore`` over HTTP
against ``python -m langchain_memos serve`` in a child process. Each holds the same ``--items``
records in ``("memories", "u1")`` first; then, in shuffled rounds that take the stores in turn,
it times ``put`` of a new key, ``put`` over an existing key (an update), ``get``, ``search`` with
a query, and ``search`` without one (a listing page of 10). It also counts the MemOS requests
each operation costs (on the embedded engine), and writes everything to ``results/store.json``.

    python bench/store.py [--items 300] [--rounds 5] [--per-round 40]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import ChildProcess, finish, latency_ms, machine_info, serve_command, versions
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from langchain_memos import MemOSClient, MemOSStore
from langchain_memos.embedded import EmbeddedEngine

NS = ("memories", "u1")
OPERATIONS = ("put_new", "put_update", "get", "search_query", "search_list")
SUBJECTS = ["green tea", "aisle seats", "the cello", "hiking", "Nanjing", "jazz", "sushi", "chess"]
VERBS = ["likes", "often talks about", "is learning", "avoids", "plans a trip around", "collects"]
WHEN = ["on weekends", "every morning", "since 2019", "with the kids", "after work", "in winter"]


class CountingEngine(EmbeddedEngine):
    """The embedded engine, counting the requests it answers by path."""

    def __init__(self) -> None:
        super().__init__(":memory:")
        self.requests: Counter[str] = Counter()

    def handle(self, method: str, path: str, body: bytes, **kwargs: Any) -> tuple[int, bytes]:
        self.requests[path.rsplit("/openmem/v1", 1)[-1]] += 1
        return super().handle(method, path, body, **kwargs)


def sentence(rng: random.Random) -> str:
    return f"The user {rng.choice(VERBS)} {rng.choice(SUBJECTS)} {rng.choice(WHEN)}."


def operation(
    name: str, store: BaseStore, rng: random.Random, number: int, items: int
) -> Callable[[], Any]:
    """One call of ``name`` on ``store``, with its arguments drawn before the clock starts."""
    if name == "put_new":
        key, value = f"new-{number}", {"content": sentence(rng), "kind": "note"}
        return lambda: store.put(NS, key, value)
    if name == "put_update":
        key, value = f"item-{rng.randrange(items)}", {"content": sentence(rng), "kind": "note"}
        return lambda: store.put(NS, key, value)
    if name == "get":
        key = f"item-{rng.randrange(items)}"
        return lambda: store.get(NS, key)
    if name == "search_query":
        query = f"{rng.choice(SUBJECTS)} {rng.choice(WHEN)}"
        return lambda: store.search(NS, query=query, limit=10)
    return lambda: store.search(NS, limit=10)


def fill(store: BaseStore, seed: int, items: int) -> float:
    rng = random.Random(seed)
    started = time.perf_counter()
    for number in range(items):
        store.put(NS, f"item-{number}", {"content": sentence(rng), "kind": "note"})
    return time.perf_counter() - started


def requests_per_operation(
    engine: CountingEngine, store: MemOSStore, items: int
) -> dict[str, dict[str, int]]:
    """The MemOS requests one operation of each kind sends (after the fill)."""
    rng = random.Random(7)
    counts = {}
    for name in OPERATIONS:
        engine.requests.clear()
        operation(name, store, rng, 10_000, items)()
        counts[name] = dict(sorted(engine.requests.items()))
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--items", type=int, default=300, help="records in each store first")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=40, help="calls per op, store, round")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results/store.json")
    args = parser.parse_args()
    started = time.perf_counter()

    engine = CountingEngine()
    server = ChildProcess.start(serve_command())
    http_client = MemOSClient(base_url=server.url)
    stores: dict[str, BaseStore] = {
        "InMemoryStore": InMemoryStore(),
        "MemOSStore (embedded)": MemOSStore(MemOSClient(embedded=engine), user=1),
        "MemOSStore (serve, HTTP)": MemOSStore(http_client, user=1),
    }
    try:
        fills = {
            name: round(fill(store, args.seed, args.items), 3) for name, store in stores.items()
        }
        embedded = stores["MemOSStore (embedded)"]
        assert isinstance(embedded, MemOSStore)
        counts = requests_per_operation(engine, embedded, args.items)
        samples: dict[str, dict[str, list[int]]] = {
            name: {op: [] for op in OPERATIONS} for name in stores
        }
        rng = random.Random(args.seed)
        number = 0
        for _ in range(args.rounds):
            blocks = [(name, op) for name in stores for op in OPERATIONS]
            rng.shuffle(blocks)
            for name, op in blocks:
                for _ in range(args.per_round):
                    number += 1
                    call = operation(op, stores[name], rng, number, args.items)
                    begin = time.perf_counter_ns()
                    call()
                    samples[name][op].append(time.perf_counter_ns() - begin)
    finally:
        http_client.close()
        server.stop()

    report = {
        "benchmark": "store",
        "description": __doc__.split("\n\n", 1)[1].split("\n\n", 1)[0].replace("\n", " "),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine_info(),
        "versions": versions("langgraph", "httpx", "uvicorn"),
        "fill_seconds": fills,
        "memos_requests_per_operation": counts,
        "latency": {
            name: {op: latency_ms(values) for op, values in ops.items()}
            for name, ops in samples.items()
        },
    }
    return finish(report, args.out, print_table, time.perf_counter() - started)


def print_table(report: dict[str, Any]) -> None:
    latency = report["latency"]
    names = list(latency)
    print(f"{'operation':<14}" + "".join(f"{name:>28}" for name in names))
    for op in OPERATIONS:
        cells = [
            f"{latency[name][op]['p50_ms']:>10.3f} / {latency[name][op]['p95_ms']:>9.3f} ms"
            for name in names
        ]
        print(f"{op:<14}" + "".join(f"{cell:>28}" for cell in cells))
    print("(p50 / p95)")
    for op, paths in report["memos_requests_per_operation"].items():
        print(f"MemOS requests for {op}: {paths}")


if __name__ == "__main__":
    raise SystemExit(main())
