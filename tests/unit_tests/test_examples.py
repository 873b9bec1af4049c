"""The examples run as a user runs them: a fresh process, no API key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAND_IN = "[offline model, not an LLM]"


def run_example(name: str) -> subprocess.CompletedProcess[str]:
    unset = ("MEMOS_API_KEY", "MEMOS_BASE_URL", "EXAMPLE_MODEL", "OPENAI_API_KEY")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(  # noqa: S603 - our own example, with this interpreter
        [sys.executable, str(ROOT / "examples" / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def quickstart() -> subprocess.CompletedProcess[str]:
    """One run of the quickstart, read by both of its tests (a run costs a second of CPU)."""
    return run_example("quickstart.py")


def test_the_quickstart_runs_offline_and_recalls_conversation_a(
    quickstart: subprocess.CompletedProcess[str],
) -> None:
    done = quickstart
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "using the embedded MemOS engine" in out
    assert "human: Yes, with both kids and elderly, we usually travel as a whole family." in out
    recalled = out.split("MemOS recalled", 1)[1].split("The system prompt", 1)[0]
    # Where they went, who travels with them, and the hotel they chose, with the options it
    # was chosen from.
    assert "[user viewpoint] I've planned to travel to Guangzhou this summer." in recalled
    assert "[user viewpoint] Yes, with both kids and elderly, we usually travel" in recalled
    assert (
        "[user viewpoint] I'll choose 7 Days Inn. (replying to assistant: “You can consider "
        "options like 7 Days Inn, All Seasons, Hilton, etc.”)" in recalled
    )
    assert "[fact, 2025-06-10 09:30," in recalled
    assert "feel free to ask" not in recalled


def test_the_quickstart_prints_the_system_prompt_its_agent_model_received(
    quickstart: subprocess.CompletedProcess[str],
) -> None:
    assert quickstart.returncode == 0, quickstart.stderr
    out = quickstart.stdout
    prompt = out.split("The system prompt the model received:", 1)[1].split("agent:", 1)[0]
    assert "Current time: 2025-09-28 20:00" in prompt
    assert "- Time zone: UTC+08:00 (Asia/Shanghai); the current time and every memory's" in prompt
    assert "-[2025-06-10 09:30] [user viewpoint] I'll choose 7 Days Inn." in prompt
    assert "# Critical Protocol: Memory Safety" in prompt
    assert prompt.rstrip("-\n ").endswith(
        "# Original Query\nI want to travel during the National Day holiday. Please recommend a "
        "city I haven't been to and a hotel brand I haven't stayed at."
    )
    answer = out.split("agent:", 1)[1]
    # The four above, the request they followed ("I want to travel during summer vacation, can
    # you recommend something?") and the assistant's "I'll recommend destinations suitable for
    # family trips."; the preference to travel in the summer vacation.
    assert f"{STAND_IN} I was given 6 remembered fact(s) and 1 preference(s)" in answer


def test_client_basics_runs_offline_too() -> None:
    done = run_example("client_basics.py")
    assert done.returncode == 0, done.stderr
    assert "using the embedded MemOS engine" in done.stdout
    assert "Stored conversation A: task" in done.stdout
    assert "[user viewpoint] Yes, with both kids and elderly" in done.stdout


def test_create_agent_example_runs_offline_with_a_labelled_offline_model() -> None:
    done = run_example("create_agent.py")
    assert done.returncode == 0, done.stderr
    assert f"answering with the {STAND_IN}" in done.stdout
    assert "so they are not stored in MemOS" in done.stdout
    second = done.stdout.split("user: Where should we go", 1)[1]
    assert "I was given 1 remembered fact(s)" in second  # what the user said, nothing else
    recalled = done.stdout.split("MemOS recalled", 1)[1]
    assert "[user viewpoint] We always travel as a family: my two kids and my parents." in recalled
    # Before, turn 2 recalled "[assistant viewpoint] [offline model, not an LLM] I was given...".
    assert STAND_IN not in recalled


def test_langgraph_example_puts_turn_one_into_turn_twos_memory_message() -> None:
    done = run_example("langgraph_agent.py")
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.split("[national-day]", 1)
    assert "memory message in the state: none" in first
    assert "memory message in the state: yes" in second
    memory_message = second.split("memory message in the state: yes", 1)[1].split("agent:")[0]
    assert "# Critical Protocol: Memory Safety" in memory_message
    assert "] [user viewpoint] We always travel as a family: my two kids and my parents." in (
        memory_message
    )
    assert STAND_IN not in memory_message
    assert "I was given 1 remembered fact(s)" in second


def test_rag_chain_example_recalls_the_first_exchange_in_the_second() -> None:
    done = run_example("rag_chain.py")
    assert done.returncode == 0, done.stderr
    assert "Deprecat" not in done.stderr
    first, second = done.stdout.split("[national-day]", 1)
    assert "memories in the prompt:\n(none)" in first
    recalled = second.split("memories in the prompt:", 1)[1].split("assistant:")[0]
    assert (
        "] [user viewpoint] We always travel as a family: my two kids and my parents." in recalled
    )
    assert STAND_IN not in recalled
    assert "I was given 1 remembered fact(s)" in second


def test_langmem_example_stores_in_turn_one_and_finds_it_in_turn_two() -> None:
    done = run_example("langmem_memory.py")
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.split("Which seats do I like", 1)
    assert f"agent: {STAND_IN} The tool said: created memory " in first
    key = first.split("created memory ", 1)[1].split()[0]
    answer = second.split("agent:", 1)[1].split("\n\n", 1)[0]
    assert f'"key":"{key}"' in answer
    assert "I always book aisle seats on long-haul flights." in answer
    held = second.split("The store holds", 1)[1]
    assert f"{key}: {{'content': 'Please remember: I always book aisle seats" in held
    assert "MemOS recalls for 'aisle seats':\n  - Please remember: I always book" in held


def test_deep_agent_example_reads_thread_ones_file_in_thread_two() -> None:
    done = run_example("deep_agent_memories.py")
    assert done.returncode == 0, done.stderr
    second = done.stdout.split("[thread-2]", 1)[1]
    assert "- I drink oolong tea and travel with my two kids." in second.split("In MemOS", 1)[0]
    assert "In MemOS, /memories/preferences.md:\n# About the user\n- I drink oolong tea" in second
    assert "MemOSStore search for 'tea': ['/preferences.md']" in second


def test_profile_agent_example_gives_the_model_profile_preferences_and_events() -> None:
    done = run_example("profile_agent.py")
    assert done.returncode == 0, done.stderr
    assert "using the embedded MemOS engine" in done.stdout
    assert f"answering with the {STAND_IN}" in done.stdout
    documents = done.stdout.split("as Documents of every view:", 1)[1].split("[weekend]", 1)[0]
    assert "  [profile] Family.Daughter: Mia, 7 years old" in documents
    assert "  [preference] The user prefers short day trips with a packing list." in documents
    assert "  [event] Last Saturday I took my daughter Mia hiking in Sintra" in documents
    answer = done.stdout.split("[weekend]", 1)[1].split("agent:", 1)[1].splitlines()[0]
    assert "1 preference(s), plus 2 profile field(s) and 1 event(s)." in answer
    block = done.stdout.split("The memory block the model received for the question:", 1)[1]
    assert "] Family.Daughter: Mia, 7 years old\n" in block
    assert "] Basic Info.City: Lisbon\n" in block
    assert "] [Explicit Preference] The user prefers short day trips with a packing list." in block
    assert (
        "    -[2025-11-04 20:15] [When: 2025-11-04 20:15, Last Saturday] Last Saturday I took "
        "my daughter Mia hiking in Sintra" in block
    )
    assert STAND_IN not in block
