"""The embedded engine keeps users apart, whatever their ids, queries and filters hold.

Users get hostile ids (SQL and FTS5 syntax, quotes, wildcards, CJK) and each stores a
secret; then every user searches, lists, reads and deletes with hostile queries, filters and
memory ids. Nothing of another user may come back or go away, and the only errors are the
documented ones: ``MemOSInputError`` for what the client refuses, ``NotFoundError`` for ids that
do not exist. The engine runs both lexically and with vectors (a constant embedding, so that
every memory is as similar as can be and only the scoping keeps a search to its user).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.embeddings import Embeddings

from langchain_memos import MemOSClient, MemOSInputError, NotFoundError
from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.filters import agent, all_of, any_of, by_source, created, info, tag
from langchain_memos.types import MemoryListResult, SearchMemoryResult
from tests.fakes import FakeMemOS, build

CI = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

HOSTILE = [
    "'; DROP TABLE memories; --",
    "u1' OR '1'='1",
    '" OR 1=1 --',
    ";--",
    "user_id:*",
    "scope : (u1)",
    "{body spk ctx1}: jazz",
    "alice OR bob",
    "NEAR(alice bob, 2)",
    "jazz*",
    "*",
    '"',
    "'",
    "%",
    "_",
    "\\",
    "^jazz",
    "NOT jazz",
    "u1\x00",
    "u1 ",
    "用户一",
    "東京 OR 大阪",
    "ユーザー",
    "$.user_id",
    "json_each(m.info)",
]


def _client_takes(value: str) -> bool:
    """An id the client sends: a NUL or a space around it (``"u1\x00"``, ``"u1 "``) is
    refused before the engine sees it, so only the queries use those."""
    try:
        build("sync", FakeMemOS()).search_memory("q", user_id=value)
    except MemOSInputError:
        return False
    return True


IDS = st.sampled_from([h for h in HOSTILE if _client_takes(h)]) | st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=100
).map(str.strip).filter(bool)
SHARED = "jazz concerts in Tokyo"  # every user says it: only scoping keeps the answers apart
QUERIES = st.sampled_from(
    [*HOSTILE, SHARED, "jazz", "Tokyo concerts", "secret", "When did I say it?"]
) | st.text(max_size=40)


class SameVector(Embeddings):
    """Every text is the same point: vector search alone would return everyone's memories."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.5, 0.25] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0, 0.5, 0.25]


@dataclass
class User:
    id: str
    agent_id: str
    tag: str
    scene: str
    secret: str = ""

    def __post_init__(self) -> None:
        self.secret = "secret" + uuid.uuid4().hex[:12]


@contextmanager
def memos(vectors: bool) -> Iterator[MemOSClient]:
    engine = EmbeddedEngine(embeddings=SameVector() if vectors else None)
    with MemOSClient(embedded=engine, max_retries=0) as client:
        yield client
    engine.close()


def remember(client: MemOSClient, user: User, conversation_id: str) -> None:
    """Every turn holds the user's secret: a fact, a preference and a tool memory."""
    call: Any = {"name": "find_concerts", "arguments": f'{{"code": "{user.secret}"}}'}
    client.add_message(
        [
            {"role": "user", "content": f"I love {SHARED} with {user.secret}."},
            {"role": "assistant", "content": f"Noted: {SHARED} and {user.secret}."},
            {"role": "user", "content": f"I prefer {user.secret} seats for {SHARED}."},
            {
                "role": "assistant",
                "tool_calls": [{"id": "call_1", "type": "function", "function": call}],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": f"{SHARED}: {user.secret}"},
        ],
        user_id=user.id,
        conversation_id=conversation_id,
        agent_id=user.agent_id,
        tags=[user.tag],
        info={"scene": user.scene, user.tag.replace("\x00", "") or "t": user.id},
    )


@st.composite
def users(draw: st.DrawFn) -> list[User]:
    ids = draw(st.lists(IDS, min_size=2, max_size=3, unique=True))
    return [
        User(id=i, agent_id=draw(IDS), tag=draw(IDS), scene=draw(IDS).replace("\x00", ""))
        for i in ids
    ]


@st.composite
def filters(draw: st.DrawFn, everyone: list[User]) -> Any:
    """A filter that names what another user (or this one) wrote, or hostile text."""
    someone = draw(st.sampled_from(everyone))
    condition = st.sampled_from(
        [
            agent(someone.agent_id),
            tag(someone.tag),
            info("scene", someone.scene or "x"),
            created(gte="2000-01-01"),
            agent(draw(IDS)),
            tag(draw(IDS)),
        ]
    )
    root = st.builds(
        lambda combine, conditions: combine(*conditions),
        st.sampled_from([all_of, any_of]),
        st.lists(condition, min_size=1, max_size=3),
    )
    return draw(st.none() | root | st.builds(lambda r: by_source(user=r), root))


def texts(result: SearchMemoryResult | MemoryListResult) -> list[str]:
    """The text of every fact, preference and tool memory."""
    found = [str(item.memory_value) for item in result.memory_detail_list]
    found += [str(item.preference) for item in result.preference_detail_list]
    return found + [str(item.tool_value) for item in result.tool_memory_detail_list]


def ids(result: MemoryListResult) -> set[str]:
    items = [*result.memory_detail_list, *result.preference_detail_list]
    items += result.tool_memory_detail_list
    return {str(i.id) for i in items}


def only_from(found: list[str], user: User, everyone: list[User]) -> None:
    others = [u.secret for u in everyone if u is not user]
    leaked = [text for text in found if any(secret in text for secret in others)]
    assert leaked == [], f"{user.id!r} saw another user's memories"
    assert all(user.secret in text for text in found)


@pytest.mark.parametrize("vectors", [False, True], ids=["lexical", "vectors"])
@CI
@given(data=st.data(), everyone=users(), conversation_id=IDS)
def test_a_search_never_returns_another_users_memories(
    vectors: bool, data: st.DataObject, everyone: list[User], conversation_id: str
) -> None:
    with memos(vectors) as client:
        for user in everyone:
            remember(client, user, conversation_id)
        for user in everyone:
            # Not vacuous: the user's own memories are found.
            own = client.search_memory(SHARED, user_id=user.id, relativity=0)
            assert own.memory_detail_list
            only_from(texts(own), user, everyone)
            for _ in range(3):
                query = data.draw(QUERIES | st.sampled_from([u.secret for u in everyone]))
                filter_ = data.draw(filters(everyone))
                try:
                    found = client.search_memory(
                        query,
                        user_id=user.id,
                        conversation_id=data.draw(st.none() | IDS),
                        filter=filter_,
                        relativity=0,
                        include_tool_memory=True,
                    )
                except MemOSInputError:
                    assert not query.strip()  # the one thing refused: a blank query
                    continue
                only_from(texts(found), user, everyone)


@CI
@given(data=st.data(), everyone=users(), conversation_id=IDS)
def test_listing_reading_and_deleting_stay_within_the_user(
    data: st.DataObject, everyone: list[User], conversation_id: str
) -> None:
    with memos(vectors=False) as client:
        for user in everyone:
            remember(client, user, conversation_id)
        owned = {u.id: ids(client.get_memory(user_id=u.id, size=50)) for u in everyone}
        for user in everyone:
            assert owned[user.id]
            only_from(texts(client.get_memory(user_id=user.id, size=50)), user, everyone)
            filter_ = data.draw(filters(everyone))
            listed = client.get_memory(user_id=user.id, filter=filter_, size=50)
            assert ids(listed) <= owned[user.id]
            # The same conversation id in every user: each reads back only their own turns.
            said = client.get_message(user_id=user.id, conversation_id=conversation_id)
            assert said.message_detail_list
            assert all(
                user.secret in f"{m.content} {m.tool_calls}" for m in said.message_detail_list
            )

        # Hostile memory ids match nothing, so they delete nothing.
        hostile = data.draw(st.lists(IDS, min_size=1, max_size=3))
        with pytest.raises(NotFoundError):
            client.delete_memory(memory_ids=hostile)
        with pytest.raises(NotFoundError):
            client.get_memory_by_id(hostile[0])
        for user in everyone:
            assert ids(client.get_memory(user_id=user.id, size=50)) == owned[user.id]

        # Deleting one user's memories leaves everyone else's.
        gone, *kept = everyone
        client.delete_memory(user_id=gone.id)
        assert ids(client.get_memory(user_id=gone.id, size=50)) == set()
        for user in kept:
            assert ids(client.get_memory(user_id=user.id, size=50)) == owned[user.id]
            found = client.search_memory(SHARED, user_id=user.id, relativity=0)
            only_from(texts(found), user, everyone)
            assert found.memory_detail_list
