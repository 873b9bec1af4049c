"""Every public method of the official MemOS SDK against ``serve()`` in a fresh database.

Runs ``sdk_every_method.py`` with an interpreter that has the SDK, as ``test_sdk_compat.py``
does (``MEMOS_SDK_PYTHON``, or this one when ``memos`` is importable); skipped without one.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from langchain_memos.embedded import EmbeddedEngine
from langchain_memos.embedded.server import serve

from .test_sdk_compat import SDK_PYTHON, TOKEN

SCRIPT = Path(__file__).with_name("sdk_every_method.py")


@pytest.mark.loopback
@pytest.mark.skipif(
    SDK_PYTHON is None,
    reason="the official MemOS SDK is not installed; set MEMOS_SDK_PYTHON to an interpreter "
    "that has it (see test_sdk_compat.py)",
)
def test_every_sdk_method_works_or_is_refused_with_the_error_envelope(tmp_path: Path) -> None:
    assert SDK_PYTHON is not None
    with serve(EmbeddedEngine(str(tmp_path / "memos.db")), token=TOKEN) as server:
        result = subprocess.run(  # noqa: S603 - our own script, with a configured interpreter
            [SDK_PYTHON, str(SCRIPT), server.base_url, TOKEN],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=tmp_path,  # MemOS writes its logs under the working directory, in .memos/
        )
    lines = result.stdout.strip().splitlines()
    assert lines, result.stderr
    report = json.loads(lines[-1])
    failed = {name: why for name, why in report["calls"].items() if why is not True}
    assert failed == {}
    assert result.returncode == 0
