"""The examples run as a user runs them: a fresh process, no API key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_example(name: str) -> subprocess.CompletedProcess[str]:
    unset = ("MEMOS_API_KEY", "MEMOS_BASE_URL", "EXAMPLE_MODEL")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(  # noqa: S603 - our own example, with this interpreter
        [sys.executable, str(ROOT / "examples" / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_quickstart_runs_offline_and_recalls_conversation_a() -> None:
    done = run_example("quickstart.py")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "using the embedded MemOS engine" in out
    assert "human: Yes, with both kids and elderly, we usually travel as a whole family." in out
    recalled = out.split("MemOS recalled", 1)[1]
    assert (
        "[user viewpoint] Of course I'm bringing my kid, our family always travels together."
        in recalled
    )
    assert "[fact, 2025-06-10 09:30," in recalled


def test_client_basics_runs_offline_too() -> None:
    done = run_example("client_basics.py")
    assert done.returncode == 0, done.stderr
    assert "using the embedded MemOS engine" in done.stdout
    assert "Stored conversation A: task" in done.stdout
    assert "[user viewpoint] Yes, with both kids and elderly" in done.stdout


def test_create_agent_example_runs_offline_with_a_labelled_fake_model() -> None:
    done = run_example("create_agent.py")
    assert done.returncode == 0, done.stderr
    assert "OFFLINE FAKE MODEL" in done.stdout
    recalled = done.stdout.split("MemOS recalled", 1)[1]
    assert "[user viewpoint] We always travel as a family: my two kids and my parents." in recalled
