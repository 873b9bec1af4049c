"""Pydantic models of the MemOS wire format, tolerant of what the service really sends.

This is the public module of the wire types: the response models are defined here; the request
shapes (:mod:`langchain_memos._request_types`) and the service's time helpers
(:mod:`langchain_memos._service_time`) are defined apart and importable from here.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

from pydantic import BeforeValidator, Field, model_validator

from langchain_memos._model_base import (
    MemoryItem,
    MemOSModel,
    NoneAs,
    NullableList,
    Score,
    Timestamped,
)
from langchain_memos._request_types import (
    ContentPart,
    FilePart,
    Filter,
    ImagePart,
    KnowledgeBaseFileInput,
    MemoryView,
    MessageInput,
    ProfileBinding,
    TextPart,
    ToolCall,
)
from langchain_memos._request_types import FileData as FileData
from langchain_memos._request_types import ImageURL as ImageURL
from langchain_memos._request_types import ToolCallFunction as ToolCallFunction
from langchain_memos._service_time import (
    SERVICE_TIMEZONE,
    Timestamp,
    format_service_time,
    parse_timestamp,
)

__all__ = [
    "SERVICE_TIMEZONE",
    "ChatResult",
    "ChatStreamEvent",
    "ContentPart",
    "EventDetail",
    "ExtractMemoryResult",
    "ExtractedMemory",
    "ExtractedPreference",
    "FilePart",
    "Filter",
    "ImagePart",
    "KnowledgeBase",
    "KnowledgeBaseFile",
    "KnowledgeBaseFileInput",
    "KnowledgeBaseFileList",
    "KnowledgeBaseFiles",
    "MemOSModel",
    "MemoryDetail",
    "MemoryItem",
    "MemoryListResult",
    "MemoryView",
    "MessageDetail",
    "MessageInput",
    "MessageListResult",
    "OperationResult",
    "PreferenceDetail",
    "ProfileBinding",
    "ProfileDetail",
    "RerankResult",
    "RerankedDocument",
    "SearchMemoryResult",
    "SkillDetail",
    "SkillValue",
    "TaskResult",
    "TaskStatus",
    "TextPart",
    "Timestamp",
    "ToolCall",
    "ToolMemoryDetail",
    "ToolUsage",
    "format_service_time",
    "parse_timestamp",
]


class MemoryDetail(MemoryItem):
    """A factual memory."""

    memory_key: str | None = None
    memory_value: str | None = None
    memory_type: str | None = None
    memory_time: Timestamp = None
    confidence: Score = None
    tags: NullableList[str] = Field(default_factory=list)
    sources: NullableList[Any] = Field(default_factory=list)
    info: dict[str, Any] | None = None


class PreferenceDetail(MemoryItem):
    """A preference memory (``explicit_preference`` or ``implicit_preference``)."""

    preference_type: str | None = None
    preference: str | None = None
    reasoning: str | None = None
    sources: NullableList[Any] = Field(default_factory=list)
    info: dict[str, Any] | None = None


class ToolUsage(MemOSModel):
    used_tool: str | None = None
    error_type: str | None = None
    success_rate: Score = None
    tool_experience: str | None = None


class ToolMemoryDetail(MemoryItem):
    """A tool memory: a tool-call trajectory or a tool schema."""

    tool_type: str | None = None
    tool_value: str | dict[str, Any] | None = None
    tool_used_status: NullableList[ToolUsage] = Field(default_factory=list)
    experience: str | None = None

    @property
    def is_schema(self) -> bool:
        """Whether this memory describes a tool schema (``ToolSchema`` or ``ToolSchemaMemory``)."""
        return (self.tool_type or "").startswith("ToolSchema")


class SkillValue(MemOSModel):
    name: str | None = None
    description: str | None = None
    procedure: str | None = None
    experience: NullableList[str] = Field(default_factory=list)
    preference: NullableList[str] = Field(default_factory=list)
    examples: NullableList[str] = Field(default_factory=list)
    script: Any = None
    others: Any = None


class SkillDetail(MemoryItem):
    """A skill recalled from MemOS or from a knowledge base's skill files."""

    skill_value: SkillValue | None = None
    skill_url: str | None = None
    skill_type: str | None = None
    confidence: Score = None
    tags: NullableList[str] = Field(default_factory=list)


class MessageDetail(Timestamped):
    """A stored conversation message."""

    role: str | None = None
    content: Any = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    chat_time: Timestamp = None
    name: str | None = None
    """Who spoke (a multi-party conversation), when the message was sent with a ``name``."""


class ProfileDetail(MemoryItem):
    """One field of a profile (the ``profile`` view): ``profile_path`` is category and field.

    ``memory`` reads ``"Basic Info.Occupation: Product Manager"``; ``algorithm_updatable`` says
    whether MemOS may still change the field from conversations (``edit_profile`` locks it).
    """

    memory: str | None = None
    memory_type: str | None = None
    template_id: str | None = None
    profile_category: str | None = None
    profile_field: str | None = None
    profile_path: str | None = None
    confidence: Score = None
    algorithm_updatable: bool | None = None


class EventDetail(MemoryItem):
    """An event (the ``event`` view): what happened, when, where and with whom.

    ``event_time`` holds the times the conversation gave, as said (``["last Tuesday afternoon"]``).
    """

    event_key: str | None = None
    event_value: str | None = None
    event_type: str | None = None
    confidence: Score = None
    event_time: NullableList[str] = Field(default_factory=list)
    event_location: NullableList[str] = Field(default_factory=list)
    event_roles: NullableList[str] = Field(default_factory=list)


class _MemoryLists(MemOSModel):
    """One list per memory view; a view that was not asked for stays empty."""

    memory_detail_list: NullableList[MemoryDetail] = Field(default_factory=list)
    preference_detail_list: NullableList[PreferenceDetail] = Field(default_factory=list)
    tool_memory_detail_list: NullableList[ToolMemoryDetail] = Field(default_factory=list)
    skill_detail_list: NullableList[SkillDetail] = Field(default_factory=list)
    profile_detail_list: NullableList[ProfileDetail] = Field(default_factory=list)
    event_detail_list: NullableList[EventDetail] = Field(default_factory=list)


class SearchMemoryResult(_MemoryLists):
    """What ``search/memory`` recalled.

    ``preference_note`` is the service's instruction to put after recalled preferences; it is empty
    when no preference was recalled.
    """

    preference_note: Annotated[str, NoneAs(str)] = ""
    message_detail_list: NullableList[MessageDetail] = Field(default_factory=list)

    def __len__(self) -> int:
        """How many memories were recalled, over every view (messages are not memories)."""
        return (
            len(self.memory_detail_list)
            + len(self.preference_detail_list)
            + len(self.tool_memory_detail_list)
            + len(self.skill_detail_list)
            + len(self.profile_detail_list)
            + len(self.event_detail_list)
        )


class MemoryListResult(_MemoryLists):
    """One page of ``get/memory``; ``total`` is the largest count across memory kinds."""

    total: int | None = None
    size: int | None = None
    current: int | None = None
    pages: int | None = None


class MessageListResult(MemOSModel):
    message_detail_list: NullableList[MessageDetail] = Field(default_factory=list)


class TaskResult(MemOSModel):
    """The answer of ``add/message`` or ``add/feedback``: ``status`` is running or completed."""

    success: bool | None = None
    task_id: str | None = None
    status: str | None = None


class TaskStatus(MemOSModel):
    """The state of an asynchronous task: ``running``, ``completed`` or ``failed``."""

    task_id: str | None = None
    status: str | None = None
    memory_views: Any = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_list(cls, data: Any) -> Any:
        # Older deployments answer with a one-element list of statuses.
        if isinstance(data, list):
            return data[0] if data else {}
        return data

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed")


class OperationResult(MemOSModel):
    success: bool | None = None


class KnowledgeBase(MemOSModel):
    id: str | None = None


class KnowledgeBaseFile(MemOSModel):
    id: str | None = None
    type: str | None = None
    name: str | None = None
    size_mb: Score = Field(default=None, alias="sizeMB")
    size: str | int | float | None = None
    status: str | None = None


def _one_as_list(value: object) -> object:
    # Older deployments answer an upload with one object instead of a list.
    return [value] if isinstance(value, dict) else value


KnowledgeBaseFiles: TypeAlias = Annotated[list[KnowledgeBaseFile], BeforeValidator(_one_as_list)]


class KnowledgeBaseFileList(MemOSModel):
    total: int | None = None
    page: int | None = None
    page_size: int | None = None
    file_detail_list: NullableList[KnowledgeBaseFile] = Field(default_factory=list)


class ExtractedMemory(MemOSModel):
    memory_key: str | None = None
    memory_value: str | None = None
    memory_type: str | None = None
    tags: NullableList[str] = Field(default_factory=list)


class ExtractedPreference(MemOSModel):
    preference: str | None = None
    reasoning: str | None = None
    preference_type: str | None = None


class ExtractMemoryResult(MemOSModel):
    success: bool | None = None
    memory_detail_list: NullableList[ExtractedMemory] = Field(default_factory=list)
    preference_detail_list: NullableList[ExtractedPreference] = Field(default_factory=list)


class RerankedDocument(MemOSModel):
    index: int | None = None
    document: dict[str, Any] | None = None
    relevance_score: Score = None

    @property
    def text(self) -> str | None:
        return None if self.document is None else self.document.get("text")


class RerankResult(MemOSModel):
    id: str | None = None
    model: str | None = None
    usage: dict[str, Any] | None = None
    results: NullableList[RerankedDocument] = Field(default_factory=list)


class ChatResult(MemOSModel):
    response: str | None = None


class ChatStreamEvent(MemOSModel):
    """One server-sent event of a streamed chat: ``type`` is reasoning, text or end."""

    type: str | None = None
    data: Any = None
