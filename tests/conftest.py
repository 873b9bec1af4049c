"""Shared by every test: no test writes outside its own temporary directory, sees another test's
memories through the process's shared ``":memory:"`` engine, or sleeps through a client's retry
waits unless it asks to."""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_memos import _retry
from langchain_memos.embedded import transport
from langchain_memos.outbox import OUTBOX_PATH_ENV


@pytest.fixture(autouse=True)
def _outbox_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A durable outbox made without a path goes to the test's directory, not the user cache."""
    monkeypatch.setenv(OUTBOX_PATH_ENV, str(tmp_path / "outbox.sqlite3"))


@pytest.fixture(autouse=True)
def _fresh_shared_memory_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """``embedded=":memory:"`` is one engine per process, shared by every client that names it.

    Each test starts with none, so that what one test wrote there (an example that bound a
    profile for ``u1``, say) is not found by the next test that runs in the same worker.
    """
    monkeypatch.setattr(transport, "_engines", {})


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clients retry at once; returns the waits the retry policy asked for, in order.

    The policy still decides whether to retry and how long it would wait (a ``Retry-After``
    included, and a ``None`` that gives up on one too long): only the wait itself is skipped. A
    test about the wait checks the list; one that is not gets the retries without the sleeping.
    """
    asked: list[float] = []
    policy = _retry.retry_delay

    def recorded(attempt: int, retry_after: float | None) -> float | None:
        delay = policy(attempt, retry_after)
        if delay is None:
            return None
        asked.append(delay)
        return 0.0

    monkeypatch.setattr(_retry, "retry_delay", recorded)
    return asked


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests marked ``slow`` first (the order is otherwise kept).

    Under ``make test``'s workers, a test of ten seconds that starts near the end holds up the
    whole run while the other workers stand idle; started first, it overlaps with their work.
    """
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
