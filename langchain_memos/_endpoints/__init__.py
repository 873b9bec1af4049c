"""One description per MemOS endpoint: its signature, docstring, validation and request.

Each function here validates its arguments (raising :class:`MemOSInputError` before any I/O)
and returns an :class:`APIRequest`; ``wait_for_task`` returns a flow of them and its sleeps.
``client.py`` turns every one of them into a method of both ``MemOSClient`` and
``AsyncMemOSClient``, so the signature and docstring below are exactly what users of either
client see. Each also takes ``timeout``: this call's own, else the client's.

The descriptions live by family: :mod:`.memories` (messages and memories),
:mod:`.knowledgebases` (knowledge bases and their files), :mod:`.profiles` (profile templates
and profiles) and :mod:`.services` (feedback, task status, extraction, rerank, chat), with the
fields they share (scopes, subjects, memory views) in :mod:`.scopes`.
"""

from __future__ import annotations

from langchain_memos._endpoints.knowledgebases import (
    MAX_FILES_PER_UPLOAD,
    FileSource,
    add_knowledgebase_files,
    create_knowledgebase,
    delete_knowledgebase,
    delete_knowledgebase_files,
    get_knowledgebase_files,
    upload_knowledgebase_files,
)
from langchain_memos._endpoints.memories import (
    add_message,
    delete_memory,
    get_memory,
    get_memory_by_id,
    get_message,
    search_memory,
    update_memory,
)
from langchain_memos._endpoints.profiles import (
    bind_profile_template,
    delete_profile,
    edit_profile,
)
from langchain_memos._endpoints.services import (
    add_feedback,
    as_stream,
    chat,
    extract_memory,
    get_status,
    rerank,
    wait_for_task,
)

__all__ = [
    "MAX_FILES_PER_UPLOAD",
    "FileSource",
    "add_feedback",
    "add_knowledgebase_files",
    "add_message",
    "as_stream",
    "bind_profile_template",
    "chat",
    "create_knowledgebase",
    "delete_knowledgebase",
    "delete_knowledgebase_files",
    "delete_memory",
    "delete_profile",
    "edit_profile",
    "extract_memory",
    "get_knowledgebase_files",
    "get_memory",
    "get_memory_by_id",
    "get_message",
    "get_status",
    "rerank",
    "search_memory",
    "update_memory",
    "upload_knowledgebase_files",
    "wait_for_task",
]
