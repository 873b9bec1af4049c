"""Both clients against recorded MemOS answers, one cassette per endpoint family.

The sync and async test of a family replay the same cassette, so they must send the same
requests. The assertions check what a caller relies on (types, parsed timestamps, task
states, stream events, error classes), not the example text, so that they hold for a
recording made against the MemOS cloud as well as for one made against the doc server.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import pytest

from langchain_memos import AsyncMemOSClient, AuthenticationError, MemOSClient, NotFoundError
from langchain_memos.types import (
    ChatStreamEvent,
    ExtractMemoryResult,
    KnowledgeBaseFile,
    KnowledgeBaseFileList,
    MemoryDetail,
    MemoryListResult,
    MessageInput,
    MessageListResult,
    RerankResult,
    SearchMemoryResult,
    TaskResult,
    TaskStatus,
)

from .doc_server import DOCUMENTED_TASK_ID, serve_docs

# The add/message example of the quick start (conversation "0610").
CONVERSATION: list[MessageInput] = [
    {"role": "user", "content": "我想暑假出去玩,你能帮我推荐下吗?"},
    {"role": "assistant", "content": "好的!是自己出行还是和家人朋友一起呢?"},
    {"role": "user", "content": "肯定要带孩子啊,我们家出门都是全家一起。"},
    {"role": "assistant", "content": "明白了,所以你们是父母带孩子一块儿旅行,对吗?"},
    {"role": "user", "content": "对,带上孩子和老人,一般都是全家行动。"},
    {"role": "assistant", "content": "收到,那我会帮你推荐适合家庭出游的目的地。"},
]
CONVERSATION_ID = "0610"
QUERY = "国庆去哪玩"
# A task id that no service ever issued: get/status answers 50131.
UNKNOWN_TASK_ID = "00000000-0000-0000-0000-000000000000"
TASK_STATES = {"running", "completed", "failed"}
RERANK_DOCUMENTS = ["适合带孩子和老人的家庭旅行目的地", "商务出差的酒店推荐", "麻辣火锅和毛血旺"]
FAQ = b"# FAQ\n\nMemOS remembers what users tell it across conversations.\n"
NOTES = b"# Notes\n\nThe family travels with children and grandparents.\n"


def _user(family: str) -> str:
    # One user per family, so that one family's clean-up cannot affect another's recording.
    return f"langchain-memos-cassettes-{family}"


# ---- what a caller relies on --------------------------------------------------------------------


def check_added(task: TaskResult) -> str:
    """A synchronous add/message: done, with a task id to ask about."""
    assert isinstance(task, TaskResult)
    assert task.success is True
    assert task.status == "completed"  # async_mode=False returns after processing
    assert isinstance(task.task_id, str)
    assert task.task_id
    return task.task_id


def check_status(status: TaskStatus, task_id: str) -> None:
    assert isinstance(status, TaskStatus)
    assert status.task_id == task_id
    assert status.status in TASK_STATES


class Stamped(Protocol):
    """Any record with ``create_time`` and ``update_time``."""

    @property
    def created_at(self) -> datetime | None: ...

    @property
    def updated_at(self) -> datetime | None: ...


def check_timestamps(record: Stamped) -> None:
    """At least one timestamp, and every timestamp parses to an aware ``datetime``."""
    stamps = [stamp for stamp in (record.created_at, record.updated_at) if stamp is not None]
    assert stamps, f"no parseable timestamp in {record!r}"
    for stamp in stamps:
        assert stamp.tzinfo is not None
        assert stamp.utcoffset() is not None


def check_search(found: SearchMemoryResult) -> None:
    assert isinstance(found, SearchMemoryResult)
    assert isinstance(found.preference_note, str)
    assert found.memory_detail_list, "the memories just added should be recalled"
    for memory in found.memory_detail_list:
        assert isinstance(memory, MemoryDetail)
        assert isinstance(memory.id, str)
        assert isinstance(memory.memory_value, str)
        assert memory.memory_value
        assert all(isinstance(tag, str) for tag in memory.tags)
        assert memory.relativity is None or 0.0 <= memory.relativity <= 1.0
        check_timestamps(memory)
    for preference in found.preference_detail_list:
        assert isinstance(preference.preference, str)
        check_timestamps(preference)


def check_listing(listing: MemoryListResult) -> str:
    """A page of get/memory; returns the id of its first memory."""
    assert isinstance(listing, MemoryListResult)
    assert isinstance(listing.total, int)
    assert listing.total >= 1
    assert listing.memory_detail_list
    for memory in listing.memory_detail_list:
        assert isinstance(memory.id, str)
        assert isinstance(memory.memory_value, str)
        assert isinstance(memory.sources, list)
        check_timestamps(memory)
    first = listing.memory_detail_list[0].id
    assert first is not None
    return first


def check_one(memory: MemoryDetail, memory_id: str) -> None:
    assert isinstance(memory, MemoryDetail)
    assert memory.id == memory_id
    assert isinstance(memory.memory_value, str)
    check_timestamps(memory)


def check_feedback(task: TaskResult) -> None:
    assert task.success is True
    assert task.status in TASK_STATES
    assert isinstance(task.task_id, str)


def check_not_found(error: NotFoundError) -> None:
    assert error.code == 50131
    assert error.path == "/get/status"
    assert isinstance(error.message, str)


def check_messages(listing: MessageListResult) -> None:
    assert isinstance(listing, MessageListResult)
    assert listing.message_detail_list
    sent = {message["content"] for message in CONVERSATION}
    for message in listing.message_detail_list:
        assert message.role in {"user", "assistant"}
        assert message.content in sent  # stored as sent, whatever the order and count
        check_timestamps(message)


def check_answer(answer: str | None) -> None:
    assert isinstance(answer, str)
    assert answer.strip()


def check_stream(events: Sequence[ChatStreamEvent]) -> None:
    """Events are reasoning or text; the ``end`` event stops the stream and is not yielded."""
    assert events
    assert all(isinstance(event, ChatStreamEvent) for event in events)
    assert {event.type for event in events} <= {"reasoning", "text"}
    assert all(isinstance(event.data, str) for event in events)
    check_answer("".join(event.data for event in events if event.type == "text"))


def check_files(files: list[KnowledgeBaseFile], names: set[str]) -> list[str]:
    """Files just added: one per name, each with an id and a status. Returns the ids."""
    assert isinstance(files, list)
    assert {file.name for file in files} == names
    for file in files:
        assert isinstance(file, KnowledgeBaseFile)
        assert isinstance(file.id, str)
        assert file.id
        assert isinstance(file.status, str)
    return [file.id for file in files if file.id is not None]


def check_file_list(listing: KnowledgeBaseFileList, file_ids: list[str]) -> None:
    assert isinstance(listing, KnowledgeBaseFileList)
    assert isinstance(listing.total, int)
    assert set(file_ids) <= {file.id for file in listing.file_detail_list}
    assert listing.total >= len(file_ids)


def check_extracted(extracted: ExtractMemoryResult) -> None:
    assert isinstance(extracted, ExtractMemoryResult)
    assert extracted.memory_detail_list or extracted.preference_detail_list
    for memory in extracted.memory_detail_list:
        assert isinstance(memory.memory_value, str)
        assert memory.memory_value
    for preference in extracted.preference_detail_list:
        assert isinstance(preference.preference, str)


def check_reranked(ranked: RerankResult) -> None:
    """Two results (top_n=2), best first, each pointing back at its input document."""
    assert isinstance(ranked, RerankResult)
    assert len(ranked.results) == 2
    scores = [result.relevance_score for result in ranked.results]
    assert all(isinstance(score, float) for score in scores)
    assert scores == sorted(scores, key=lambda score: -(score or 0.0))
    for result in ranked.results:
        assert result.index is not None
        assert 0 <= result.index < len(RERANK_DOCUMENTS)
        assert result.text == RERANK_DOCUMENTS[result.index]
    assert ranked.results[0].index == 0  # the only document about travelling with children


# ---- memories: add, status, search, list, get one, feedback, delete, and one error --------------


@pytest.mark.vcr
@pytest.mark.default_cassette("memories")
def test_memories_sync(sync_client: MemOSClient) -> None:
    client, user = sync_client, _user("memories")
    task_id = check_added(
        client.add_message(
            CONVERSATION, user_id=user, conversation_id=CONVERSATION_ID, async_mode=False
        )
    )
    check_status(client.get_status(task_id), task_id)
    check_search(client.search_memory(QUERY, user_id=user, conversation_id="0928", relativity=0))
    memory_id = check_listing(client.get_memory(user_id=user, page=1, size=10))
    check_one(client.get_memory_by_id(memory_id), memory_id)
    check_feedback(
        client.add_feedback(
            user_id=user,
            conversation_id=CONVERSATION_ID,
            feedback_content="我们今年暑假只带孩子出去玩。",
        )
    )
    assert client.delete_memory(memory_ids=[memory_id]).success is True
    with pytest.raises(NotFoundError) as caught:
        client.get_status(UNKNOWN_TASK_ID)
    check_not_found(caught.value)
    assert client.delete_memory(user_id=user).success is True


@pytest.mark.vcr
@pytest.mark.default_cassette("memories")
async def test_memories_async(async_client: AsyncMemOSClient) -> None:
    client, user = async_client, _user("memories")
    task_id = check_added(
        await client.add_message(
            CONVERSATION, user_id=user, conversation_id=CONVERSATION_ID, async_mode=False
        )
    )
    check_status(await client.get_status(task_id), task_id)
    check_search(
        await client.search_memory(QUERY, user_id=user, conversation_id="0928", relativity=0)
    )
    memory_id = check_listing(await client.get_memory(user_id=user, page=1, size=10))
    check_one(await client.get_memory_by_id(memory_id), memory_id)
    check_feedback(
        await client.add_feedback(
            user_id=user,
            conversation_id=CONVERSATION_ID,
            feedback_content="我们今年暑假只带孩子出去玩。",
        )
    )
    assert (await client.delete_memory(memory_ids=[memory_id])).success is True
    with pytest.raises(NotFoundError) as caught:
        await client.get_status(UNKNOWN_TASK_ID)
    check_not_found(caught.value)
    assert (await client.delete_memory(user_id=user)).success is True


# ---- messages: the raw conversation comes back --------------------------------------------------


@pytest.mark.vcr
@pytest.mark.default_cassette("messages")
def test_messages_sync(sync_client: MemOSClient) -> None:
    client, user = sync_client, _user("messages")
    check_added(
        client.add_message(
            CONVERSATION, user_id=user, conversation_id=CONVERSATION_ID, async_mode=False
        )
    )
    check_messages(
        client.get_message(user_id=user, conversation_id=CONVERSATION_ID, message_limit_number=10)
    )
    assert client.delete_memory(user_id=user).success is True


@pytest.mark.vcr
@pytest.mark.default_cassette("messages")
async def test_messages_async(async_client: AsyncMemOSClient) -> None:
    client, user = async_client, _user("messages")
    check_added(
        await client.add_message(
            CONVERSATION, user_id=user, conversation_id=CONVERSATION_ID, async_mode=False
        )
    )
    check_messages(
        await client.get_message(
            user_id=user, conversation_id=CONVERSATION_ID, message_limit_number=10
        )
    )
    assert (await client.delete_memory(user_id=user)).success is True


# ---- knowledge base: create, add (JSON and multipart), list, delete -----------------------------

FAQ_DATA_URI = "data:text/markdown;base64," + base64.b64encode(FAQ).decode()


@pytest.mark.vcr
@pytest.mark.default_cassette("knowledge_base")
def test_knowledge_base_sync(sync_client: MemOSClient) -> None:
    client = sync_client
    knowledge_base = client.create_knowledgebase(
        "langchain-memos-cassettes", knowledgebase_description="Recorded by the test suite"
    )
    assert isinstance(knowledge_base.id, str)
    assert knowledge_base.id
    file_ids = check_files(
        client.add_knowledgebase_files(
            knowledge_base.id, [{"name": "faq.md", "content": FAQ_DATA_URI}]
        ),
        {"faq.md"},
    )
    file_ids += check_files(
        client.upload_knowledgebase_files(
            knowledge_base.id, [("notes.md", NOTES)], type="document"
        ),
        {"notes.md"},
    )
    check_file_list(client.get_knowledgebase_files(file_ids=file_ids), file_ids)
    check_file_list(
        client.get_knowledgebase_files(knowledgebase_id=knowledge_base.id, page=1, page_size=20),
        file_ids,
    )
    assert client.delete_knowledgebase_files(file_ids).success is True
    assert client.delete_knowledgebase(knowledge_base.id).success is True


@pytest.mark.vcr
@pytest.mark.default_cassette("knowledge_base")
async def test_knowledge_base_async(async_client: AsyncMemOSClient) -> None:
    client = async_client
    knowledge_base = await client.create_knowledgebase(
        "langchain-memos-cassettes", knowledgebase_description="Recorded by the test suite"
    )
    assert isinstance(knowledge_base.id, str)
    assert knowledge_base.id
    file_ids = check_files(
        await client.add_knowledgebase_files(
            knowledge_base.id, [{"name": "faq.md", "content": FAQ_DATA_URI}]
        ),
        {"faq.md"},
    )
    file_ids += check_files(
        await client.upload_knowledgebase_files(
            knowledge_base.id, [("notes.md", NOTES)], type="document"
        ),
        {"notes.md"},
    )
    check_file_list(await client.get_knowledgebase_files(file_ids=file_ids), file_ids)
    check_file_list(
        await client.get_knowledgebase_files(
            knowledgebase_id=knowledge_base.id, page=1, page_size=20
        ),
        file_ids,
    )
    assert (await client.delete_knowledgebase_files(file_ids)).success is True
    assert (await client.delete_knowledgebase(knowledge_base.id)).success is True


# ---- chat: one JSON answer, one streamed answer -------------------------------------------------

CHAT_ARGS: dict[str, Any] = {
    "user_id": _user("chat"),
    "conversation_id": "0928",
    "query": QUERY,
    "add_message_on_answer": False,
}


@pytest.mark.vcr
@pytest.mark.default_cassette("chat")
def test_chat_sync(sync_client: MemOSClient) -> None:
    check_answer(sync_client.chat(**CHAT_ARGS).response)
    check_stream(list(sync_client.chat_stream(**CHAT_ARGS)))


@pytest.mark.vcr
@pytest.mark.default_cassette("chat")
async def test_chat_async(async_client: AsyncMemOSClient) -> None:
    check_answer((await async_client.chat(**CHAT_ARGS)).response)
    check_stream([event async for event in async_client.chat_stream(**CHAT_ARGS)])


# ---- extract, rerank, update --------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.default_cassette("extract_rerank_update")
def test_extract_rerank_update_sync(sync_client: MemOSClient) -> None:
    client, user = sync_client, _user("update")
    check_extracted(client.extract_memory(CONVERSATION, extraction_types=["memory", "preference"]))
    check_reranked(
        client.rerank("国庆带孩子去哪里玩", RERANK_DOCUMENTS, model="memos-reranker-0.6b", top_n=2)
    )
    check_added(
        client.add_message(
            CONVERSATION, user_id=user, conversation_id=CONVERSATION_ID, async_mode=False
        )
    )
    memory_id = check_listing(client.get_memory(user_id=user, page=1, size=1))
    updated = client.update_memory(memory_id, content="用户暑假和孩子、老人一起全家出游。")
    assert updated.success is True
    assert client.delete_memory(user_id=user).success is True


@pytest.mark.vcr
@pytest.mark.default_cassette("extract_rerank_update")
async def test_extract_rerank_update_async(async_client: AsyncMemOSClient) -> None:
    client, user = async_client, _user("update")
    check_extracted(
        await client.extract_memory(CONVERSATION, extraction_types=["memory", "preference"])
    )
    check_reranked(
        await client.rerank(
            "国庆带孩子去哪里玩", RERANK_DOCUMENTS, model="memos-reranker-0.6b", top_n=2
        )
    )
    check_added(
        await client.add_message(
            CONVERSATION, user_id=user, conversation_id=CONVERSATION_ID, async_mode=False
        )
    )
    memory_id = check_listing(await client.get_memory(user_id=user, page=1, size=1))
    updated = await client.update_memory(memory_id, content="用户暑假和孩子、老人一起全家出游。")
    assert updated.success is True
    assert (await client.delete_memory(user_id=user)).success is True


# ---- the doc server itself ----------------------------------------------------------------------


@pytest.mark.loopback
def test_doc_server_answers_40100_without_an_api_key() -> None:
    # No cassette: the cloud cannot be asked this without a key (the client refuses to send
    # a keyless request off loopback), so only the doc server's documented answer is checked.
    with (
        serve_docs() as base_url,
        MemOSClient(api_key="", base_url=base_url, max_retries=0) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.get_status(DOCUMENTED_TASK_ID)
    assert caught.value.code == 40100
