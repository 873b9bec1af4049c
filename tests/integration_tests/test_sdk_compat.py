"""The official MemOS Python SDK (``MemOSClient`` of ``MemoryOS`` on PyPI) against ``serve()``.

The SDK is not a test dependency: its package pulls in transformers, scikit-learn, FastAPI and
more (hundreds of MB). The test runs ``sdk_roundtrip.py`` with an interpreter that has it: this
one when ``memos`` is importable, else the one ``MEMOS_SDK_PYTHON`` names, e.g.::

    python -m venv /tmp/sdkvenv && /tmp/sdkvenv/bin/pip install MemoryOS
    MEMOS_SDK_PYTHON=/tmp/sdkvenv/bin/python pytest tests/integration_tests/test_sdk_compat.py
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded.server import serve

SCRIPT = Path(__file__).with_name("sdk_roundtrip.py")
TOKEN = "test-token-not-a-secret"


def _sdk_python() -> str | None:
    configured = os.environ.get("MEMOS_SDK_PYTHON", "").strip()
    if configured:
        return configured
    # find_spec of the top-level package only: importing memos itself takes seconds.
    return sys.executable if importlib.util.find_spec("memos") is not None else None


SDK_PYTHON = _sdk_python()


def run_sdk_script(script: Path, database: str, cwd: Path, timeout: float) -> dict[str, Any]:
    """Run ``script`` with the SDK's interpreter against ``serve()`` over ``database``; its
    report (the last line it prints, JSON), after checking it printed one."""
    assert SDK_PYTHON is not None
    with serve(EmbeddedEngine(database), token=TOKEN) as server:
        result = subprocess.run(  # noqa: S603 - our own script, with a configured interpreter
            [SDK_PYTHON, str(script), server.base_url, TOKEN],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=cwd,  # MemOS writes its logs under the working directory, in .memos/
        )
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr
    report: dict[str, Any] = json.loads(lines[-1])
    report["returncode"] = result.returncode
    return report


@pytest.mark.loopback
@pytest.mark.skipif(
    SDK_PYTHON is None,
    reason="the official MemOS SDK is not installed (pip install MemoryOS, a heavy package); "
    "set MEMOS_SDK_PYTHON to an interpreter that has it",
)
def test_the_official_sdk_round_trips_unchanged(tmp_path: Path) -> None:
    report = run_sdk_script(SCRIPT, ":memory:", tmp_path, timeout=90)
    assert report["ok"], report
    assert report["returncode"] == 0
