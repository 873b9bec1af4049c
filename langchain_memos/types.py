"""Pydantic models of the MemOS wire format, tolerant of what the service really sends.

This is the public module of the wire types: the response models are defined here; the request
shapes (:mod:`langchain_memos._request_types`) and the service's time helpers
(:mod:`langchain_memos._service_time`) are defined apart and importable from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeAlias, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    model_validator,
)
from pydantic_core import core_schema

from langchain_memos._request_types import (
    ContentPart,
    FilePart,
    Filter,
    ImagePart,
    KnowledgeBaseFileInput,
    MessageInput,
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
    "MemoryDetail",
    "MemoryItem",
    "MemoryListResult",
    "MessageDetail",
    "MessageInput",
    "MessageListResult",
    "OperationResult",
    "PreferenceDetail",
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


@dataclass(frozen=True)
class _NoneAs:
    """``None`` validates as ``factory()``; Python runs only for ``None``, not for every value."""

    factory: Callable[[], Any]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        substitute = core_schema.chain_schema(
            [
                core_schema.none_schema(),
                core_schema.no_info_plain_validator_function(lambda _: self.factory()),
            ]
        )
        return core_schema.union_schema([handler(source), substitute], mode="left_to_right")


_T = TypeVar("_T")
NullableList = Annotated[list[_T], _NoneAs(list)]


class _InvalidAsNone:
    """Anything that is not a number (or a numeric string) validates as ``None``, in Rust."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_default_schema(handler(source), default=None, on_error="default")


# Relativity and confidence are documented as numbers and, in places, as strings.
Score = Annotated[float | None, _InvalidAsNone()]


class MemOSModel(BaseModel):
    """Base of every response model: unknown fields are kept, every field is optional."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)


class _Timestamped(MemOSModel):
    create_time: Timestamp = None
    update_time: Timestamp = None

    @property
    def created_at(self) -> datetime | None:
        """``create_time`` as a timezone-aware ``datetime``."""
        return parse_timestamp(self.create_time)

    @property
    def updated_at(self) -> datetime | None:
        """``update_time`` as a timezone-aware ``datetime``."""
        return parse_timestamp(self.update_time)


class MemoryItem(_Timestamped):
    """What every recalled item has: an id, its conversation, a status and a relevance."""

    id: str | None = None
    conversation_id: str | None = None
    status: str | None = None
    relativity: Score = None


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


class _MemoryLists(MemOSModel):
    memory_detail_list: NullableList[MemoryDetail] = Field(default_factory=list)
    preference_detail_list: NullableList[PreferenceDetail] = Field(default_factory=list)
    tool_memory_detail_list: NullableList[ToolMemoryDetail] = Field(default_factory=list)
    skill_detail_list: NullableList[SkillDetail] = Field(default_factory=list)


class SearchMemoryResult(_MemoryLists):
    """What ``search/memory`` recalled.

    ``preference_note`` is the service's instruction to put after recalled preferences; it is empty
    when no preference was recalled.
    """

    preference_note: Annotated[str, _NoneAs(str)] = ""

    def __len__(self) -> int:
        return (
            len(self.memory_detail_list)
            + len(self.preference_detail_list)
            + len(self.tool_memory_detail_list)
            + len(self.skill_detail_list)
        )


class MemoryListResult(_MemoryLists):
    """One page of ``get/memory``; ``total`` is the largest count across memory kinds."""

    total: int | None = None
    size: int | None = None
    current: int | None = None
    pages: int | None = None


class MessageDetail(_Timestamped):
    """A stored conversation message."""

    role: str | None = None
    content: Any = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None
    chat_time: Timestamp = None


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
