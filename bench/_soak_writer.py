"""The writer process of ``soak.py``: an agent answering turns until it is SIGKILLed.

``create_agent`` with ``MemOSMiddleware`` and the suite's scripted chat model (it echoes the
question as an answer), writing through a durable outbox. Each turn is journalled twice,
fsynced: ``begin`` before ``invoke`` and ``done`` after it returned. With ``--drain-only`` it
delivers what waits in the outbox and exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from _common import TOKEN
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langchain_memos import MemOSClient
from langchain_memos.middleware import MemOSMiddleware
from tests.fakes import ScriptedChatModel

USER = "soak-user"


def journal_turns(path: Path) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """The (conversation, turn) pairs the journal says were begun, and those done."""
    begun: set[tuple[int, int]] = set()
    done: set[tuple[int, int]] = set()
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                (begun if parts[0] == "begin" else done).add((int(parts[1]), int(parts[2])))
    return begun, done


def writer(args: argparse.Namespace) -> int:
    """Answer turns until killed (or, with ``--drain``, deliver what waits and exit)."""
    # Outages are the point of this run: show only what the package calls an error.
    logging.getLogger("langchain_memos").setLevel(logging.ERROR)
    client = MemOSClient(api_key=TOKEN, base_url=args.url, timeout=2.0, max_retries=0)
    memory = MemOSMiddleware(client, outbox=args.outbox, timeout=0.5)
    if args.drain_only:
        drained = memory.flush(timeout=args.drain)
        print(json.dumps({"drained": drained, "pending": memory.memory.writer.pending}))  # type: ignore[union-attr]
        memory.close(timeout=1.0)
        return 0
    agent = create_agent(ScriptedChatModel(reply=echo), [], middleware=[memory])
    journal = Path(args.journal)
    begun, _ = journal_turns(journal)
    turn = [1 + max((t for c, t in begun if c == conv), default=0) for conv in range(args.conv)]
    print("ready", flush=True)
    with journal.open("a") as log:

        def note(kind: str, conv: int, number: int) -> None:
            log.write(f"{kind} {conv} {number}\n")
            log.flush()
            os.fsync(log.fileno())

        for step in range(sys.maxsize):
            conv = step % args.conv
            number = turn[conv]
            turn[conv] += 1
            note("begin", conv, number)
            agent.invoke(
                {"messages": [HumanMessage(f"soak question c{conv} t{number}")]},
                {"configurable": {"user_id": USER, "thread_id": f"soak-c{conv}"}},
            )
            note("done", conv, number)
    return 0


def echo(messages: list[BaseMessage]) -> AIMessage:
    """The answer to the latest question: the question with "question" made "answer"."""
    asked = next(m.text for m in reversed(messages) if isinstance(m, HumanMessage))
    return AIMessage(asked.replace("question", "answer"))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True)
    parser.add_argument("--outbox", required=True)
    parser.add_argument("--journal", required=True)
    parser.add_argument("--conv", type=int, default=8, help="conversations, round-robin")
    parser.add_argument("--drain-only", action="store_true", help="deliver what waits, exit")
    parser.add_argument("--drain", type=float, default=60.0, help="seconds to wait for that")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(writer(parse_args(None)))
