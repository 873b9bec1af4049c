"""Recall: does the embedded engine's search find the turn that answers a LoCoMo question?

On the LoCoMo development split (``../shared/data/locomo-dev/``, read at run time and never
copied: CC BY-NC 4.0), this script ingests every ``session_N`` of each conversation through the
product path, ``MemOSClient(embedded=EmbeddedEngine(...)).add_message`` in fast mode (no LLM),
with the session's ``session_N_date_time`` as ``chat_time``. Then, for every question of
categories 1-4, it calls ``search_memory`` with the cloud's cap of 25 facts, packs the recalled
memories into a 1,500-token budget, and counts the questions whose evidence turn (``dia_id``) is
among the packed memories.

In the same run it measures two baselines at the same budget: plain Okapi BM25 over single turns
and over centred 3-turn windows. It reports recall (overall and per category), the tokens
injected, the saving against putting the whole conversation in context, ingest throughput and
search latency.

The five conversations are split, once and before any tuning, by sample id: changes to how the
engine produces and ranks memories are tuned on ``TUNING_SPLIT`` (conv-26, conv-30) and judged on
``REPORT_SPLIT`` (conv-41, conv-42, conv-43), which they are never fitted to. Every figure is
reported for both splits; a gain that shows only on the tuning split is not a gain.

Target: engine recall >= 0.88 on the report split, clearly above both baselines.

Run it with ``.venv/bin/python bench/locomo_recall.py`` (``--help`` for the knobs). It exits
with status 2 when the data set is missing. The figures go to
``bench/results/locomo_recall.json``: aggregates, ids and categories only, never text from the
data set.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from _common import code_under_test, finish, machine_info, percentile, versions

from langchain_memos import MemOSClient
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded._text import STOPWORDS
from langchain_memos.types import MemoryDetail, MessageInput

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT.parent / "shared" / "data" / "locomo-dev"
DATA_FILE = "locomo_dev5.json"
RESULTS = Path(__file__).resolve().parent / "results" / "locomo_recall.json"

BUDGET = 1500
CLOUD_LIMIT = 25  # the MemOS cloud returns at most 25 facts per search (memory_limit_number)
HEADROOM_LIMIT = 200
TARGET_RECALL = 0.88
# Fixed before tuning (issue 13): tune on these conversations, report on the others.
TUNING_SPLIT = frozenset({"conv-26", "conv-30"})
REPORT_SPLIT = frozenset({"conv-41", "conv-42", "conv-43"})
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
BM25_K1 = 1.5
BM25_B = 0.75
BM25_EPSILON = 0.25  # rank_bm25's floor for negative idf: epsilon * mean idf
PAGE_SIZE = 50

_EVIDENCE = re.compile(r"D:?(\d+):(\d+)")
_WORD = re.compile(r"[a-z0-9]+")
_SESSION = re.compile(r"session_(\d+)")


# ---- the data set ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    dia_id: str
    speaker: str
    text: str


@dataclass(frozen=True)
class Session:
    number: int
    date_time: str
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class Conversation:
    sample_id: str
    speaker_a: str
    speaker_b: str
    sessions: tuple[Session, ...]

    @property
    def turns(self) -> list[Turn]:
        return [turn for session in self.sessions for turn in session.turns]


@dataclass(frozen=True)
class Question:
    sample_id: str
    index: int  # position in the conversation's qa list: an id, not text
    category: int
    text: str
    evidence: frozenset[str]


@dataclass
class DataSet:
    conversations: list[Conversation]
    questions: list[Question]
    evidence_strings_normalised: int = 0
    evidence_ids_not_in_conversation: int = 0


def _evidence_ids(raw: Iterable[object]) -> tuple[frozenset[str], int]:
    """The ``D<session>:<turn>`` ids of an evidence list, and how many strings needed repair.

    Three strings of the split are not one plain id: ``"D8:6; D9:17"`` (two ids), ``"D:11:26"``
    (a stray colon) and ``"D"`` (nothing). Every id found in a string counts.
    """
    ids: set[str] = set()
    repaired = 0
    for item in raw:
        text = str(item).strip()
        found = [f"D{s}:{t}" for s, t in _EVIDENCE.findall(text)]
        if found != [text]:
            repaired += 1
        ids.update(found)
    return frozenset(ids), repaired


def load(path: Path) -> DataSet:
    raw = json.loads(path.read_text(encoding="utf-8"))
    conversations: list[Conversation] = []
    questions: list[Question] = []
    repaired = missing = 0
    for sample in raw:
        body = sample["conversation"]
        numbers = sorted(
            int(match[1]) for key in body if (match := _SESSION.fullmatch(key)) and body[key]
        )
        sessions = tuple(
            Session(
                number=n,
                date_time=body[f"session_{n}_date_time"],
                turns=tuple(
                    Turn(dia_id=t["dia_id"], speaker=t["speaker"], text=t["text"])
                    for t in body[f"session_{n}"]
                ),
            )
            for n in numbers
        )
        conversation = Conversation(
            sample_id=sample["sample_id"],
            speaker_a=body["speaker_a"],
            speaker_b=body["speaker_b"],
            sessions=sessions,
        )
        conversations.append(conversation)
        known = {turn.dia_id for turn in conversation.turns}
        for index, qa in enumerate(sample["qa"]):
            if qa["category"] not in CATEGORIES:
                continue
            evidence, fixed = _evidence_ids(qa.get("evidence") or [])
            repaired += fixed
            missing += len(evidence - known)
            questions.append(
                Question(
                    sample_id=conversation.sample_id,
                    index=index,
                    category=qa["category"],
                    text=qa["question"],
                    evidence=evidence,
                )
            )
    return DataSet(conversations, questions, repaired, missing)


# ---- packing into the budget ---------------------------------------------------------------------


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


@dataclass(frozen=True)
class Packed:
    dia_ids: frozenset[str]
    tokens: int
    items: int


def pack(ranked: Iterable[tuple[str, Iterable[str]]], budget: int, max_items: int) -> Packed:
    """Take ``(text, dia_ids)`` in rank order, skipping any that does not fit, until the budget
    is used or ``max_items`` were looked at."""
    covered: set[str] = set()
    used = taken = 0
    for seen, (text, dia_ids) in enumerate(ranked):
        if seen >= max_items or used >= budget:
            break
        cost = tokens(text)
        if used + cost <= budget:
            used += cost
            taken += 1
            covered.update(dia_ids)
    return Packed(frozenset(covered), used, taken)


# ---- the baselines: Okapi BM25 over turns and over 3-turn windows ------------------------------


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def turn_line(turn: Turn) -> str:
    return f"{turn.speaker}: {turn.text}"


class BM25:
    """Okapi BM25 as ``rank_bm25.BM25Okapi`` computes it (idf floor included)."""

    def __init__(self, documents: Sequence[list[str]]) -> None:
        self.lengths = [len(doc) for doc in documents]
        self.average = sum(self.lengths) / len(documents)
        self.frequencies = [Counter(doc) for doc in documents]
        containing: Counter[str] = Counter()
        for doc in documents:
            containing.update(set(doc))
        n = len(documents)
        idf = {w: math.log(n - df + 0.5) - math.log(df + 0.5) for w, df in containing.items()}
        floor = BM25_EPSILON * sum(idf.values()) / len(idf)
        self.idf = {w: value if value >= 0 else floor for w, value in idf.items()}
        self.postings: dict[str, list[int]] = {}
        for index, doc in enumerate(documents):
            for word in set(doc):
                self.postings.setdefault(word, []).append(index)

    def rank(self, query: Sequence[str]) -> list[int]:
        """Every document, best first; ties (among them all that score 0) in document order."""
        scores: dict[int, float] = {}
        for word in query:  # repeated query words count again, as in rank_bm25
            for index in self.postings.get(word, ()):
                tf = self.frequencies[index][word]
                norm = BM25_K1 * (1 - BM25_B + BM25_B * self.lengths[index] / self.average)
                gain = self.idf[word] * tf * (BM25_K1 + 1) / (tf + norm)
                scores[index] = scores.get(index, 0.0) + gain
        return sorted(range(len(self.lengths)), key=lambda index: (-scores.get(index, 0), index))


@dataclass(frozen=True)
class Unit:
    """A retrievable text of a baseline and the turns it holds."""

    text: str
    dia_ids: tuple[str, ...]


def turn_units(conversation: Conversation) -> list[Unit]:
    return [Unit(turn_line(turn), (turn.dia_id,)) for turn in conversation.turns]


def window_units(conversation: Conversation) -> list[Unit]:
    """One window per turn: the turn with the one before and after it, within its session."""
    units = []
    for session in conversation.sessions:
        turns = session.turns
        for i in range(len(turns)):
            window = turns[max(0, i - 1) : i + 2]
            units.append(
                Unit("\n".join(turn_line(t) for t in window), tuple(t.dia_id for t in window))
            )
    return units


def question_words(question: str) -> list[str]:
    return [word for word in words(question) if word not in STOPWORDS]


def run_baseline(
    data: DataSet, units_of: Callable[[Conversation], list[Unit]], budget: int, max_items: int
) -> dict[tuple[str, int], Packed]:
    packed: dict[tuple[str, int], Packed] = {}
    for conversation in data.conversations:
        units = units_of(conversation)
        index = BM25([words(unit.text) for unit in units])
        for question in data.questions:
            if question.sample_id != conversation.sample_id:
                continue
            order = index.rank(question_words(question.text))
            ranked = ((units[i].text, units[i].dia_ids) for i in order)
            packed[(question.sample_id, question.index)] = pack(ranked, budget, max_items)
    return packed


# ---- the engine, through the client ----------------------------------------------------------


def user_id_of(conversation: Conversation) -> str:
    return f"locomo-{conversation.sample_id}"


def conversation_id_of(conversation: Conversation, session: Session) -> str:
    return f"{conversation.sample_id}-session-{session.number}"


@dataclass
class EngineRun:
    api: dict[tuple[str, int], Packed] = field(default_factory=dict)
    headroom: dict[tuple[str, int], Packed] = field(default_factory=dict)
    ingest_seconds: float = 0.0
    messages: int = 0
    sessions: int = 0
    memories: int = 0
    duplicate_texts_in_a_session: int = 0
    search_ns: list[int] = field(default_factory=list)
    top25_mismatches: int = 0
    recalled_per_search: list[int] = field(default_factory=list)
    turns_without_a_fact: int = 0
    facts_carrying_their_previous_turn: int = 0


def ingest(client: MemOSClient, conversation: Conversation, run: EngineRun) -> None:
    """One ``add_message`` per session: speaker_a as the user, speaker_b as the assistant."""
    user_id = user_id_of(conversation)
    for session in conversation.sessions:
        messages = [
            cast(
                MessageInput,
                {
                    "role": "user" if turn.speaker == conversation.speaker_a else "assistant",
                    "name": turn.speaker,
                    "content": turn.text,
                    "chat_time": session.date_time,
                },
            )
            for turn in session.turns
        ]
        started = time.perf_counter()
        client.add_message(
            messages,
            user_id=user_id,
            conversation_id=conversation_id_of(conversation, session),
            async_mode=False,
        )
        run.ingest_seconds += time.perf_counter() - started
        run.messages += len(messages)
        run.sessions += 1


def _source_text(memory: MemoryDetail) -> str:
    sources = memory.sources
    if not sources or not isinstance(sources[0], Mapping):
        raise SystemExit(f"memory {memory.id} has no source turn")
    return str(sources[0].get("content", ""))


def map_memories(
    client: MemOSClient, conversation: Conversation, run: EngineRun
) -> dict[str, tuple[str, ...]]:
    """Memory id -> the dia_ids whose whole text the memory's text carries, read back through
    the API.

    ``get_memory`` lists the user's facts; each fast-mode fact holds its turn as
    ``sources[0].content``. Within a session the facts are matched with the turns in order (the
    listing is newest first, so it is reversed), each with the next turn of the same text, so
    that a turn said twice in one session is still paired with its own dia_id; turns with no
    content of their own ("Thanks!") have no fact and are skipped. A fact also carries the turn it
    answers when that turn's whole text is in its ``memory_value``. Every pair is then checked
    once more with ``get_memory_by_id`` (its ``metadata.sources``).
    """
    user_id = user_id_of(conversation)
    listed: list[MemoryDetail] = []
    page = 1
    while True:
        result = client.get_memory(
            user_id=user_id,
            page=page,
            size=PAGE_SIZE,
            include_preference=False,
            include_tool_memory=False,
        )
        listed.extend(result.memory_detail_list)
        if len(result.memory_detail_list) < PAGE_SIZE:
            break
        page += 1
    by_session: dict[str | None, list[MemoryDetail]] = {}
    for memory in reversed(listed):
        by_session.setdefault(memory.conversation_id, []).append(memory)
    mapping: dict[str, tuple[str, ...]] = {}
    own: dict[str, str] = {}
    for session in conversation.sessions:
        turns = [turn for turn in session.turns if turn.text.strip()]
        texts = Counter(turn.text for turn in turns)
        run.duplicate_texts_in_a_session += sum(n - 1 for n in texts.values() if n > 1)
        memories = by_session.pop(conversation_id_of(conversation, session), [])
        position = 0
        for memory in memories:
            text = _source_text(memory)
            while position < len(turns) and turns[position].text != text:
                run.turns_without_a_fact += 1
                position += 1
            if memory.id is None or position == len(turns):
                raise SystemExit(
                    f"{conversation.sample_id} session {session.number}: fact {memory.id} is "
                    "no turn of its session, in order"
                )
            carried = [turns[position].dia_id]
            value = memory.memory_value or ""
            if position > 0 and turns[position - 1].text in value:
                carried.append(turns[position - 1].dia_id)
                run.facts_carrying_their_previous_turn += 1
            mapping[memory.id] = tuple(carried)
            own[memory.id] = turns[position].dia_id
            position += 1
        run.turns_without_a_fact += len(turns) - position
    if by_session:
        raise SystemExit(f"{conversation.sample_id}: facts of unknown sessions {list(by_session)}")
    turn_text = {turn.dia_id: turn.text for turn in conversation.turns}
    for memory_id, dia_id in own.items():
        detail = client.get_memory_by_id(memory_id)
        metadata = (detail.model_extra or {}).get("metadata") or {}
        sources = metadata.get("sources") or [{}]
        if sources[0].get("content") != turn_text[dia_id]:
            raise SystemExit(f"get_memory_by_id({memory_id}) disagrees with the listing")
    run.memories += len(mapping)
    return mapping


def run_engine(data: DataSet, db_path: str, budget: int) -> EngineRun:
    run = EngineRun()
    engine = EmbeddedEngine(db_path, chat_model=None, embeddings=None)  # fast mode, lexical
    try:
        with MemOSClient(embedded=engine) as client:
            mappings: dict[str, dict[str, tuple[str, ...]]] = {}
            for conversation in data.conversations:
                ingest(client, conversation, run)
            for conversation in data.conversations:
                mappings[conversation.sample_id] = map_memories(client, conversation, run)
            values: dict[str, str] = {}
            clock = time.perf_counter_ns
            for question in data.questions:
                conversation = next(
                    c for c in data.conversations if c.sample_id == question.sample_id
                )
                user_id = user_id_of(conversation)
                mapping = mappings[question.sample_id]
                started = clock()
                result = client.search_memory(
                    question.text,
                    user_id=user_id,
                    memory_limit_number=CLOUD_LIMIT,
                    include_preference=False,
                    relativity=0,
                )
                run.search_ns.append(clock() - started)
                recalled = result.memory_detail_list
                run.recalled_per_search.append(len(recalled))
                for memory in recalled:
                    if memory.id not in mapping:
                        raise SystemExit(f"search returned an unknown memory {memory.id}")
                    values[memory.id] = memory.memory_value or ""
                key = (question.sample_id, question.index)
                run.api[key] = pack(
                    ((m.memory_value or "", mapping[str(m.id)]) for m in recalled),
                    budget,
                    CLOUD_LIMIT,
                )
                ranked = engine.rank(
                    question.text,
                    user_id=user_id,
                    limit=HEADROOM_LIMIT,
                    candidates=HEADROOM_LIMIT,
                )
                ids = [str(memory["id"]) for memory in ranked]
                if ids[:CLOUD_LIMIT] != [m.id for m in recalled]:
                    run.top25_mismatches += 1
                missing = [i for i in ids if i not in values]
                if missing:
                    # The text of a memory the API did not return: read it through the API.
                    for memory_id in missing:
                        values[memory_id] = client.get_memory_by_id(memory_id).memory_value or ""
                run.headroom[key] = pack(
                    ((values[i], mapping[i]) for i in ids), budget, HEADROOM_LIMIT
                )
    finally:
        engine.close()
    return run


# ---- scoring and report ----------------------------------------------------------------------


def whole_conversation(conversation: Conversation) -> str:
    """The alternative to memory: every session, its date, then every turn as ``Speaker: text``."""
    return "\n\n".join(
        "\n".join([f"[{session.date_time}]", *(turn_line(turn) for turn in session.turns)])
        for session in conversation.sessions
    )


def hits_of(data: DataSet, packed: Mapping[tuple[str, int], Packed]) -> dict[tuple[str, int], bool]:
    return {
        (q.sample_id, q.index): bool(q.evidence & packed[(q.sample_id, q.index)].dia_ids)
        for q in data.questions
    }


def split_of(data: DataSet, sample_ids: frozenset[str]) -> DataSet:
    """The conversations and questions of these sample ids."""
    return DataSet(
        [c for c in data.conversations if c.sample_id in sample_ids],
        [q for q in data.questions if q.sample_id in sample_ids],
    )


def score(
    data: DataSet, packed: Mapping[tuple[str, int], Packed], whole_tokens: Mapping[str, int]
) -> dict[str, Any]:
    """Recall and tokens over all questions, then over the tuning and the report split."""
    return {
        **_score(data, packed, whole_tokens),
        "splits": {
            name: _score(split_of(data, ids), packed, whole_tokens)
            for name, ids in (("tuning", TUNING_SPLIT), ("report", REPORT_SPLIT))
        },
    }


def _score(
    data: DataSet, packed: Mapping[tuple[str, int], Packed], whole_tokens: Mapping[str, int]
) -> dict[str, Any]:
    packed = {(q.sample_id, q.index): packed[(q.sample_id, q.index)] for q in data.questions}
    hits = hits_of(data, packed)
    per_category: dict[str, Any] = {}
    for category, name in CATEGORIES.items():
        keys = [(q.sample_id, q.index) for q in data.questions if q.category == category]
        found = sum(hits[key] for key in keys)
        per_category[str(category)] = {
            "name": name,
            "questions": len(keys),
            "hits": found,
            "recall": round(found / len(keys), 4) if keys else None,
        }
    used = [packed[key].tokens for key in hits]
    whole = [whole_tokens[q.sample_id] for q in data.questions]
    mean_tokens = statistics.fmean(used)
    return {
        "questions": len(hits),
        "hits": sum(hits.values()),
        "recall": round(sum(hits.values()) / len(hits), 4),
        "per_category": per_category,
        "mean_tokens_injected": round(mean_tokens, 1),
        "p50_tokens_injected": round(percentile(sorted(used), 0.5), 1),
        "max_tokens_injected": max(used),
        "mean_memories_injected": round(statistics.fmean(p.items for p in packed.values()), 2),
        "saving_vs_whole_conversation": round(1 - mean_tokens / statistics.fmean(whole), 4),
    }


def mcnemar_exact_p(wins: int, losses: int) -> float:
    """Two-sided exact McNemar test: the binomial tail of the discordant pairs at 1/2."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail: float = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired(
    data: DataSet, engine: Mapping[tuple[str, int], Packed], other: Mapping[tuple[str, int], Packed]
) -> dict[str, Any]:
    """Question by question: which of the two found the evidence."""
    mine, theirs = hits_of(data, engine), hits_of(data, other)
    wins = sum(mine[k] and not theirs[k] for k in mine)
    losses = sum(theirs[k] and not mine[k] for k in mine)
    return {
        "engine_only": wins,
        "baseline_only": losses,
        "both": sum(mine[k] and theirs[k] for k in mine),
        "neither": sum(not mine[k] and not theirs[k] for k in mine),
        "mcnemar_exact_p": float(f"{mcnemar_exact_p(wins, losses):.3g}"),
    }


SYSTEMS = {
    "engine": "engine via MemOSClient.search_memory, <=25 facts (cloud cap)",
    "bm25_turns": "BM25 over single turns",
    "bm25_windows": "BM25 over 3-turn windows",
    "engine_internal_200": "engine ranking, 200 candidates (not via API)",
    "bm25_turns_25": "BM25 over single turns, <=25 items",
    "bm25_windows_25": "BM25 over 3-turn windows, <=25 items",
}


def print_table(report: dict[str, Any]) -> None:
    data, config = report["data"], report["config"]
    print(
        f"LoCoMo dev: {data['conversations']} conversations, {data['sessions']} sessions, "
        f"{data['turns']} turns, {data['questions']} questions of categories 1-4; "
        f"budget {config['budget_tokens']} tokens"
    )
    head = "".join(f"{'c' + c:>7}" for c in map(str, CATEGORIES))
    for split in ("all", "tuning", "report"):
        ids = {"all": "", "tuning": sorted(TUNING_SPLIT), "report": sorted(REPORT_SPLIT)}[split]
        print(f"\n{split} split {', '.join(ids)}".rstrip())
        print(f"{'system':<62}{'recall':>7}{head}{'tokens':>8}{'items':>7}{'saving':>8}")
        for name, label in SYSTEMS.items():
            row = report["systems"][name]
            row = row if split == "all" else row["splits"][split]
            cats = "".join(
                f"{row['per_category'][str(c)]['recall'] or 0:>7.3f}" for c in CATEGORIES
            )
            print(
                f"{label:<62}{row['recall']:>7.3f}{cats}{row['mean_tokens_injected']:>8.0f}"
                f"{row['mean_memories_injected']:>7.1f}{row['saving_vs_whole_conversation']:>8.1%}"
            )
    print(
        "the MemOS cloud caps a search at 25 facts (memory_limit_number <= 25), so the engine row "
        "packs at most 25 memories; rows below the first three are extra views"
    )
    whole = report["whole_conversation"]
    engine = report["engine"]
    print(
        f"whole conversation in context: {whole['mean_tokens_per_question']:.0f} tokens a "
        f"question on average ({whole['min_tokens']}-{whole['max_tokens']})"
    )
    print(
        f"ingest: {engine['messages']} messages in {engine['sessions']} add_message calls, "
        f"{engine['ingest_seconds']:.2f} s, {engine['messages_per_second']:.0f} messages/s; "
        f"search_memory p50 {engine['search_p50_ms']:.1f} ms, p95 {engine['search_p95_ms']:.1f} ms"
    )
    for name, pair in report["paired_vs_engine"].items():
        print(
            f"engine vs {SYSTEMS[name]}: engine alone finds {pair['engine_only']}, the baseline "
            f"alone {pair['baseline_only']} (exact McNemar p = {pair['mcnemar_exact_p']:.2g})"
        )
    target = report["target"]
    print(
        f"target recall >= {target['recall']}: {'met' if target['met'] else 'NOT met'} "
        f"({target['engine_recall']:.3f}; {target['margin_vs_bm25_turns']:+.3f} vs BM25 turns, "
        f"{target['margin_vs_bm25_windows']:+.3f} vs BM25 windows)"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="the locomo-dev directory")
    parser.add_argument("--budget", type=int, default=BUDGET, help="tokens of memory per question")
    parser.add_argument(
        "--db", default=None, help="engine database (default: a file in a temporary directory)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    if args.budget < 1:
        parser.error("the budget must be positive")
    if args.db not in (None, ":memory:") and Path(args.db).exists():
        parser.error(f"{args.db} exists; the benchmark needs an empty database")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    source = args.data / DATA_FILE
    if not source.is_file():
        print(
            f"skipped: {source} not found. The LoCoMo development split is read at run time from "
            "../shared/data/locomo-dev/ beside the repository (or --data DIR).",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    data = load(source)
    whole_tokens = {c.sample_id: tokens(whole_conversation(c)) for c in data.conversations}

    with tempfile.TemporaryDirectory(prefix="locomo-recall-") as scratch:
        db_path = args.db or str(Path(scratch) / "memos.db")
        run = run_engine(data, db_path, args.budget)
    systems_packed = {
        "engine": run.api,
        "bm25_turns": run_baseline(data, turn_units, args.budget, sys.maxsize),
        "bm25_windows": run_baseline(data, window_units, args.budget, sys.maxsize),
        "engine_internal_200": run.headroom,
        "bm25_turns_25": run_baseline(data, turn_units, args.budget, CLOUD_LIMIT),
        "bm25_windows_25": run_baseline(data, window_units, args.budget, CLOUD_LIMIT),
    }
    systems = {name: score(data, packed, whole_tokens) for name, packed in systems_packed.items()}
    for name, label in SYSTEMS.items():
        systems[name] = {"label": label, **systems[name]}
    elapsed = time.perf_counter() - started

    search_ms = sorted(ns / 1e6 for ns in run.search_ns)
    engine_recall = systems["engine"]["splits"]["report"]["recall"]
    turns = sum(len(c.turns) for c in data.conversations)
    whole = [whole_tokens[q.sample_id] for q in data.questions]
    report: dict[str, Any] = {
        "benchmark": "locomo_recall",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "code": code_under_test(),
        "machine": machine_info(),
        "versions": versions("langchain-memos", "httpx", "pydantic", "pydantic-core"),
        "data": {
            "source": "LoCoMo-10 conversations conv-26, conv-30, conv-41, conv-42, conv-43 "
            "(snap-research/LoCoMo, CC BY-NC 4.0), read at run time",
            "file": DATA_FILE,
            "conversations": len(data.conversations),
            "sample_ids": [c.sample_id for c in data.conversations],
            "sessions": sum(len(c.sessions) for c in data.conversations),
            "turns": turns,
            "questions": len(data.questions),
            "questions_per_category": {
                str(c): sum(q.category == c for q in data.questions) for c in CATEGORIES
            },
            "questions_without_evidence": sum(not q.evidence for q in data.questions),
            "evidence_strings_normalised": data.evidence_strings_normalised,
            "evidence_ids_not_in_conversation": data.evidence_ids_not_in_conversation,
        },
        "config": {
            "tuning_split": sorted(TUNING_SPLIT),
            "report_split": sorted(REPORT_SPLIT),
            "budget_tokens": args.budget,
            "cloud_fact_cap": CLOUD_LIMIT,
            "headroom_limit": HEADROOM_LIMIT,
            "database": "file in a temporary directory (WAL)" if args.db is None else args.db,
            "wall_seconds": round(elapsed, 1),
        },
        "definitions": {
            "hit": "a question is a hit if any of its evidence dia_ids is among the turns of the "
            "packed memories (a memory's own turn, and the turn it answers when its text carries "
            "that turn whole); questions without evidence count as misses",
            "splits": "conversations split by sample id before tuning: changes are tuned on the "
            "tuning split only and judged on the report split",
            "evidence": "every D<session>:<turn> id found in an evidence string "
            "('D8:6; D9:17' gives two ids, 'D:11:26' gives D11:26, 'D' none)",
            "tokens": "ceil(len(text) / 4) per injected memory, summed",
            "packing": "memories in rank order, each taken if it still fits in the budget and "
            "skipped otherwise, until the budget is used or the list ends",
            "engine": "MemOSClient(embedded=EmbeddedEngine(file)); add_message once per "
            "session (fast mode, async_mode=False): speaker_a as role user, speaker_b as role "
            "assistant, name = speaker, content = turn text, chat_time = session_N_date_time; one "
            "user_id per conversation, one conversation_id per session. search_memory(question, "
            "user_id, memory_limit_number=25, include_preference=False, relativity=0). "
            "Injected text: memory_value (what the LangChain retriever puts in page_content)",
            "cloud_cap": "the MemOS cloud returns at most 25 facts per search, so the engine "
            "packs at most 25 memories even when the budget has room for more",
            "memory_to_dia_id": "get_memory pages of each user's facts, paired with the "
            "session's turns in order with equal sources[0].content, each pair confirmed by "
            "get_memory_by_id metadata.sources",
            "engine_internal_200": "headroom only, not reachable through the API: the engine's "
            "own ranking (EmbeddedEngine.rank) with 200 candidates instead of 25",
            "top25_differs": "searches whose 25 facts are not the first 25 of the 200-candidate "
            "ranking: the API ranks max(50, 5 * 25) = 125 bm25 candidates, so a memory whose "
            "score a boost raises from below that depth is only seen with 200",
            "bm25": "Okapi BM25, k1=1.5, b=0.75, idf log((N-n+0.5)/(n+0.5)) with negative idf "
            "floored at 0.25 * mean idf (rank_bm25.BM25Okapi), one index per conversation; "
            "documents 'Speaker: text' tokenised as [a-z0-9]+ lowercased; the question likewise, "
            "stopwords removed (the engine's English list); every document is ranked, ties (among "
            "them the documents without a question word) in document order",
            "bm25_windows": "one window per turn: that turn with the turns before and after it "
            "in the same session, injected whole; a hit if the evidence is any turn of the window",
            "whole_conversation": "every session as '[session_N_date_time]' then 'Speaker: text' "
            "lines; saving = 1 - mean tokens injected / mean whole-conversation tokens, over "
            "questions",
        },
        "systems": systems,
        "paired_vs_engine": {
            name: paired(data, run.api, systems_packed[name])
            for name in ("bm25_turns", "bm25_windows")
        },
        "whole_conversation": {
            "tokens_by_sample_id": whole_tokens,
            "mean_tokens_per_question": round(statistics.fmean(whole), 1),
            "min_tokens": min(whole_tokens.values()),
            "max_tokens": max(whole_tokens.values()),
        },
        "engine": {
            "messages": run.messages,
            "sessions": run.sessions,
            "fact_memories": run.memories,
            "turns_without_a_fact": run.turns_without_a_fact,
            "facts_carrying_their_previous_turn": run.facts_carrying_their_previous_turn,
            "duplicate_turn_texts_within_a_session": run.duplicate_texts_in_a_session,
            "ingest_seconds": round(run.ingest_seconds, 3),
            "messages_per_second": round(run.messages / run.ingest_seconds, 1),
            "searches": len(search_ms),
            "search_p50_ms": round(percentile(search_ms, 0.5), 2),
            "search_p95_ms": round(percentile(search_ms, 0.95), 2),
            "search_mean_ms": round(statistics.fmean(search_ms), 2),
            "mean_facts_returned": round(statistics.fmean(run.recalled_per_search), 2),
            "searches_whose_top25_differs_from_internal_ranking": run.top25_mismatches,
            "missed_questions": [
                [q.sample_id, q.index, q.category]
                for q in data.questions
                if not (q.evidence & run.api[(q.sample_id, q.index)].dia_ids)
            ],
        },
        "target": {
            "recall": TARGET_RECALL,
            "engine_recall": engine_recall,
            "met": engine_recall >= TARGET_RECALL,
            "margin_vs_bm25_turns": round(engine_recall - systems["bm25_turns"]["recall"], 4),
            "margin_vs_bm25_windows": round(engine_recall - systems["bm25_windows"]["recall"], 4),
        },
    }
    return finish(report, args.out, print_table, elapsed)


if __name__ == "__main__":
    sys.exit(main())
