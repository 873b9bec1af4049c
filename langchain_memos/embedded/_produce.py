"""Fast mode: the memories of a message, made at once and without a model.

A fact per turn that says something (a short answer carries the turn it answers), the
preferences a user states, and the outcome of each tool call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_memos.embedded._preferences import find_preferences
from langchain_memos.embedded._text import keywords, title, viewpoint
from langchain_memos.embedded._turns import Turn, answers, is_filler, restates, with_question
from langchain_memos.embedded._writer import new_id


def text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return ""


def turn_of(message: Mapping[str, Any]) -> Turn | None:
    """A user's or assistant's message with text, as a turn of the conversation."""
    text = text_of(message.get("content"))
    if message.get("role") not in ("user", "assistant") or not text.strip():
        return None
    return Turn(message["role"], message.get("name") or message["role"], text)


def produce(
    message: dict[str, Any],
    conversation_id: str,
    stamp: int,
    calls: dict[str, dict[str, Any]],
    previous: Turn | None = None,
    echoed: Turn | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Fast-mode memories of one message: a fact per turn that says something (a short
    answer carries the turn it answers), stated preferences, tool use. ``echoed`` is the turn
    ``previous`` restates, if it does: an answer to an echo confirms what was echoed."""
    role = message["role"]
    base = {"conversation_id": conversation_id, "create_time": stamp, "update_time": stamp}
    base["status"] = "activated"
    produced: list[tuple[str, dict[str, Any]]] = []
    for call in message.get("tool_calls") or []:
        calls[call["id"]] = call["function"]
    text = text_of(message.get("content"))
    if role == "tool":
        function = calls.get(str(message.get("tool_call_id")), {})
        name = function.get("name") or "tool"
        failed = any(w in text.lower() for w in ("error", "exception", "failed", "traceback"))
        produced.append(
            (
                "tool",
                {
                    **base,
                    "id": new_id(),
                    "tool_type": "ToolTrajectoryMemory",
                    "tool_value": f"{name}({function.get('arguments', '')}) -> {text[:500]}",
                    "tool_used_status": [
                        {
                            "used_tool": name,
                            "error_type": "tool_error" if failed else "",
                            "success_rate": 0.0 if failed else 1.0,
                            "tool_experience": text[:200],
                        }
                    ],
                    "experience": f"{name} {'failed' if failed else 'succeeded'}: {text[:200]}",
                },
            )
        )
        return produced
    turn = turn_of(message)
    if turn is None:
        return produced
    replies = answers(turn, previous)
    if is_filler(text) and not replies:
        return produced  # thanks, greetings, reactions: nothing to remember
    marker = viewpoint(role, message.get("name"), text)
    value = f"{marker} {text.strip()}"
    sources: list[dict[str, Any]] = [{"role": role, "content": text, "chat_time": stamp}]
    relation = "answers" if replies else ""
    relation = relation or ("restates" if restates(turn, previous) else "")
    if previous is not None and relation:
        if relation == "answers":
            value = with_question(marker, text, previous)
        # Read by rank(): an answer outranks what it answers, an echo what it echoes.
        sources.append({"role": previous.role, "content": previous.text, "relation": relation})
        if relation == "answers" and echoed is not None:
            sources.append({"role": echoed.role, "content": echoed.text, "relation": "confirms"})
    produced.append(
        (
            "fact",
            {
                **base,
                "id": new_id(),
                "memory_key": title(text),
                "memory_value": value,
                "memory_type": "WorkingMemory",
                "confidence": 0.0,
                "tags": [*keywords(text), "mode:fast"],
                "sources": sources,
            },
        )
    )
    if role == "user":
        for preference in find_preferences(text):
            produced.append(
                (
                    "preference",
                    {
                        **base,
                        "id": new_id(),
                        "preference_type": "explicit_preference",
                        "preference": preference.text,
                        "reasoning": f"The user said: “{preference.sentence}”",
                    },
                )
            )
    return produced
