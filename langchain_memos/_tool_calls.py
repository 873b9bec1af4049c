"""How an AI message's tool calls travel in MemOS's message (OpenAI-style ``tool_calls``) and
come back as LangChain's, invalid ones included."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from langchain_core.messages import AIMessage

from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import check_json_value


def to_openai_calls(
    message: AIMessage, index: int, where: str, answered: Collection[str]
) -> list[dict[str, Any]]:
    """``message``'s tool calls as ``add/message`` takes them (it is ``messages[index]``).

    A call whose arguments the model got wrong (``invalid_tool_calls``) travels as the model
    wrote it when a tool message among those written with it (``answered``: their call ids)
    answers it, so that the answer keeps its call (and it reads back invalid). Unanswered, it
    is left out, as an agent leaves it: it answers one only at its next turn, which a stored
    conversation could not replay.
    """
    calls = [(call["id"], call["name"], _arguments(call, where)) for call in message.tool_calls]
    # No arguments at all would read back as a call without any ({}): "null" keeps it invalid.
    calls += [
        (bad.get("id"), bad.get("name") or "", bad.get("args") or "null")
        for bad in message.invalid_tool_calls
        if bad.get("id") in answered
    ]
    return [
        {
            "id": call_id or f"call_{index}_{position}",
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        for position, (call_id, name, arguments) in enumerate(calls)
    ]


def _arguments(call: Mapping[str, Any], where: str) -> str:
    check_json_value(f"{where}: tool call {call.get('name')!r} args", call["args"])
    try:
        return json.dumps(call["args"], ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise MemOSInputError(
            f"{where}: the arguments of tool call {call.get('name')!r} are not JSON"
        ) from None


def from_openai_calls(
    raw: list[dict[str, Any]] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """LangChain tool calls from the stored OpenAI-style ones, however malformed: those whose
    arguments are not a JSON object, or that have no name, come back as invalid tool calls,
    as LangChain parses a model's (as stored, with the error)."""
    valid: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    for call in raw or []:
        function = call.get("function")
        function = function if isinstance(function, Mapping) else {}
        arguments = function.get("arguments")
        try:
            args = json.loads(arguments) if isinstance(arguments, str) else arguments
        except ValueError:
            args = None
        if arguments in (None, "") and args is None:
            args = {}
        name = function.get("name")
        call_id = call.get("id")
        found = {
            "id": call_id if isinstance(call_id, str) else None,
            "name": name if isinstance(name, str) else "",
        }
        if isinstance(args, dict) and found["name"]:
            valid.append({**found, "args": args})
        elif arguments == "null":
            invalid.append(
                {**found, "args": None, "error": "no arguments", "type": "invalid_tool_call"}
            )
        else:
            text = arguments if isinstance(arguments, str | None) else json.dumps(arguments)
            error = "no name" if isinstance(args, dict) else "the arguments are not a JSON object"
            invalid.append({**found, "args": text, "error": error, "type": "invalid_tool_call"})
    return valid, invalid
