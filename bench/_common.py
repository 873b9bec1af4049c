"""What every benchmark reports about itself: percentiles, the machine and the code it measured."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
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
