"""A memory stored without what its row holds reads back as it was written."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_memos.embedded._bodies import (
    Row,
    memory_text,
    pack,
    pack_message,
    tags_column,
    unpack,
    unpack_message,
)
from langchain_memos.embedded._candidate import Candidate

TEXT = "I went hiking with Mochi near Lisbon last Saturday."
FACT: dict[str, Any] = {
    "conversation_id": "c1",
    "create_time": 1749517200000,
    "update_time": 1749517200000,
    "status": "activated",
    "id": "m1",
    "memory_key": "I went hiking with Mochi near Lisbon last…",
    # A short answer: its turn, and the question it answers (its second source).
    "memory_value": f"[user viewpoint] {TEXT} (replying to assistant: “Where did you go?”)",
    "memory_type": "WorkingMemory",
    "confidence": 0.0,
    "tags": ["hiking", "mode:fast"],
    "sources": [
        {"role": "user", "content": TEXT, "chat_time": 1749517200000},
        {"role": "assistant", "content": "Where did you go?", "relation": "answers"},
    ],
}
ROW = Row("fact", "m1", "c1", 1749517200000, 1749517200000, '["hiking", "mode:fast"]', TEXT)
# What a key may hold instead of what the row says: another value, or a value of another type.
OTHER: dict[str, list[Any]] = {
    "conversation_id": [None, "c2"],
    "create_time": [1, "2025-06-10"],
    "update_time": [2],
    "status": ["archived"],
    "id": ["m2"],
    "memory_key": ["Lisbon", None],
    "memory_value": [
        "[Caroline viewpoint] " + TEXT,
        "I like oolong tea.",
        f"[user viewpoint] {TEXT}",
    ],
    "confidence": [0, 1.0],
    "memory_type": ["LongTermMemory", None],
    "tags": [[], None, ["travel"], ["mode:feedback"], ['say "hi"', "mode:fast"]],
}


def as_json(memory: dict[str, Any]) -> str:
    return json.dumps(memory, sort_keys=True)


@st.composite
def memories(draw: st.DrawFn) -> dict[str, Any]:
    """The fast-mode fact with keys left out or changed, and its first source likewise."""
    memory = {}
    for key, value in FACT.items():
        if draw(st.booleans()):
            memory[key] = draw(st.sampled_from([value, *OTHER.get(key, [])]))
    if "sources" in memory:
        first = {
            key: draw(st.sampled_from([value, "other"]))
            for key, value in FACT["sources"][0].items()
            if draw(st.booleans())
        }
        answered = {
            key: draw(st.sampled_from([value, "other", None]))
            for key, value in FACT["sources"][1].items()
            if draw(st.booleans())
        }
        memory["sources"] = [first, answered]
    return memory


@given(memories(), st.sampled_from([TEXT, ""]))
def test_a_stored_memory_reads_back_as_written(memory: dict[str, Any], text: str) -> None:
    row = ROW._replace(text=text)
    # As JSON, so that 0 and 0.0 are told apart.
    assert as_json(unpack(row, pack(row, memory))) == as_json(memory)


def _related(links: Any) -> Any:
    """The links a search acts on: those of a turn that answers or restates another."""
    if links and links[0].get("relation") in ("answers", "restates"):
        return links
    return []


# Sources as fast mode writes them: its turn (the row's text unless said), then the turns it
# answers, restates or confirms.
SOURCES = st.tuples(
    st.fixed_dictionaries(
        {"role": st.just("user")},
        optional={"content": st.sampled_from([TEXT, "other"]), "chat_time": st.just(1)},
    ),
    st.lists(
        st.sampled_from(
            [
                FACT["sources"][1],
                {"role": "assistant", "content": TEXT, "relation": "restates"},
                {"role": "user", "content": "Yes", "relation": "confirms"},
                {"role": "assistant", "content": "Where?"},
                "not a turn",
            ]
        ),
        max_size=3,
    ),
    st.booleans(),  # its turn written without its content
)


@settings(max_examples=400)
@given(
    st.one_of(memories(), SOURCES, st.just("nested")),
    st.sampled_from([TEXT, ""]),
    st.sampled_from(["fact", "preference", "event"]),
    st.data(),
)
def test_a_candidate_reads_its_turn_links_tags_and_text_as_its_memory_has_them(
    drawn: Any, text: str, kind: str, data: st.DataObject
) -> None:
    """A search reads these from the stored text where it can, without parsing it: the same
    as from the memory read whole. ``drawn``: a memory, or sources alone (or sources in
    another key), read as the memory whose every other key is what its row says (most of
    what fast mode writes)."""
    row = ROW._replace(kind=kind, text=text, tags="")
    memory = drawn
    if isinstance(drawn, tuple):
        memory = unpack(row, json.dumps({"sources": [drawn[0], *drawn[1]]}))
        if drawn[2]:
            memory["sources"][0].pop("content", None)
    elif drawn == "nested":
        memory = unpack(row, json.dumps({"metadata": {"sources": [{"role": "user"}]}}))
    if data.draw(st.booleans()):
        memory["tags"] = data.draw(st.sampled_from(OTHER["tags"]))
    row = row._replace(tags=tags_column(kind, text, memory.get("tags")))
    tags = ["mode:feedback", "mode:fast", "hiking", "travel", 'say "hi"', ""]
    tag = data.draw(st.sampled_from([*tags, *(memory.get("tags") or [])]))
    candidate = Candidate(seq=1, row=row, stored=pack(row, memory), bm25=1.0, own="", context="")
    whole = unpack(row, candidate.stored)
    sources = whole.get("sources")
    first = sources[0] if isinstance(sources, list) and sources else None
    assert candidate.turn == str(first.get("content") if isinstance(first, dict) else None)
    links = [s for s in sources[1:3] if isinstance(s, dict)] if isinstance(sources, list) else []
    assert _related(candidate.links) == _related(links)
    assert candidate.has_tag(tag) == (tag in (whole.get("tags") or ()))
    assert candidate.text == memory_text(whole)


def test_a_fast_fact_stores_only_what_its_row_does_not_say() -> None:
    stored = json.loads(pack(ROW, FACT))
    assert stored == {"sources": [{"role": "user"}, FACT["sources"][1]]}
    assert unpack(ROW, pack(ROW, FACT)) == FACT


STAMP = 1749517200000  # 2025-06-10 09:00:00 in the service's time (UTC+8)


@given(
    st.sampled_from(
        [None, "2025-06-10 09:00:00", "2025-06-10 09:00:01", "2025-06-10T01:00:00Z", ""]
    ),
    st.dictionaries(st.sampled_from(["name", "content", "tool_call_id"]), st.text(max_size=3)),
)
def test_a_stored_message_reads_back_as_written(
    chat_time: str | None, more: dict[str, str]
) -> None:
    message: dict[str, Any] = {"role": "user", **more}
    if chat_time is not None:
        message["chat_time"] = chat_time
    read = unpack_message(pack_message(message, STAMP), STAMP)
    assert read == {**message, "create_time": STAMP, "update_time": STAMP}


def test_a_message_stores_no_chat_time_that_its_row_says() -> None:
    sent = {"role": "user", "content": "Hi", "chat_time": "2025-06-10 09:00:00"}
    assert json.loads(pack_message(sent, STAMP)) == {"role": "user", "content": "Hi"}
    unsent = {"role": "user", "content": "Hi"}
    assert "chat_time" not in unpack_message(pack_message(unsent, STAMP), STAMP)
