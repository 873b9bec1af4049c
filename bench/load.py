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
import contextlib
import datetime as dt
import gc
import json
import logging
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from _common import (
    ChildProcess,
    code_under_test,
    finish,
    latency_ms,
    machine_info,
    serve_command,
    versions,
)
from _conversations import Vocabulary, conversation, question

from langchain_memos import AsyncMemOSClient
from langchain_memos._constants import DEFAULT_CONNECTION_LIMITS, DEFAULT_TIMEOUT
from langchain_memos.types import MessageInput

T = TypeVar("T")

RESULTS = Path(__file__).resolve().parent / "results" / "load.json"
TOKEN = "load-bench-token"  # noqa: S105 - the loopback server's own token, made up here
ADDS_PER_CONVERSATION = 4
TURNS_PER_ADD = 2
SAMPLE_SECONDS = 0.01
TCP_EVERY = 25


# ---- the server ------------------------------------------------------------------------------


@dataclass
class Server:
    process: ChildProcess
    base_url: str
    port: int


def new_client(base_url: str) -> AsyncMemOSClient:
    """The client under load: the package's defaults, pool included."""
    return AsyncMemOSClient(api_key=TOKEN, base_url=base_url)


def start_server(db: Path) -> Server:
    """``python -m langchain_memos serve`` on ``db`` and a free port, with the bench's token."""
    process = ChildProcess.start(serve_command(db), env={**os.environ, "MEMOS_SERVE_TOKEN": TOKEN})
    match = re.search(r"http://127\.0\.0\.1:(\d+)/api/openmem/v1", process.url)
    if match is None:
        raise SystemExit(f"serve announced an unexpected URL: {process.url!r} {process.stop()!r}")
    return Server(process, process.url, int(match.group(1)))


def stop_server(server: Server) -> dict[str, Any]:
    """SIGTERM, as an operator would; it finishes requests in progress and closes the database."""
    errors = server.process.stop()
    return {"exit_code": server.process.returncode, "stderr": errors.strip().splitlines()}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_status(pid: int) -> dict[str, int]:
    """Threads, current and peak resident memory (kB) of a process, from /proc/PID/status."""
    out: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name in ("Threads", "VmRSS", "VmHWM"):
            out[name] = int(value.split()[0])
    return out


# ---- sockets, descriptors, connection events -------------------------------------------------


def tcp_table() -> str:
    parts = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            parts.append(Path(name).read_text())
    return "".join(parts)


class SocketCounter:
    """Reads /proc/net/tcp for the connections to one port.

    Lines read ``sl: LOCAL_IP:PORT REMOTE_IP:PORT STATE ... inode ...``, ports and states in hex
    (``01`` ESTABLISHED, ``06`` TIME_WAIT). The file is read in several chunks while sockets come
    and go, so a line can appear twice: connections are counted by inode, and only those whose
    inode is a descriptor of this process.
    """

    def __init__(self, port: int) -> None:
        p = f"{port:04X}"
        # The client's end: its remote port is the server's; the 10th field is the inode.
        self._client_established = re.compile(
            rf":[0-9A-F]{{4}} [0-9A-F]+:{p} 01 (?:\S+ +){{5}}(\d+) "
        )
        self._time_wait = re.compile(
            rf"([0-9A-F]+:{p} [0-9A-F]+:[0-9A-F]{{4}}|[0-9A-F]+:[0-9A-F]{{4}} [0-9A-F]+:{p}) 06 "
        )

    def client_established(self, table: str, own_sockets: set[str]) -> int:
        return len(set(self._client_established.findall(table)) & own_sockets)

    def time_wait(self, table: str) -> int:
        """Sockets in TIME_WAIT on either end, told apart by their address pair (no inode)."""
        return len(set(self._time_wait.findall(table)))


def open_fds() -> tuple[int, set[str]]:
    """The number of file descriptors of this process, and the inodes of its sockets."""
    total = 0
    sockets = set()
    for name in os.listdir("/proc/self/fd"):
        total += 1
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            sockets.add(target[8:-1])
    return total, sockets


@dataclass
class Peaks:
    client_sockets: int = 0
    established: int = 0
    fds: int = 0
    server_threads: int = 0
    server_rss_kb: int = 0
    samples: int = 0
    tcp_samples: int = 0


class Sampler(threading.Thread):
    """Samples this process's descriptors and the server's threads every ``SAMPLE_SECONDS``.

    /proc/net/tcp costs about 15 ms of kernel time per read on the machine this was written on
    (the kernel walks its whole socket hash table), so it is read only every ``TCP_EVERY``
    samples, as a cross-check that the sockets counted are connections to the server.
    """

    def __init__(self, counter: SocketCounter, server_pid: int, baseline: set[str]) -> None:
        super().__init__(name="load-sampler", daemon=True)
        self._counter = counter
        self._pid = server_pid
        self._baseline = baseline  # sockets that are not the client's (asyncio's self-pipe)
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._peaks = Peaks()
        self._ticks = 0

    def run(self) -> None:
        while not self._halt.wait(SAMPLE_SECONDS):
            self._ticks += 1
            self.sample(tcp=self._ticks % TCP_EVERY == 0)

    def sample(self, *, tcp: bool) -> None:
        fds, own_sockets = open_fds()
        established = self._counter.client_established(tcp_table(), own_sockets) if tcp else 0
        server = process_status(self._pid)
        with self._lock:
            peaks = self._peaks
            peaks.client_sockets = max(peaks.client_sockets, len(own_sockets - self._baseline))
            peaks.established = max(peaks.established, established)
            peaks.fds = max(peaks.fds, fds)
            peaks.server_threads = max(peaks.server_threads, server.get("Threads", 0))
            peaks.server_rss_kb = max(peaks.server_rss_kb, server.get("VmRSS", 0))
            peaks.samples += 1
            peaks.tcp_samples += tcp

    def take(self) -> Peaks:
        """The peaks since the last call, and start afresh."""
        self.sample(tcp=False)
        with self._lock:
            peaks, self._peaks = self._peaks, Peaks()
        return peaks

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join()


class EventCounter(logging.Handler):
    """Counts log records whose message starts with one of ``prefixes``.

    httpcore logs ``connect_tcp.complete`` and ``close.started`` per connection on
    ``httpcore.connection`` when it is at DEBUG; the client logs ``retrying ...`` on
    ``langchain_memos``. Records go nowhere else (no propagation). The other httpcore loggers stay
    quiet; the client's one DEBUG record per request is made and dropped (a few microseconds).
    """

    def __init__(self, logger_name: str, prefixes: Sequence[str]) -> None:
        super().__init__(logging.DEBUG)
        self.prefixes = tuple(prefixes)
        self.counts: Counter[str] = Counter()
        logger = logging.getLogger(logger_name)
        logger.addHandler(self)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        for prefix in self.prefixes:
            if message.startswith(prefix):
                self.counts[prefix] += 1

    def take(self) -> Counter[str]:
        counts, self.counts = self.counts, Counter()
        return counts


# ---- the workload ------------------------------------------------------------------------------


def user_of(k: int, users: int) -> str:
    return f"load-user-{k % users:02d}"


@dataclass(frozen=True)
class Add:
    user_id: str
    conversation_id: str
    messages: list[MessageInput]


@dataclass(frozen=True)
class Search:
    user_id: str
    query: str
    conversation_id: str | None


def seed_conversation_id(k: int) -> str:
    return f"seed-{k:04d}"


def make_searches(
    vocabulary: Vocabulary, seed: int, count: int, seeded: int, users: int, rng: random.Random
) -> list[Search]:
    searches = []
    for index in range(count):
        k = rng.randrange(seeded)
        searches.append(
            Search(
                user_id=user_of(k, users),
                query=question(vocabulary, seed, k, index),
                conversation_id=seed_conversation_id(k) if index % 2 else None,
            )
        )
    return searches


def make_adds(
    vocabulary: Vocabulary, seed: int, calls: int, first_k: int, users: int, label: str
) -> list[Add]:
    """``calls`` adds: each new conversation gets ``ADDS_PER_CONVERSATION`` calls of
    ``TURNS_PER_ADD`` turns, made from the turns of synthetic conversation ``k``."""
    adds: list[Add] = []
    conversations = -(-calls // ADDS_PER_CONVERSATION)
    for j in range(conversations):
        k = first_k + j
        _, turns = conversation(vocabulary, seed, k)
        for part in range(ADDS_PER_CONVERSATION):
            if len(adds) == calls:
                break
            chunk = turns[part * TURNS_PER_ADD : (part + 1) * TURNS_PER_ADD]
            adds.append(Add(user_of(k, users), f"{label}-{j:04d}", chunk))
    return adds


# ---- one phase ---------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    round: int
    calls: int
    wall_s: float
    latencies_ns: dict[str, list[int]]
    errors: Counter[str]
    error_samples: list[str]
    peaks: Peaks
    connections_opened: int
    connections_closed: int
    retries: int
    time_wait_after: int
    fds_after: int
    client_cpu_s: float
    server_cpu_s: float
    add_statuses: Counter[str] = field(default_factory=Counter)
    task_ids: list[str] = field(default_factory=list)
    searches_with_facts: int = 0
    searches: int = 0


async def run_phase(
    client: AsyncMemOSClient,
    name: str,
    round_index: int,
    work: Sequence[Search | Add],
    *,
    sampler: Sampler,
    connections: EventCounter,
    retries: EventCounter,
    sockets: SocketCounter,
    server_pid: int,
    serial: bool = False,
) -> PhaseResult:
    latencies: dict[str, list[int]] = {"search": [], "add": []}
    errors: Counter[str] = Counter()
    error_samples: list[str] = []
    statuses: Counter[str] = Counter()
    task_ids: list[str] = []
    with_facts = 0
    clock = time.perf_counter_ns

    async def one(item: Search | Add) -> None:
        nonlocal with_facts
        kind = "search" if isinstance(item, Search) else "add"
        started = clock()
        try:
            if isinstance(item, Search):
                found = await client.search_memory(
                    item.query, user_id=item.user_id, conversation_id=item.conversation_id
                )
                with_facts += bool(found.memory_detail_list)
            else:
                task = await client.add_message(
                    item.messages, user_id=item.user_id, conversation_id=item.conversation_id
                )
                statuses[str(task.status)] += 1
                if task.task_id:
                    task_ids.append(task.task_id)
        except Exception as error:  # counted by type: the figure this benchmark is about
            errors[type(error).__name__] += 1
            if len(error_samples) < 5:
                error_samples.append(f"{type(error).__name__}: {error}")
        finally:
            latencies[kind].append(clock() - started)

    sampler.take()
    connections.take()
    retries.take()
    gc.collect()
    server_cpu = cpu_seconds(server_pid)
    client_cpu = time.process_time()
    started = time.perf_counter()
    if serial:
        for item in work:
            await one(item)
    else:
        await asyncio.gather(*(one(item) for item in work))
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - client_cpu
    server_cpu = cpu_seconds(server_pid) - server_cpu
    events = connections.take()
    return PhaseResult(
        name=name,
        round=round_index,
        calls=len(work),
        wall_s=wall,
        latencies_ns={kind: values for kind, values in latencies.items() if values},
        errors=errors,
        error_samples=error_samples,
        peaks=sampler.take(),
        connections_opened=events["connect_tcp.complete"],
        connections_closed=events["close.started"],
        retries=sum(retries.take().values()),
        time_wait_after=sockets.time_wait(tcp_table()),
        fds_after=open_fds()[0],
        client_cpu_s=client_cpu,
        server_cpu_s=server_cpu,
        add_statuses=statuses,
        task_ids=task_ids,
        searches_with_facts=with_facts,
        searches=sum(isinstance(item, Search) for item in work),
    )


# ---- checks: are the writes really there? --------------------------------------------------------


async def bounded(calls: Iterable[Awaitable[T]], limit: int) -> list[T | BaseException]:
    """Await ``calls`` (coroutines not yet started) at most ``limit`` at a time."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return await asyncio.gather(*(one(call) for call in calls), return_exceptions=True)


def expected_turns(adds: Sequence[Add]) -> dict[tuple[str, str], Counter[tuple[str, str]]]:
    expected: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
    for add in adds:
        turns = expected.setdefault((add.user_id, add.conversation_id), Counter())
        turns.update((str(m["role"]), str(m["content"])) for m in add.messages)
    return expected


async def check_messages(
    client: AsyncMemOSClient, adds: Sequence[Add], limit: int
) -> dict[str, Any]:
    """``get_message`` for every added conversation: exactly the turns sent, none lost or doubled.

    Four adds of one conversation run concurrently, so their order is not checked, only the
    multiset of (role, content)."""
    expected = expected_turns(adds)
    keys = list(expected)
    answers = await bounded(
        (
            client.get_message(user_id=key[0], conversation_id=key[1], message_limit_number=50)
            for key in keys
        ),
        limit,
    )
    mismatched, failed = [], Counter[str]()
    for key, answer in zip(keys, answers, strict=True):
        if isinstance(answer, BaseException):
            failed[type(answer).__name__] += 1
            continue
        got = Counter((str(m.role), str(m.content)) for m in answer.message_detail_list)
        if got != expected[key]:
            mismatched.append(key[1])
    return {
        "conversations": len(keys),
        "messages_expected": sum(sum(c.values()) for c in expected.values()),
        "conversations_exact": len(keys) - len(mismatched) - sum(failed.values()),
        "mismatched": mismatched[:10],
        "failed": dict(failed),
    }


async def check_tasks(
    client: AsyncMemOSClient, task_ids: Sequence[str], sample: int, limit: int, rng: random.Random
) -> dict[str, Any]:
    chosen = rng.sample(list(task_ids), min(sample, len(task_ids)))
    answers = await bounded((client.get_status(task_id) for task_id in chosen), limit)
    statuses = Counter(
        type(a).__name__ if isinstance(a, BaseException) else str(a.status) for a in answers
    )
    return {"sampled": len(chosen), "statuses": dict(statuses)}


def check_database(db: Path, adds: Sequence[Add], seeded_messages: int) -> dict[str, Any]:
    """Read the file the server wrote, after it stopped: every message on disk, none doubled."""
    expected = expected_turns(adds)
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT user_id, conversation_id, body FROM messages").fetchall()
        tasks = connection.execute("SELECT count(*) FROM tasks").fetchone()[0]
        memories = connection.execute("SELECT count(*) FROM memories").fetchone()[0]
    finally:
        connection.close()
    stored: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
    for user_id, conversation_id, body in rows:
        if (user_id, conversation_id) in expected:
            message = json.loads(body)
            stored.setdefault((user_id, conversation_id), Counter())[
                (str(message["role"]), str(message["content"]))
            ] += 1
    exact = sum(stored.get(key) == turns for key, turns in expected.items())
    added = sum(sum(c.values()) for c in expected.values())
    return {
        "messages_in_file": len(rows),
        "messages_expected": seeded_messages + added,
        "added_conversations_exact": exact,
        "added_conversations": len(expected),
        "tasks_in_file": tasks,
        "memories_in_file": memories,
        "db_mb": round(db.stat().st_size / 1_048_576, 2),
    }


# ---- figures -------------------------------------------------------------------------------------


def phase_record(result: PhaseResult) -> dict[str, Any]:
    return {
        "phase": result.name,
        "round": result.round,
        "calls": result.calls,
        "wall_s": round(result.wall_s, 3),
        "calls_per_s": round(result.calls / result.wall_s, 1),
        "latency": {
            kind: latency_ms(values, digits=1) for kind, values in result.latencies_ns.items()
        },
        "errors": dict(result.errors),
        "error_samples": result.error_samples,
        "retries": result.retries,
        "peak_client_sockets": result.peaks.client_sockets,
        "peak_established_client_to_server": result.peaks.established,
        "connections_opened": result.connections_opened,
        "connections_closed": result.connections_closed,
        "time_wait_to_server_port_after": result.time_wait_after,
        "peak_fds": result.peaks.fds,
        "fds_after": result.fds_after,
        "client_cpu_s": round(result.client_cpu_s, 2),
        "server_cpu_s": round(result.server_cpu_s, 2),
        "server_peak_threads": result.peaks.server_threads,
        "server_peak_rss_mb": round(result.peaks.server_rss_kb / 1024, 1),
        "samples": result.peaks.samples,
        "tcp_samples": result.peaks.tcp_samples,
        "add_statuses": dict(result.add_statuses),
        "searches_with_facts": result.searches_with_facts,
        "searches": result.searches,
    }


def summarise(results: Sequence[PhaseResult]) -> dict[str, Any]:
    """Per phase, over its rounds: latencies pooled, throughput per round, worst socket figures."""
    out: dict[str, Any] = {}
    for name in dict.fromkeys(r.name for r in results):
        rounds = [r for r in results if r.name == name]
        pooled: dict[str, list[int]] = {}
        for r in rounds:
            for kind, values in r.latencies_ns.items():
                pooled.setdefault(kind, []).extend(values)
        errors: Counter[str] = Counter()
        for r in rounds:
            errors.update(r.errors)
        rates = [r.calls / r.wall_s for r in rounds]
        out[name] = {
            "rounds": len(rounds),
            "calls_per_round": rounds[0].calls,
            "calls_per_s_median": round(statistics.median(rates), 1),
            "calls_per_s_range": [round(min(rates), 1), round(max(rates), 1)],
            "latency": {kind: latency_ms(values, digits=1) for kind, values in pooled.items()},
            "errors": dict(errors),
            "retries": sum(r.retries for r in rounds),
            "peak_client_sockets": max(r.peaks.client_sockets for r in rounds),
            "peak_established_client_to_server": max(r.peaks.established for r in rounds),
            "connections_opened_per_round": [r.connections_opened for r in rounds],
            "client_cpu_s_per_call": round(
                sum(r.client_cpu_s for r in rounds) / sum(r.calls for r in rounds), 5
            ),
            "server_cpu_s_per_call": round(
                sum(r.server_cpu_s for r in rounds) / sum(r.calls for r in rounds), 5
            ),
            "server_peak_threads": max(r.peaks.server_threads for r in rounds),
        }
    return out


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


# ---- main --------------------------------------------------------------------------------------


def ephemeral_ports() -> int | None:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except (OSError, ValueError):
        return None
    return int(high) - int(low) + 1


async def measure(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    rng = random.Random(args.seed)
    vocabulary = Vocabulary(args.seed)
    sockets = SocketCounter(server.port)
    connections = EventCounter("httpcore.connection", ("connect_tcp.complete", "close.started"))
    retries = EventCounter("langchain_memos", ("retrying",))
    fds_before, baseline_sockets = open_fds()
    sampler = Sampler(sockets, server.process.pid, baseline_sockets)
    client = new_client(server.base_url)
    try:
        # Seed: conversation k belongs to user k % users, one add per conversation.
        seed_started = time.perf_counter()
        seeds = [
            Add(
                user_of(k, args.users),
                seed_conversation_id(k),
                conversation(vocabulary, args.seed, k)[1],
            )
            for k in range(args.seed_conversations)
        ]
        seeded = await bounded(
            (
                client.add_message(
                    add.messages, user_id=add.user_id, conversation_id=add.conversation_id
                )
                for add in seeds
            ),
            args.check_concurrency,
        )
        failed = [answer for answer in seeded if isinstance(answer, BaseException)]
        if failed:
            raise SystemExit(f"seeding failed: {failed[0]!r}")
        seeded_messages = sum(len(add.messages) for add in seeds)
        seed_seconds = time.perf_counter() - seed_started
        sampler.start()
        results: list[PhaseResult] = []
        all_adds: list[Add] = []
        next_k = args.seed_conversations
        for round_index in range(args.rounds):
            searches = make_searches(
                vocabulary, args.seed, args.calls, args.seed_conversations, args.users, rng
            )
            adds = make_adds(
                vocabulary, args.seed, args.calls, next_k, args.users, f"r{round_index}-add"
            )
            next_k += -(-args.calls // ADDS_PER_CONVERSATION)
            half = args.calls // 2
            mixed_adds = make_adds(
                vocabulary, args.seed, half, next_k, args.users, f"r{round_index}-mixed"
            )
            next_k += -(-half // ADDS_PER_CONVERSATION)
            mixed: list[Search | Add] = [*searches[: args.calls - half], *mixed_adds]
            rng.shuffle(mixed)
            rng.shuffle(adds)  # a conversation's four adds are not sent next to each other
            phases: list[tuple[str, Sequence[Search | Add]]] = [
                ("serial", searches[-args.serial :] if args.serial else []),
                ("search", searches),
                ("add", adds),
            ]
            if not args.no_mixed:
                phases.append(("mixed", mixed))
                all_adds.extend(mixed_adds)
            all_adds.extend(adds)
            for name, work in phases:
                if not work:
                    continue
                result = await run_phase(
                    client,
                    name,
                    round_index,
                    work,
                    sampler=sampler,
                    connections=connections,
                    retries=retries,
                    sockets=sockets,
                    server_pid=server.process.pid,
                    serial=name == "serial",
                )
                results.append(result)
                record = phase_record(result)
                errors = sum(result.errors.values())
                print(
                    f"round {round_index} {name:<6} {record['calls_per_s']:>7.0f} calls/s, "
                    f"{errors} errors, peak {result.peaks.client_sockets} connections, "
                    f"{result.connections_opened} opened",
                    flush=True,
                )
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
        sampler.stop()
    overall = sampler.take()
    return {
        "results": results,
        "all_adds": all_adds,
        "seeded_messages": seeded_messages,
        "seed_seconds": seed_seconds,
        "checks": checks,
        "fds": {
            "before_client": fds_before,
            "after_phases_client_open": fds_open,
            "after_close": open_fds()[0],
            "peak": max([r.peaks.fds for r in results] + [overall.fds]),
        },
        "time_wait_at_end": sockets.time_wait(tcp_table()),
        "server_status_end": process_status(server.process.pid),
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
        server = start_server(db)
        try:
            run = asyncio.run(measure(args, server))
        finally:
            stopped = stop_server(server)
        run["checks"]["database"] = check_database(db, run["all_adds"], run["seeded_messages"])
    elapsed = time.perf_counter() - started
    results: list[PhaseResult] = run["results"]
    limits = DEFAULT_CONNECTION_LIMITS
    report: dict[str, Any] = {
        "benchmark": "load",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code": code_under_test(),
        "machine": machine_info(
            load_average_1_5_15_before=[round(v, 2) for v in load_before],
            load_average_1_5_15_after=[round(v, 2) for v in os.getloadavg()],
        ),
        "versions": versions("httpx", "httpcore", "h11", "anyio", "pydantic", "langchain-memos"),
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
