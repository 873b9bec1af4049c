"""What callers hand to the client: messages (with tool calls and content parts), knowledge-base
files and filters, as ``TypedDict`` shapes of the MemOS request bodies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

from typing_extensions import NotRequired, Required, TypedDict

__all__ = [
    "ContentPart",
    "FilePart",
    "Filter",
    "ImagePart",
    "KnowledgeBaseFileInput",
    "MemoryView",
    "MessageInput",
    "ProfileBinding",
    "TextPart",
    "ToolCall",
]

Filter: TypeAlias = Mapping[str, Any]
"""A filter in the MemOS filter language; see :mod:`langchain_memos.filters`."""


MemoryView: TypeAlias = Literal[
    "detail_factual", "preference", "profile", "event", "skill", "tool_memory"
]
"""A memory view (category) as ``allow_memory_view`` and ``include_memory_view`` name it: facts,
preferences, profile fields, events, skills and tool memories."""


class ToolCallFunction(TypedDict):
    name: str
    arguments: str


class ToolCall(TypedDict):
    id: str
    type: Literal["function"]
    function: ToolCallFunction


class TextPart(TypedDict):
    type: Literal["text"]
    text: str


class ImageURL(TypedDict):
    url: str


class ImagePart(TypedDict):
    type: Literal["image_url"]
    image_url: ImageURL


class FileData(TypedDict):
    file_data: str


class FilePart(TypedDict):
    type: Literal["file"]
    file: FileData


ContentPart: TypeAlias = TextPart | ImagePart | FilePart


class MessageInput(TypedDict, total=False):
    """A message for ``add/message``: an OpenAI-style chat message plus ``chat_time``.

    ``name`` (the speaker, as in OpenAI messages) is used by the embedded engine for multi-party
    conversations; the cloud's documentation does not list it.
    """

    role: Required[Literal["user", "assistant", "system", "tool"]]
    content: str | Sequence[ContentPart]
    name: str
    chat_time: str
    tool_call_id: str
    tool_calls: Sequence[ToolCall]


class KnowledgeBaseFileInput(TypedDict):
    """A file for ``add/knowledgebase-file``: ``content`` is a URL, base64 or a data URI."""

    content: str
    name: NotRequired[str]
    type: NotRequired[Literal["document", "skill"]]


class ProfileBinding(TypedDict, total=False):
    """One entry of ``bind_profile_template``: a template and exactly one of its subjects."""

    profile_template_id: Required[str]
    user_id: str
    agent_id: str
