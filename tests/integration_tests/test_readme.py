"""Every Python example in the README runs, offline, against the embedded engine.

Loopback tests: the ``serve`` example starts a server on 127.0.0.1. Examples that need the MemOS
cloud's hosted model (chat) or the official SDK package are skipped, saying so.
"""

from __future__ import annotations

import asyncio
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from langchain_memos.embedded._fine import Extraction
from tests.fakes import ScriptedChatModel
from tests.unit_tests.test_embedded_vectors import ConceptEmbeddings

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


NEEDS = {
    "chat_stream(": "chat needs the MemOS cloud's hosted model",
    "from memos.": "needs the official MemOS SDK (pip install MemoryOS)",
}


@pytest.mark.loopback
@pytest.mark.parametrize("code", BLOCKS, ids=[f"block-{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for marker, reason in NEEDS.items():
        if marker in code:
            pytest.skip(reason)
    monkeypatch.delenv("MEMOS_API_KEY", raising=False)
    monkeypatch.setenv("MEMOS_BASE_URL", "embedded://:memory:")
    monkeypatch.chdir(tmp_path)  # examples that name a database file create it here
    names: dict[str, Any] = {
        "my_chat_model": ScriptedChatModel(script=[Extraction()]),
        "my_embeddings": ConceptEmbeddings(),
    }
    if "await " in code or "async with" in code:
        source = "async def _example():\n" + textwrap.indent(code, "    ")
        exec(compile(source, "README.md", "exec"), names)  # noqa: S102 - our own README
        asyncio.run(names["_example"]())
    else:
        exec(compile(code, "README.md", "exec"), names)  # noqa: S102 - our own README


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 8


def test_the_client_example_prints_what_it_says(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The "The client" block, offline: it recalls the user's statement first, as its comment
    says (it printed nothing: its question shared no word with the conversation, and the
    assistant's "Got it: ..." hid the statement from every search)."""
    code = next(block for block in BLOCKS if "with MemOSClient() as client:" in block)
    monkeypatch.delenv("MEMOS_API_KEY", raising=False)
    monkeypatch.setenv("MEMOS_BASE_URL", "embedded://:memory:")
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README
    printed = capsys.readouterr().out.splitlines()
    promised = re.findall(r"^ *# +(\[.*)$", code, re.M)
    assert promised
    assert [line.split(" ", 2)[2] for line in printed] == promised  # after the date and time
