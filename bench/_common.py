"""What every benchmark shares: latency summaries, the report's head and end, and ``serve``."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import select
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import langchain_memos

ROOT = Path(__file__).resolve().parent.parent


def percentile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


_STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "p50": lambda ordered: percentile(ordered, 0.50),
    "p95": lambda ordered: percentile(ordered, 0.95),
    "p99": lambda ordered: percentile(ordered, 0.99),
    "mean": statistics.fmean,
    "min": lambda ordered: ordered[0],
    "max": lambda ordered: ordered[-1],
    "stdev": statistics.stdev,
}


def summary(
    values: Sequence[float],
    *,
    scale: float = 1.0,
    unit: str = "",
    digits: int = 3,
    stats: Sequence[str] = ("n", "p50", "p95", "p99", "mean", "max"),
) -> dict[str, float]:
    """The ``stats`` of ``values * scale``, each rounded to ``digits`` and keyed with the
    ``unit`` suffix (``p50_ms``); ``n`` is the number of values."""
    ordered = sorted(value * scale for value in values)
    return {
        name if name == "n" else name + unit: len(ordered)
        if name == "n"
        else round(_STATISTICS[name](ordered), digits)
        for name in stats
    }


def latency_ms(samples_ns: Sequence[int], *, digits: int = 3) -> dict[str, float]:
    """n, p50, p95, p99, mean and max of latencies given in nanoseconds, in milliseconds."""
    return summary(samples_ns, scale=1e-6, unit="_ms", digits=digits)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git(*args: str) -> str | None:
    executable = shutil.which("git")
    if executable is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fixed git queries, no user input
            [executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def code_under_test() -> dict[str, Any]:
    """Which package was measured: the commit, local edits, and where it was imported from."""
    changes = git("status", "--porcelain", "--", "langchain_memos")
    return {
        "git_commit": git("rev-parse", "--short", "HEAD") or None,
        "package_has_uncommitted_changes": None if changes is None else bool(changes),
        "package_imported_from": str(Path(langchain_memos.__file__).resolve().parent),
    }


def usable_cpus() -> int | None:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def machine_info(**extra: Any) -> dict[str, Any]:
    memory_gb = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        memory_gb = round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1)
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "memory_gb": memory_gb,
        **extra,
    }


def versions(*names: str) -> dict[str, str]:
    return {"sqlite": sqlite3.sqlite_version, **{name: version(name) for name in names}}


def report_head(benchmark: str, packages: Sequence[str], **machine: Any) -> dict[str, Any]:
    """The first keys of every report: which bench, when, on what code, machine and versions."""
    return {
        "benchmark": benchmark,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code": code_under_test(),
        "machine": machine_info(**machine),
        "versions": versions(*packages),
    }


def finish(
    report: dict[str, Any], out: Path, print_table: Callable[[dict[str, Any]], None], elapsed: float
) -> int:
    """The end of every bench: write the JSON report, print its table, say where it went."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    print(f"wrote {out} in {elapsed:.1f} s")
    return 0


def run_in_scratch(
    run: Callable[[Any, Path], dict[str, Any]],
    args: Any,
    print_table: Callable[[dict[str, Any]], None],
) -> int:
    """Run a bench whose databases live in a temporary directory (removed after), then finish."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        report = run(args, Path(work))
    return finish(report, args.out, print_table, time.perf_counter() - started)


# ---- child processes -----------------------------------------------------------------------

START_TIMEOUT = 30.0
TOKEN = "bench-serve-token"  # noqa: S105 - a throwaway token for loopback servers a bench starts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_command(db: str | Path = ":memory:", port: int = 0) -> list[str]:
    """``python -m langchain_memos serve`` on ``db`` and ``port`` (0: a free one)."""
    command = [sys.executable, "-m", "langchain_memos", "serve", "--port", str(port)]
    return [*command, "--db", str(db)]


def start_serve(db: str | Path = ":memory:") -> ChildProcess:
    """``serve`` on ``db`` and a free port, with :data:`TOKEN` (``MEMOS_SERVE_TOKEN``)."""
    return ChildProcess.start(serve_command(db), env={**os.environ, "MEMOS_SERVE_TOKEN": TOKEN})


@dataclass
class ChildProcess:
    """A child process that announced its URL as the last word of its first stdout line."""

    popen: subprocess.Popen[str]
    url: str
    stderr: Any

    @classmethod
    def start(cls, command: list[str], env: dict[str, str] | None = None) -> ChildProcess:
        """Start ``command``; exits the bench with its stderr if it announces no URL in time."""
        stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in stop()
        popen = subprocess.Popen(  # noqa: S603 - this interpreter and fixed arguments
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
        )
        assert popen.stdout is not None
        ready, _, _ = select.select([popen.stdout], [], [], START_TIMEOUT)
        line = popen.stdout.readline() if ready else ""
        process = cls(popen, line.rsplit(" ", 1)[-1].strip(), stderr)
        if not process.url.startswith("http://"):
            notes = process.stop()
            raise SystemExit(f"{' '.join(command[1:])} did not start:\n{notes}")
        return process

    @property
    def port(self) -> int:
        return int(self.url.split("://", 1)[1].split("/", 1)[0].rpartition(":")[2])

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def stop(self) -> str:
        """SIGTERM, as an operator would (then SIGKILL after 30 s); what it wrote to stderr."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        self.stderr.seek(0)
        notes = str(self.stderr.read())
        self.stderr.close()
        return notes
