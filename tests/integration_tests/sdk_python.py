"""Which interpreter has the official MemOS SDK (``MemoryOS`` on PyPI), for the tests that use it.

The SDK is not a test dependency: its package pulls in transformers, scikit-learn, FastAPI and
more (hundreds of MB). The tests run it in a subprocess with an interpreter that has it: this
one when ``memos`` is importable, else the one ``MEMOS_SDK_PYTHON`` names, e.g.::

    python -m venv /tmp/sdkvenv && /tmp/sdkvenv/bin/pip install MemoryOS
    MEMOS_SDK_PYTHON=/tmp/sdkvenv/bin/python pytest tests/integration_tests/test_sdk_compat.py
"""

from __future__ import annotations

import importlib.util
import os
import sys

__all__ = ["SDK_PYTHON", "SKIP_REASON"]


def _sdk_python() -> str | None:
    configured = os.environ.get("MEMOS_SDK_PYTHON", "").strip()
    if configured:
        return configured
    # find_spec of the top-level package only: importing memos itself takes seconds.
    return sys.executable if importlib.util.find_spec("memos") is not None else None


SDK_PYTHON = _sdk_python()
SKIP_REASON = (
    "the official MemOS SDK is not installed (pip install MemoryOS, a heavy package); "
    "set MEMOS_SDK_PYTHON to an interpreter that has it"
)
