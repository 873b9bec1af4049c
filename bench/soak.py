"""Soak: SIGKILL an agent process again and again while MemOS flaps; count what was lost.

One writer process (``bench/_soak_writer.py``) runs ``create_agent`` with
:class:`~langchain_memos.MemOSMiddleware` (the suite's scripted chat model echoing the question,
no LLM) and answers turns round-robin over a few conversations of one user. Its writes go
through a durable outbox file to ``python -m langchain_memos serve`` on a SQLite file. Meanwhile:

- the writer is SIGKILLed at random moments (every 1-4 s once it is ready) and started again,
  continuing where its journal says it stopped;
- the server is SIGKILLed too (up 2-6 s, down 0.5-3 s) and restarted on the same port and file.

The writer journals each turn twice, fsynced: ``begin`` before ``invoke`` and ``done`` after it
returned. A ``done`` turn was handed over: the package promised to deliver it. A turn with only
``begin`` was interrupted (the caller never got its answer); it may or may not be stored, and is
never retried under the same number. At the end the server stays up, one last writer process
opens the outbox and waits for it to drain, the server stops, and the database file is read:

- **delivered**: handed-over turns whose question and answer are both stored;
- **lost**: handed-over turns not stored (the promise is that this is 0);
- **duplicated**: extra copies of a turn (at-least-once: expected when a kill lands between the
  service storing a write and the outbox deleting it);
- **misordered**: places where a conversation's stored turns go backwards (the promise: 0);
- what is still in the outbox, and its dead letters.

Run it with ``.venv/bin/python bench/soak.py`` (``--help`` for the knobs); about 75 s by
default. Figures go to ``bench/results/soak.json`` and a table to stdout. POSIX only (SIGKILL).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import TOKEN, code_under_test, finish, free_port, machine_info, serve_command, versions
from _soak_writer import USER, journal_turns

RESULTS = Path(__file__).resolve().parent / "results" / "soak.json"


# ---- the server ------------------------------------------------------------------------------


class Flapping:
    """``serve`` on one port and file, SIGKILLed and restarted by a thread until told to stop."""

    def __init__(self, db: Path, port: int, rng: random.Random) -> None:
        self.db, self.port, self.rng = db, port, rng
        self.process: subprocess.Popen[str] | None = None
        self.kills = 0
        self.down_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flap, daemon=True)

    def start(self) -> None:
        command = serve_command(self.db, self.port)
        env = {**os.environ, "MEMOS_SERVE_TOKEN": TOKEN}
        for _ in range(50):  # the port may linger for a moment after a kill
            process = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
                command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
            )
            assert process.stdout is not None
            if process.stdout.readline().startswith("MemOS-compatible server"):
                self.process = process
                return
            process.wait()
            time.sleep(0.1)
        raise RuntimeError("serve did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def _flap(self) -> None:
        while not self._stop.wait(self.rng.uniform(2.0, 6.0)):
            self.kill()
            self.kills += 1
            down = self.rng.uniform(0.5, 3.0)
            self.down_seconds += down
            if self._stop.wait(down):
                break
            self.start()

    def begin_flapping(self) -> None:
        self._thread.start()

    def steady(self) -> None:
        """Stop flapping and leave the server up."""
        self._stop.set()
        self._thread.join()
        if self.process is None:
            self.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None


# ---- the run ---------------------------------------------------------------------------------


def writer_command(args: argparse.Namespace, url: str, work: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        str(Path(__file__).resolve().parent / "_soak_writer.py"),
        "--url",
        url,
        "--outbox",
        str(work / "outbox.sqlite3"),
        "--journal",
        str(work / "journal.txt"),
        "--conv",
        str(args.conversations),
        *extra,
    ]


def kill_writer_repeatedly(
    args: argparse.Namespace, url: str, work: Path, rng: random.Random
) -> int:
    kills = 0
    deadline = time.monotonic() + args.duration
    while time.monotonic() < deadline:
        process = subprocess.Popen(  # noqa: S603 - this script, fixed arguments
            writer_command(args, url, work), stdout=subprocess.PIPE, text=True
        )
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the writer did not start (exit {process.wait()})")
        time.sleep(min(rng.uniform(1.0, 4.0), max(0.0, deadline - time.monotonic())))
        process.kill()
        process.wait()
        kills += 1
    return kills


def stored_turns(db: Path) -> dict[int, list[tuple[str, int]]]:
    """Per conversation, the stored (role, turn number) in the order the server stored them."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT conversation_id, body FROM messages WHERE user_id = ? ORDER BY seq", (USER,)
        ).fetchall()
    finally:
        connection.close()
    stored: dict[int, list[tuple[str, int]]] = {}
    for conversation_id, body in rows:
        conv = int(str(conversation_id).removeprefix("soak-c"))
        words = str(json.loads(body)["content"]).split()
        stored.setdefault(conv, []).append((words[1], int(words[-1].removeprefix("t"))))
    return stored


def outbox_left(path: Path) -> dict[str, int]:
    if not path.exists():
        return {"pending": 0, "dead_letters": 0}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        pending = connection.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        dead = connection.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0]
    finally:
        connection.close()
    return {"pending": int(pending), "dead_letters": int(dead)}


def judge(journal: Path, stored: dict[int, list[tuple[str, int]]]) -> dict[str, Any]:
    begun, done = journal_turns(journal)
    copies: Counter[tuple[int, int, str]] = Counter()
    misordered = 0
    for conv, messages in stored.items():
        for index, (role, number) in enumerate(messages):
            copies[(conv, number, role)] += 1
            if index and number < messages[index - 1][1]:
                misordered += 1

    def complete(turn: tuple[int, int]) -> bool:
        return all(copies[(*turn, role)] for role in ("question", "answer"))

    interrupted = begun - done
    return {
        "turns_handed_over": len(done),
        "turns_delivered": sum(complete(t) for t in done),
        "turns_lost": sorted(f"c{c} t{n}" for c, n in done if not complete((c, n))),
        "messages_duplicated": sum(n - 1 for n in copies.values() if n > 1),
        "turns_duplicated": len({(c, n) for (c, n, _), k in copies.items() if k > 1}),
        "misordered": misordered,
        "interrupted_turns": len(interrupted),
        "interrupted_turns_stored": sum(complete(t) for t in interrupted),
        "unknown_turns_stored": len({(c, n) for c, n, _ in copies} - begun),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="memos-soak-") as scratch:
        work = Path(scratch)
        server = Flapping(work / "memos.db", free_port(), rng)
        url = f"http://127.0.0.1:{server.port}"
        server.start()
        started = time.monotonic()
        server.begin_flapping()
        try:
            writer_kills = kill_writer_repeatedly(args, url, work, rng)
            server.steady()
            soak_seconds = time.monotonic() - started
            drain_started = time.monotonic()
            drain = subprocess.run(  # noqa: S603 - this script, fixed arguments
                writer_command(args, url, work, "--drain-only", "--drain", str(args.drain)),
                capture_output=True,
                text=True,
                check=True,
            )
            drain_seconds = time.monotonic() - drain_started
        finally:
            server.steady()
            server.stop()
        outcome = judge(work / "journal.txt", stored_turns(work / "memos.db"))
        return {
            "soak_seconds": round(soak_seconds, 1),
            "writer_sigkills": writer_kills,
            "server_sigkills": server.kills,
            "server_down_seconds": round(server.down_seconds, 1),
            "conversations": args.conversations,
            **outcome,
            "drain": json.loads(drain.stdout.strip().splitlines()[-1]),
            "drain_seconds": round(drain_seconds, 1),
            "outbox_after_drain": outbox_left(work / "outbox.sqlite3"),
        }


def print_table(report: dict[str, Any]) -> None:
    result = report["result"]
    width = max(len(key) for key in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of killing")
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait at the end")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    result = run(args)
    report: dict[str, Any] = {
        "benchmark": "soak",
        "machine": machine_info(),
        "versions": versions("langchain-core", "langchain", "langgraph", "httpx"),
        "code": code_under_test(),
        "options": {
            "duration": args.duration,
            "conversations": args.conversations,
            "seed": args.seed,
        },
        "result": result,
    }
    finish(report, args.out, print_table, time.monotonic() - started)
    return 0 if not result["turns_lost"] and not result["misordered"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
