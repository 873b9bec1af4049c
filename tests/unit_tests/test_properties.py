"""Properties of message conversion and filter validation, over generated input (hypothesis).

Settings are fixed for CI: derandomized (the same examples every run), no deadline, and no
example database, so nothing is written next to the tests.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from pydantic import ValidationError

from langchain_memos import MemOSClient, MemOSInputError
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.filters import (
    agent,
    all_of,
    any_of,
    app,
    by_source,
    created,
    info,
    tag,
    updated,
    validate_filter,
)
from langchain_memos.messages import (
    CHAT_TIME_KEY,
    format_chat_time,
    from_memos_messages,
    to_memos_messages,
)
from langchain_memos.types import MessageDetail, MessageInput, parse_timestamp
from tests.fakes import FakeMemOS, build

CI = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TEXT = st.text(max_size=30)
NAMES = st.text(min_size=1, max_size=12)
MOMENTS = st.datetimes(
    min_value=datetime(1990, 1, 1),
    max_value=datetime(2090, 1, 1),
    timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=8)), timezone.min]),
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
ARGS = st.dictionaries(TEXT, JSON_VALUES, max_size=3)


# ---- messages: round trip ----------------------------------------------------------------------


@st.composite
def conversations(draw: st.DrawFn) -> list[BaseMessage]:
    """Human, AI (with and without tool calls), tool and system messages, each with a time."""
    messages: list[BaseMessage] = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        moment = {CHAT_TIME_KEY: draw(MOMENTS)}
        kind = draw(st.sampled_from(["human", "ai", "tool", "system"]))
        text = draw(TEXT)
        if kind == "human":
            messages.append(HumanMessage(text, additional_kwargs=moment))
        elif kind == "system":
            messages.append(SystemMessage(text, additional_kwargs=moment))
        elif kind == "tool":
            call_id = draw(NAMES)
            messages.append(ToolMessage(text, tool_call_id=call_id, additional_kwargs=moment))
        else:
            calls = draw(
                st.lists(
                    st.fixed_dictionaries({"id": NAMES, "name": NAMES, "args": ARGS}), max_size=2
                )
            )
            messages.append(AIMessage(text, tool_calls=calls, additional_kwargs=moment))
    return messages


def stored(converted: list[Any]) -> list[MessageDetail]:
    """What get/message gives back for what add/message took: the same JSON."""
    return [MessageDetail.model_validate(json.loads(json.dumps(m))) for m in converted]


def assert_same(before: list[BaseMessage], after: list[BaseMessage]) -> None:
    assert [type(m) for m in after] == [type(m) for m in before]
    for old, new in zip(before, after, strict=True):
        assert new.text == old.text
        expected = format_chat_time(old.additional_kwargs[CHAT_TIME_KEY])
        assert new.additional_kwargs[CHAT_TIME_KEY] == expected
        if isinstance(old, AIMessage):
            assert isinstance(new, AIMessage)
            assert [(c["id"], c["name"], c["args"]) for c in new.tool_calls] == [
                (c["id"], c["name"], c["args"]) for c in old.tool_calls
            ]
        if isinstance(old, ToolMessage):
            assert isinstance(new, ToolMessage)
            assert new.tool_call_id == old.tool_call_id


def sent_by_add_message(messages: list[MessageInput]) -> list[Any]:
    """The messages ``add_message`` puts on the wire for ``messages`` (MemOSInputError when it
    refuses them)."""
    fake = FakeMemOS()
    build("sync", fake).add_message(messages, user_id="u", conversation_id="c")
    return [message for body in fake.bodies for message in body["messages"]]


@CI
@given(conversations())
def test_messages_survive_the_round_trip(messages: list[BaseMessage]) -> None:
    converted = to_memos_messages(messages)
    assert sent_by_add_message(converted) == converted  # what add/message takes, unchanged
    assert_same(messages, from_memos_messages(stored(converted)))


@settings(CI, max_examples=15)
@given(conversations())
def test_messages_survive_the_embedded_engine(messages: list[BaseMessage]) -> None:
    engine = EmbeddedEngine()
    with MemOSClient(embedded=engine) as client:
        client.add_message(to_memos_messages(messages), user_id="u", conversation_id="c")
        found = client.get_message(user_id="u", conversation_id="c", message_limit_number=50)
    engine.close()
    assert_same(messages, from_memos_messages(found.message_detail_list))


@CI
@given(st.text(max_size=40) | st.builds(str, MOMENTS) | st.builds(format_chat_time, MOMENTS))
@example("2025年6月10日 9点")  # free text, kept as it is
@example("1749513600")  # epoch seconds
@example("9999-12-31T23:59:59-05:00")  # beyond year 9999 in Beijing time
def test_a_chat_time_string_is_kept_or_read_as_the_same_moment(chat_time: str) -> None:
    (converted,) = to_memos_messages(
        [HumanMessage("hi", additional_kwargs={"chat_time": chat_time})]
    )
    (back,) = from_memos_messages(stored([converted]))
    sent = converted["chat_time"]
    if chat_time.strip():
        assert sent == chat_time
    returned = back.additional_kwargs.get(CHAT_TIME_KEY)
    moment = parse_timestamp(sent)
    if moment is None:
        assert returned == sent
    elif 1 < moment.year < 9999:  # the edges of datetime's range may lose their offset
        assert parse_timestamp(returned) == moment.replace(microsecond=0)


# ---- messages: arbitrary input ---------------------------------------------------------------

BLOCK_TYPES = st.sampled_from(
    ["text", "image", "image_url", "file", "audio", "video", "reasoning", "tool_call", "x"]
)
BLOCK_KEY_NAMES = ["text", "url", "base64", "data", "mime_type", "source_type", "image_url", "file"]
BLOCK_KEYS = st.sampled_from(BLOCK_KEY_NAMES)
JUNK = JSON_VALUES | st.builds(object) | MOMENTS | st.just(float("nan"))
BLOCKS = TEXT | st.builds(
    lambda kind, rest: {"type": kind, **rest},
    BLOCK_TYPES,
    st.dictionaries(BLOCK_KEYS, JUNK | st.dictionaries(BLOCK_KEYS, JUNK, max_size=2), max_size=3),
)
CONTENT = TEXT | st.lists(BLOCKS, max_size=3)
EXTRA = st.dictionaries(st.sampled_from([CHAT_TIME_KEY, "other"]), JUNK, max_size=2)


@st.composite
def junk_message(draw: st.DrawFn) -> object:
    kind = draw(st.sampled_from(["human", "ai", "tool", "system", "chat", "not a message"]))
    content, extra = draw(CONTENT), draw(EXTRA)
    if kind == "human":
        return HumanMessage(content=content, additional_kwargs=extra)
    if kind == "system":
        return SystemMessage(content=content, additional_kwargs=extra)
    if kind == "tool":
        return ToolMessage(content=content, tool_call_id=draw(TEXT), additional_kwargs=extra)
    if kind == "chat":
        return ChatMessage(content=content, role=draw(TEXT), additional_kwargs=extra)
    if kind == "ai":
        call = st.fixed_dictionaries(
            {"id": TEXT, "name": TEXT, "args": st.dictionaries(TEXT, JUNK, max_size=2)}
        )
        calls = draw(st.lists(call, max_size=2))
        return AIMessage(content=content, tool_calls=calls, additional_kwargs=extra)
    return draw(JUNK)


@CI
@given(st.lists(junk_message(), max_size=4) | JUNK)
def test_conversion_raises_only_input_errors(messages: Any) -> None:
    try:
        converted = to_memos_messages(messages)
    except MemOSInputError:
        return
    json.dumps(converted, allow_nan=False)  # what the client will send
    if converted:
        sent_by_add_message(converted)  # and add_message takes it


STORED = st.fixed_dictionaries(
    {},
    optional={
        "role": st.none() | st.sampled_from(["user", "assistant", "system", "tool"]) | TEXT,
        "content": JSON_VALUES
        | st.lists(
            st.dictionaries(
                st.sampled_from(["type", *BLOCK_KEY_NAMES]), JSON_VALUES | BLOCK_TYPES, max_size=3
            ),
            max_size=3,
        ),
        "tool_calls": st.none()
        | st.lists(
            st.dictionaries(
                st.sampled_from(["id", "type", "function"]),
                JSON_VALUES
                | st.dictionaries(st.sampled_from(["name", "arguments"]), JSON_VALUES, max_size=2),
                max_size=3,
            ),
            max_size=2,
        ),
        "tool_call_id": st.none() | TEXT,
        "chat_time": st.none() | TEXT | st.integers() | st.floats(),
        "create_time": st.none() | st.integers() | TEXT,
    },
)


@CI
@given(st.lists(STORED, max_size=4))
def test_whatever_the_service_stored_converts_back(raw: list[dict[str, Any]]) -> None:
    details = []
    for item in raw:
        try:
            details.append(MessageDetail.model_validate(item))
        except ValidationError:  # the client reports such an answer as a response error
            continue
    messages = from_memos_messages(details)
    assert len(messages) == len(details)


# ---- filters --------------------------------------------------------------------------------

VALUES = st.text(min_size=1, max_size=15)
INFO_KEYS = VALUES.filter(
    lambda key: (
        "\x00" not in key
        and key not in {"and", "or", "tags", "user_id", "create_time", "update_time"}
    )
)
BOUNDS = (
    MOMENTS
    | st.dates(min_value=datetime(1990, 1, 1).date())
    | st.sampled_from(["2025-12-10", "2025-12-10 08:30:00", "2025-12-10T08:30:00+08:00"])
)


@st.composite
def time_conditions(draw: st.DrawFn) -> dict[str, Any]:
    bounds = draw(st.dictionaries(st.sampled_from(["lt", "gt", "lte", "gte"]), BOUNDS, min_size=1))
    return draw(st.sampled_from([created, updated]))(**bounds)  # type: ignore[no-any-return]


CONDITIONS = st.one_of(
    st.builds(tag, VALUES),
    st.builds(agent, VALUES),
    st.builds(app, VALUES),
    st.builds(info, INFO_KEYS, VALUES),
    time_conditions(),
)
ROOTS = st.builds(
    lambda combine, conditions: combine(*conditions),
    st.sampled_from([all_of, any_of]),
    st.lists(CONDITIONS, min_size=1, max_size=4),
)
BUILT = ROOTS | st.builds(
    lambda sources: by_source(**sources),
    st.dictionaries(st.sampled_from(["user", "public", "knowledgebase"]), ROOTS, min_size=1),
)


@CI
@given(BUILT)
def test_what_the_builder_makes_is_valid_json(value: dict[str, Any]) -> None:
    assert validate_filter(value) == value
    assert json.loads(json.dumps(value, allow_nan=False)) == value


FILTER_KEYS = st.sampled_from(
    [
        *("and", "or", "user", "public", "knowledgebase", "tags", "contains", "create_time"),
        *("gte", "lt", "agent_id", "user_id", "scene", ""),
    ]
)
FILTER_JUNK = st.recursive(
    JSON_VALUES | st.builds(object) | st.just(float("nan")),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(FILTER_KEYS | TEXT, inner, max_size=3)
        | st.tuples(inner)
    ),
    max_leaves=10,
)


@CI
@given(FILTER_JUNK | BUILT)
def test_a_filter_is_accepted_as_json_or_refused_as_input_error(value: Any) -> None:
    try:
        checked = validate_filter(value)
    except MemOSInputError:
        return
    assert json.loads(json.dumps(checked, allow_nan=False)) == checked
    assert validate_filter(checked) == checked
