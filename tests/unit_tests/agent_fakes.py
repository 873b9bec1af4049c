"""The fault suite's import of the scripted chat model, under its old name; the fakes live in
``tests/fakes.py`` (change the two fault-suite imports to it, then delete this module)."""

from __future__ import annotations

from tests.fakes import ScriptedChatModel as ScriptedToolModel

__all__ = ["ScriptedToolModel"]
