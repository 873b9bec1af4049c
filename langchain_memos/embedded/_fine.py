"""Fine mode: memory extraction with any LangChain chat model, reconciled with what is stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

__all__ = ["Extraction", "extract"]


class ExtractedFact(BaseModel):
    """One fact worth remembering about the user or their world."""

    key: str = Field(description="A short title, e.g. 'Summer trip plan'")
    value: str = Field(description="The fact as one self-contained sentence about the user")
    tags: list[str] = Field(default_factory=list, description="2-5 topic tags")
    type: Literal["UserMemory", "LongTermMemory"] = Field(
        default="UserMemory",
        description="UserMemory: about the user; LongTermMemory: other lasting knowledge",
    )
    replaces: str | None = Field(
        default=None,
        description="The id of an existing memory this fact corrects or updates, if any",
    )


class ExtractedPreference(BaseModel):
    """A preference of the user: stated outright (explicit) or inferred (implicit)."""

    preference: str = Field(description="The preference as one sentence about the user")
    preference_type: Literal["explicit_preference", "implicit_preference"]
    reasoning: str = Field(description="Why this is a preference, citing the conversation")
    replaces: str | None = Field(
        default=None, description="The id of an existing preference this one updates, if any"
    )


class Extraction(BaseModel):
    """What to remember from a conversation, and what it changes."""

    facts: list[ExtractedFact] = Field(default_factory=list)
    preferences: list[ExtractedPreference] = Field(default_factory=list)
    obsolete: list[str] = Field(
        default_factory=list,
        description="Ids of existing memories the conversation shows to be wrong, not replaced",
    )


INSTRUCTIONS = """You maintain the long-term memory of an assistant about one user.
From the conversation, extract:
- facts: lasting, self-contained facts about the user or their world (not small talk), each one
  sentence, written about "the user" (in the conversation's language);
- preferences: what the user likes, dislikes, wants or avoids; explicit when stated outright,
  implicit when you infer it, with your reasoning.
Existing memories are listed with their ids. When the conversation changes one of them, return
the new version with `replaces` set to that id, instead of a duplicate. List in `obsolete` the ids
of memories that are now simply wrong. Return nothing for turns with nothing worth keeping."""


def _render(messages: Sequence[dict[str, Any]]) -> str:
    lines = []
    for message in messages:
        who = message.get("name") or message.get("role")
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        if content:
            lines.append(f"[{message.get('chat_time', '')}] {who}: {content}")
    return "\n".join(lines)


def extract(
    model: BaseChatModel,
    messages: Sequence[dict[str, Any]],
    existing: Sequence[tuple[str, str]],
) -> Extraction:
    """Ask ``model`` what to remember from ``messages``, given ``existing`` (id, text) memories."""
    known = "\n".join(f"- {memory_id}: {text}" for memory_id, text in existing) or "(none)"
    # Imported here, where a model is asked: an engine without one never loads langchain_core.
    from langchain_core.messages import HumanMessage, SystemMessage

    prompt = [
        SystemMessage(INSTRUCTIONS),
        HumanMessage(f"Existing memories:\n{known}\n\nConversation:\n{_render(messages)}"),
    ]
    result = model.with_structured_output(Extraction).invoke(prompt)
    if isinstance(result, Extraction):
        return result
    return Extraction.model_validate(result)
