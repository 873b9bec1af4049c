"""Engine scale: add rate, search latency, disk and resident memory at 10k, 100k and 1M memories.

Everything goes through the real client path, as a user's code would: ``MemOSClient(embedded=
engine)`` (the httpx transport, request building, envelopes and response parsing) in front of an
:class:`EmbeddedEngine` on a file-backed SQLite database (WAL) in a temporary directory.

The text is synthetic conversational English, generated here from a seed: conversations of 10-20
turns (one ``add_message`` call each) about a person, a place, an activity, a food, a venue and an
event, drawn with a Zipf law from word lists of a few thousand words (real words for activities,
food, things and feelings; made-up but pronounceable names for people and places), with dates,
and a stated preference in about one user turn in five. Queries are questions about conversations
already stored ("When did I go pottery with Pixette?").

N counts memories (rows of the memories table), not messages: fast mode makes one memory per
turn, plus one per preference a user states, so there are about 1.1 memories per message. Two
layouts are measured:

- ``one_user``: one user holds all N memories (the worst case: every search ranks among all N);
- ``multi_user``: the same conversations dealt round-robin to 1,000 users (N/1,000 memories
  each), every search for one of them; up to 100k.

Beside every timed search, the same question goes straight to SQLite as the floor: one raw FTS5
``MATCH ... ORDER BY bm25 LIMIT 25`` over a plain one-column FTS5 table of every memory's text.

For each layout the database grows 10k -> 100k -> 1M: each step is one fresh ``build`` process
that adds conversations up to N (add throughput is messages/s inside ``add_message``), then one
fresh ``search`` process that opens the database and times ``search_memory`` (a warm-up, then the
timed queries). Fresh processes make the resident-memory figures (peak RSS from getrusage,
current VmRSS) belong to one size, not to the whole run.

Beside the time of each search (wall clock and the process's CPU time), where the first fact of
the conversation the question is about ranks among those returned: first, within the first five,
or anywhere (``conversation_found``, and per question ``conversation_ranks``), so that a change
made for speed can be shown not to lose answers at scale.

Targets (issue 13, judged in ``_engine_scale_report.py``): search p50 within 1.5x of the raw FTS5
query at every size and layout, p95 under 100 ms at 1M; the add rate of the step to 1M at least
0.8x that of the step to 10k; at most 1,000 bytes of database a memory (half of before); resident
memory flat (under 100 MB). Latency, add and disk are judged on the one-user layout, the worst
case.

Run it with ``make bench`` or ``.venv/bin/python bench/engine_scale.py`` (``--help`` for the knobs;
``--sizes 100000 --keep DIR --reuse`` searches a store built before, growing it if need be).
The figures go to ``bench/results/engine_scale.json``, the plot of latency against size to
``bench/results/engine_scale.svg`` (drawn here, no plotting library), a table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _common import report_head
from _conversations import Vocabulary
from _engine_scale_report import TARGET_SEARCH_P95_MS, judge, print_table
from _engine_scale_work import build, file_mb, search
from _svg import plot_svg

RESULTS = Path(__file__).resolve().parent / "results"
SIZES = (10_000, 100_000, 1_000_000)
# The many-user layout stops here: what it shows (a user among many) is the same at any size.
MULTI_USER_MAX = 100_000
LAYOUTS = ("one_user", "multi_user")


# ---- the driver ------------------------------------------------------------------------------


def _worker(args: argparse.Namespace) -> int:
    if args.worker == "build":
        result = build(args.db, args.layout, args.target, args.users, args.seed)
    else:
        result = search(args.db, args.layout, args.users, args.seed, args.queries, args.warmup)
    args.worker_out.write_text(json.dumps(result))
    return 0


def _run_worker(kind: str, args: argparse.Namespace, db: Path, layout: str, n: int) -> Any:
    out = db.with_name(f"{layout}-{n}-{kind}.json")
    options = {
        "--db": db,
        "--layout": layout,
        "--target": n,
        "--users": args.users,
        "--seed": args.seed,
        "--queries": args.queries,
        "--warmup": args.warmup,
        "--worker-out": out,
    }
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind]
    command += [str(part) for option in options.items() for part in option]
    subprocess.run(command, check=True)  # noqa: S603 - this very script, fixed arguments
    return json.loads(out.read_text())


def measure_layout(args: argparse.Namespace, workdir: Path, layout: str) -> list[dict[str, Any]]:
    db = workdir / f"{layout}.db"
    rows: list[dict[str, Any]] = []
    total_messages = 0
    total_seconds = 0.0
    for n in args.sizes:
        if layout == "multi_user" and n > args.multi_user_max:
            continue
        started = time.perf_counter()
        print(f"{layout}: building to {n:,} memories")
        built = _run_worker("build", args, db, layout, n)
        total_messages += built["added_messages"]
        total_seconds += built["add_seconds"]
        print(f"{layout}: {args.queries} searches at {built['rows']['memories']:,} memories")
        searched = _run_worker("search", args, db, layout, n)
        row = {
            "layout": layout,
            "n": n,
            "rows": built["rows"],
            "users": 1 if layout == "one_user" else args.users,
            "memories_per_user": built["rows"]["memories"]
            // (1 if layout == "one_user" else args.users),
            "files": file_mb(db),
            "add": {k: v for k, v in built.items() if k not in ("rows", "memory")},
            "add_cumulative": {
                "messages": total_messages,
                "seconds": round(total_seconds, 3),
                # None: nothing added (a database kept with --reuse already held N).
                "messages_per_s": round(total_messages / total_seconds, 1)
                if total_seconds
                else None,
            },
            "search": {k: v for k, v in searched.items() if k != "memory"},
            "memory": {"build_process": built["memory"], "search_process": searched["memory"]},
        }
        latency = row["search"]["latency"]
        row["search"]["floor_ratio_p50"] = round(
            latency["p50_ms"] / row["search"]["floor_latency"]["p50_ms"], 2
        )
        print(
            f"{layout} {n:>7,}: add {built['messages_per_s'] or 0:,.0f} msg/s, search p50 "
            f"{latency['p50_ms']:.1f} ms p95 {latency['p95_ms']:.1f} ms (raw FTS5 p50 "
            f"{row['search']['floor_latency']['p50_ms']:.1f} ms), CPU p50 "
            f"{row['search']['cpu']['p50_ms']:.1f} ms, conversation first/top 5/returned "
            f"{'/'.join(str(v) for v in row['search']['conversation_found'].values())}, peak RSS "
            f"{built['memory']['peak_rss_mb']:.0f}/{searched['memory']['peak_rss_mb']:.0f} MB "
            f"(build/search), db {row['files']['db_mb']:.0f} MB "
            f"[{time.perf_counter() - started:.0f} s]"
        )
        rows.append(row)
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes",
        type=lambda text: tuple(sorted(int(v) for v in text.split(","))),
        default=SIZES,
        help="memory counts, comma-separated (default 10000,100000,1000000); one size alone "
        "(--sizes 100000) builds straight to it",
    )
    parser.add_argument(
        "--layouts", default=",".join(LAYOUTS), help="one_user, multi_user or both (default)"
    )
    parser.add_argument("--users", type=int, default=1000, help="users of the multi_user layout")
    parser.add_argument(
        "--multi-user-max",
        type=int,
        default=MULTI_USER_MAX,
        help=f"largest size of the multi_user layout (default {MULTI_USER_MAX})",
    )
    parser.add_argument("--queries", type=int, default=300, help="timed searches per size")
    parser.add_argument("--warmup", type=int, default=30, help="untimed searches first")
    parser.add_argument("--seed", type=int, default=20260801, help="seed of text and queries")
    parser.add_argument("--out", type=Path, default=RESULTS / "engine_scale.json")
    parser.add_argument("--plot", type=Path, default=RESULTS / "engine_scale.svg")
    parser.add_argument("--keep", type=Path, help="build the databases here and keep them")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: grow the databases already there instead of starting anew (a size "
        "they already hold is only searched; building 1M memories takes many minutes)",
    )
    parser.add_argument("--worker", choices=("build", "search"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--layout", help=argparse.SUPPRESS)
    parser.add_argument("--target", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    layouts = tuple(v for v in args.layouts.split(",") if v)
    if not layouts or set(layouts) - set(LAYOUTS):
        parser.error(f"--layouts takes {' and/or '.join(LAYOUTS)}")
    args.layouts = layouts
    if not (1 <= args.queries <= 100_000 and 1 <= args.warmup <= 10_000 and args.users >= 1):
        parser.error("need 1 <= queries <= 1e5, 1 <= warmup <= 1e4 and users >= 1")
    if min(args.sizes) < 10:
        parser.error("sizes must be at least 10")
    if args.reuse and not args.keep:
        parser.error("--reuse needs --keep DIR (where the databases are)")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return _worker(args)
    started = time.perf_counter()
    load_start = list(os.getloadavg())
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="engine-scale-") as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        for layout in args.layouts:
            for stale in () if args.reuse else workdir.glob(f"{layout}*.db*"):
                stale.unlink()
            rows += measure_layout(args, workdir, layout)
    elapsed = time.perf_counter() - started
    verdicts = judge(rows)
    report: dict[str, Any] = {
        **report_head("engine_scale", ("httpx", "pydantic", "langchain-memos")),
        "config": {
            "sizes": list(args.sizes),
            "layouts": {
                "one_user": "one user holds all N memories (worst case; the targets use it)",
                "multi_user": f"conversations dealt round-robin to {args.users} users",
            },
            "n": "memories (rows of the memories table: facts + preferences), not messages",
            "users": args.users,
            "queries": args.queries,
            "warmup": args.warmup,
            "seed": args.seed,
            "path": "MemOSClient(embedded=EmbeddedEngine(file), max_retries=0): httpx transport, "
            "envelopes and parsing included",
            "engine": "fast mode, lexical search (no chat model, no embeddings)",
            "database": "file in a temporary directory, WAL, synchronous=NORMAL (the engine's)",
            "add": "client.add_message, one conversation (10-20 turns) per call, with chat_time; "
            "messages/s over the time spent inside add_message",
            "search": "client.search_memory(question, user_id) with the service defaults; "
            "questions about stored conversations; a fresh process opens the database",
            "floor": "the same questions, side by side, as one raw FTS5 query (their terms OR-ed, "
            "MATCH ... ORDER BY bm25 LIMIT 25) over a plain one-column FTS5 table of every "
            "memory's text (all users), same tokenizer; no client, no ranking",
            "multi_user_max": args.multi_user_max,
            "processes": "one fresh build process and one fresh search process per size",
            "text": "synthetic conversational English, Zipf-drawn from word lists "
            f"({Vocabulary(args.seed).size:,} words)",
            "wall_seconds": round(elapsed, 1),
        },
        "load_average": {"start": load_start, "end": list(os.getloadavg())},
        "results": rows,
        "targets": verdicts,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    args.plot.write_text(plot_svg(rows, args.users, TARGET_SEARCH_P95_MS))
    print_table(rows, verdicts)
    print(f"load average {load_start} at the start, {list(os.getloadavg())} at the end")
    print(f"wrote {args.out} and {args.plot} in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
