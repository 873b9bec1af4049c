"""Every public method of the official MemOS SDK against ``serve()`` in a fresh database.

Runs ``sdk_every_method.py`` with an interpreter that has the SDK, as ``test_sdk_compat.py``
does (``MEMOS_SDK_PYTHON``, or this one when ``memos`` is importable); skipped without one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_sdk_compat import SDK_PYTHON, run_sdk_script

SCRIPT = Path(__file__).with_name("sdk_every_method.py")


@pytest.mark.loopback
@pytest.mark.skipif(
    SDK_PYTHON is None,
    reason="the official MemOS SDK is not installed; set MEMOS_SDK_PYTHON to an interpreter "
    "that has it (see test_sdk_compat.py)",
)
def test_every_sdk_method_works_or_is_refused_with_the_error_envelope(tmp_path: Path) -> None:
    report = run_sdk_script(SCRIPT, str(tmp_path / "memos.db"), tmp_path, timeout=180)
    failed = {name: why for name, why in report["calls"].items() if why is not True}
    assert failed == {}
    assert report["returncode"] == 0
