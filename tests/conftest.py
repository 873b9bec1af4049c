"""Shared by every test: no test writes outside its own temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_memos.outbox import OUTBOX_PATH_ENV


@pytest.fixture(autouse=True)
def _outbox_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A durable outbox made without a path goes to the test's directory, not the user cache."""
    monkeypatch.setenv(OUTBOX_PATH_ENV, str(tmp_path / "outbox.sqlite3"))
