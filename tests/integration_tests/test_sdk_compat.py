"""The official MemOS Python SDK (``MemOSClient`` of ``MemoryOS`` on PyPI) against ``serve()``.

The test runs ``sdk_roundtrip.py`` with an interpreter that has the SDK (``sdk_python.py`` says
which, and how to make one); ``run_sdk_script`` runs such a script for the other SDK tests.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded.server import serve

from .sdk_python import SDK_PYTHON, SKIP_REASON

__all__ = ["SDK_PYTHON", "run_sdk_script"]

SCRIPT = Path(__file__).with_name("sdk_roundtrip.py")
TOKEN = "test-token-not-a-secret"


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
@pytest.mark.skipif(SDK_PYTHON is None, reason=SKIP_REASON)
def test_the_official_sdk_round_trips_unchanged(tmp_path: Path) -> None:
    report = run_sdk_script(SCRIPT, ":memory:", tmp_path, timeout=90)
    assert report["ok"], report
    assert report["returncode"] == 0
