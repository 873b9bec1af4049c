"""What a bench reads from /proc about a process and its sockets while it runs (Linux only)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.01
TCP_EVERY = 25


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


def ephemeral_ports() -> int | None:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    except (OSError, ValueError):
        return None
    return int(high) - int(low) + 1


@dataclass
class Meters:
    """Everything that watches a run against one server: its sockets, the client's connection
    events and retries (from their log records), and the sampler of descriptors and threads."""

    server_pid: int
    sockets: SocketCounter
    connections: EventCounter
    retries: EventCounter
    sampler: Sampler
    fds_before: int

    @classmethod
    def start(cls, server_port: int, server_pid: int) -> Meters:
        """Meters for the server on ``server_port``; the sampler is made, not started."""
        sockets = SocketCounter(server_port)
        connections = EventCounter("httpcore.connection", ("connect_tcp.complete", "close.started"))
        retries = EventCounter("langchain_memos", ("retrying",))
        fds_before, baseline_sockets = open_fds()
        sampler = Sampler(sockets, server_pid, baseline_sockets)
        return cls(server_pid, sockets, connections, retries, sampler, fds_before)
