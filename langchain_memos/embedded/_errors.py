"""The engine's error answer: a MemOS business code, whose HTTP status comes from the code table."""

from __future__ import annotations

from langchain_memos import _codes as codes


class EngineError(Exception):
    """An error answer: a MemOS business code and a message (the HTTP status follows the code)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return codes.http_status(self.code)
