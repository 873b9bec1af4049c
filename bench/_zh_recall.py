"""The Chinese recall set (``bench/data/zh_recall.json``, written for this project): ingest each
user's conversations through the client, ask every question, and score what comes back."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from langchain_core.embeddings import Embeddings

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded.engine import DEFAULT_RELATIVITY
from langchain_memos.types import MessageInput

SET_FILE = Path(__file__).resolve().parent / "data" / "zh_recall.json"
KS = (1, 3, 5)
API_DEFAULT_LIMIT = 9  # memory_limit_number when a caller does not set it

DEFINITIONS = {
    "set": "bench/data/zh_recall.json: two users written for this project (not LoCoMo), four "
    "conversations each (travel, food, family, work), 26 short questions each (20 with expected "
    "memories; 6 nothing answers: 2 of general knowledge, 4 about the user's own life, added in "
    "session 32); zh-a is the tuning half, zh-b the report half",
    "recall@k": "per question with expected memories, the share of their turns shown by the "
    "first k facts of search_memory(relativity=0), averaged over questions; a fact shows every "
    "turn whose whole text its memory_value holds (its own, the one it answers, a neighbour "
    "riding along), as in the LoCoMo figures",
    "recall_at_default_threshold": "the same share among what search_memory returns with its "
    f"defaults (relativity {DEFAULT_RELATIVITY}, {API_DEFAULT_LIMIT} facts)",
    "unrelated_returned": "facts returned at the default threshold for questions on a topic the "
    "user never mentioned, per such question (0 is right)",
    "distractor_first": "questions where a listed distractor ranks above every expected memory",
    "no_shared_bigram": "questions sharing no Chinese character bigram with any expected memory",
}


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _turns_in(value: str, turns: dict[str, str]) -> list[str]:
    """The ids of the turns a memory shows: every turn whose whole text its text holds (its own,
    the one it answers, a neighbour riding along)."""
    return [tid for tid, text in turns.items() if text in value]


def _first(memories: Sequence[list[str]], k: int) -> set[str]:
    return {tid for ids in memories[:k] for tid in ids}


def _recall(found: set[str], expected: Sequence[str]) -> float:
    return sum(e in found for e in expected) / len(expected)


def run_user(client: MemOSClient, user_id: str, user: dict[str, Any]) -> list[dict[str, Any]]:
    turns: dict[str, str] = {}
    for conversation in user["conversations"]:
        messages = []
        for turn_id, role, text in conversation["turns"]:
            turns[turn_id] = text
            message = {"role": role, "content": text, "chat_time": conversation["date"]}
            messages.append(cast(MessageInput, message))
        client.add_message(
            messages, user_id=user_id, conversation_id=conversation["id"], async_mode=False
        )
    results = []
    for question in user["questions"]:
        ranked = client.search_memory(
            question["q"],
            user_id=user_id,
            include_preference=False,
            memory_limit_number=25,
            relativity=0,
        ).memory_detail_list
        default = client.search_memory(
            question["q"], user_id=user_id, include_preference=False
        ).memory_detail_list
        order = [_turns_in(m.memory_value or "", turns) for m in ranked]
        shown = [_turns_in(m.memory_value or "", turns) for m in default]
        expected, distract = question["expect"], question["distract"]
        first = next((i for i, ids in enumerate(order) if set(expected) & set(ids)), len(order))
        results.append(
            {
                "q": question["q"],
                "expect": expected,
                "order": order,
                "shown": shown,
                "shared_bigram": any(
                    _bigrams(question["q"]) & _bigrams(turns[e]) for e in expected
                ),
                "distractor_first": bool(set(distract) & _first(order, first)),
            }
        )
    return results


def score(results: list[dict[str, Any]]) -> dict[str, Any]:
    related = [r for r in results if r["expect"]]
    unrelated = [r for r in results if not r["expect"]]
    hard = [r for r in related if not r["shared_bigram"]]
    out: dict[str, Any] = {"questions": len(related), "unrelated_questions": len(unrelated)}
    for k in KS:
        out[f"recall@{k}"] = round(
            statistics.fmean(_recall(_first(r["order"], k), r["expect"]) for r in related), 4
        )
    out["recall_at_default_threshold"] = round(
        statistics.fmean(_recall(_first(r["shown"], 99), r["expect"]) for r in related), 4
    )
    out["no_shared_bigram_questions"] = len(hard)
    out["no_shared_bigram_recall@5"] = round(
        statistics.fmean(_recall(_first(r["order"], 5), r["expect"]) for r in hard), 4
    )
    out["unrelated_returned"] = round(statistics.fmean(len(r["shown"]) for r in unrelated), 2)
    out["distractor_first"] = sum(r["distractor_first"] for r in related)
    return out


def run(path: Path = SET_FILE, embeddings: Embeddings | None = None) -> dict[str, Any]:
    """Scores per split (tuning, report), on a fresh in-memory engine (with ``embeddings``,
    lexical and vector similarity fused)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    by_split: dict[str, list[dict[str, Any]]] = {}
    with MemOSClient(embedded=EmbeddedEngine(":memory:", embeddings=embeddings)) as client:
        for user_id, user in data["users"].items():
            by_split.setdefault(user["split"], []).extend(run_user(client, user_id, user))
    splits = {name: score(results) for name, results in by_split.items()}
    misses = {
        name: [
            r["q"] for r in results if r["expect"] and not set(r["expect"]) <= _first(r["order"], 5)
        ]
        for name, results in by_split.items()
    }
    return {"definitions": DEFINITIONS, "splits": splits, "missed_at_5": misses}


def print_table(report: dict[str, Any], mode: str = "") -> None:
    columns = [*(f"recall@{k}" for k in KS), "recall_at_default_threshold"]
    columns += ["no_shared_bigram_recall@5", "unrelated_returned", "distractor_first"]
    names = ["R@1", "R@3", "R@5", "R@dflt", "R@5 nobigram", "unrelated", "distr.1st"]
    print(f"\nChinese recall set (bench/data/zh_recall.json, ours) {mode}".rstrip())
    print(f"{'split':<10}{'q':>4}" + "".join(f"{n:>14}" for n in names))
    for split, row in report["splits"].items():
        cells = "".join(f"{row[c]:>14}" for c in columns)
        print(f"{split:<10}{row['questions']:>4}{cells}")


if __name__ == "__main__":
    result = run()
    print_table(result)
    print(json.dumps(result["missed_at_5"], ensure_ascii=False, indent=1))
