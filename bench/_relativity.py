"""What the 0.45 default relativity keeps and lets through on LoCoMo, for locomo_recall.py: the
evidence a question's own user's search finds, and the memories of another conversation's user
the same question is asked of; and the figures of an earlier package, run side by side."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _locomo_data import REPORT_SPLIT, TUNING_SPLIT, DataSet
from _locomo_engine import EngineRun

DEFAULT = 0.45

DEFINITIONS = {
    "evidence_passing": "of the questions whose evidence turn is among the 25 memories "
    "search_memory(relativity=0) returns, the share where such a memory's relativity is at least "
    "0.45 (the cloud's default): the related memories the default keeps",
    "related_recall_at_default": "the share of all questions whose evidence memory is among the 25 "
    "and passes 0.45",
    "evidence_relativity_median": "the median relativity of the evidence memory, where found",
    "evidence_event_passing": "the same share as evidence_passing for the event view: of the "
    "questions whose evidence turn is among the 25 events search_memory(relativity=0) returns "
    "(only a turn that dates what it tells is an event), the share where it passes 0.45",
    "unrelated_returned_mean": "memories search_memory returns with its defaults (relativity 0.45, "
    "9 facts) when the question is asked of the next conversation's user, whose memories cannot "
    "answer it (0 is right)",
    "unrelated_questions_with_none": "the share of those questions for which nothing passes",
}


def separation(data: DataSet, run: EngineRun) -> dict[str, Any]:
    """Related against unrelated at the default threshold, for both splits and all questions."""
    out: dict[str, Any] = {"definitions": DEFINITIONS}
    for name, ids in (("tuning", TUNING_SPLIT), ("report", REPORT_SPLIT), ("all", None)):
        keys = [
            (q.sample_id, q.index)
            for q in data.questions
            if q.evidence and (ids is None or q.sample_id in ids)
        ]
        found = [r for k in keys if (r := run.evidence_relativity[k]) is not None]
        events = [r for k in keys if (r := run.evidence_event_relativity[k]) is not None]
        unrelated = [run.unrelated_by_question[k] for k in keys]
        out[name] = {
            "questions": len(keys),
            "evidence_found": len(found),
            "evidence_passing": round(sum(r >= DEFAULT for r in found) / len(found), 4),
            "related_recall_at_default": round(sum(r >= DEFAULT for r in found) / len(keys), 4),
            "evidence_relativity_median": round(statistics.median(found), 4),
            "evidence_events_found": len(events),
            "evidence_event_passing": round(sum(r >= DEFAULT for r in events) / len(events), 4),
            "unrelated_returned_mean": round(statistics.fmean(unrelated), 2),
            "unrelated_questions_with_none": round(statistics.fmean(n == 0 for n in unrelated), 3),
        }
    return out


def before(package_dir: Path, argv: list[str]) -> dict[str, Any]:
    """This benchmark run again in a subprocess against the package in ``package_dir`` (an
    earlier checkout's ``langchain_memos``), reduced to the figures a change is judged by."""
    with tempfile.TemporaryDirectory(prefix="locomo-before-") as scratch:
        out = Path(scratch) / "before.json"
        env = {**os.environ, "PYTHONPATH": str(package_dir.resolve())}
        command = [sys.executable, str(Path(__file__).parent / "locomo_recall.py"), *argv]
        # Our own script and interpreter, with arguments this script built.
        subprocess.run(  # noqa: S603
            [*command, "--out", str(out)], env=env, check=True, stdout=sys.stderr
        )
        report = json.loads(out.read_text())
    systems = report["systems"]
    return {
        "code": report["code"],
        "recall": {
            name: {s: systems[name]["splits"][s]["recall"] for s in ("tuning", "report")}
            for name in ("engine", "engine_internal_200")
        },
        "relativity": {k: v for k, v in report["relativity"].items() if k != "definitions"},
        "zh_recall": report["zh_recall"]["splits"],
    }


def print_table(report: dict[str, Any]) -> None:
    rows = [("now", report["relativity"], report["zh_recall"]["splits"])]
    if "before" in report:
        old = report["before"]
        rows.insert(0, ("before", old["relativity"], old["zh_recall"]))
    print("\nrelativity at the 0.45 default: related kept / unrelated let through")
    for label, locomo, zh in rows:
        for split, zh_split in (("tuning", "tuning"), ("report", "report")):
            row = locomo[split]
            print(
                f"{label:<7}{split:<7} LoCoMo evidence passing {row['evidence_passing']:.3f} "
                f"(median relativity {row['evidence_relativity_median']:.2f}; events "
                f"{row.get('evidence_event_passing', float('nan')):.3f}), another user's "
                f"memories returned {row['unrelated_returned_mean']:.2f} a question (none for "
                f"{row['unrelated_questions_with_none']:.0%}); Chinese recall at 0.45 "
                f"{zh[zh_split]['recall_at_default_threshold']:.2f}, unrelated "
                f"{zh[zh_split]['unrelated_returned']:.2f}"
            )
