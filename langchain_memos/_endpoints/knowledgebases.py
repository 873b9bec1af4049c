"""The endpoints of knowledge bases: create and detach them, add, upload, list and delete files."""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike, fspath
from pathlib import Path
from typing import Any, Literal, TypeAlias

import httpx

from langchain_memos._base_client import APIRequest, drop_none
from langchain_memos._config import check_timeout
from langchain_memos._constants import KNOWLEDGEBASE_FILE_TYPES, MAX_PAGE_SIZE
from langchain_memos._endpoints.scopes import post
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import (
    check_int,
    check_memos_id,
    check_optional_str,
    check_str_list,
    check_text,
    exactly_one,
)
from langchain_memos.types import (
    KnowledgeBase,
    KnowledgeBaseFileInput,
    KnowledgeBaseFileList,
    KnowledgeBaseFiles,
    OperationResult,
)

MAX_FILES_PER_UPLOAD = 20

FileSource: TypeAlias = str | PathLike[str] | tuple[str, bytes]
"""A file to upload: a path, or a ``(file name, content)`` pair."""


def create_knowledgebase(
    knowledgebase_name: str,
    *,
    knowledgebase_description: str | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[KnowledgeBase]:
    """Create a knowledge base in the current project; the result carries its ``id``.

    The SDK's ``create_knowledgebase``, with the same names.
    """
    body = drop_none(
        knowledgebase_name=check_text("knowledgebase_name", knowledgebase_name),
        knowledgebase_description=check_optional_str(
            "knowledgebase_description", knowledgebase_description
        ),
    )
    return post("/create/knowledgebase", KnowledgeBase, body, timeout=timeout)


def delete_knowledgebase(
    knowledgebase_id: str, *, timeout: float | httpx.Timeout | None = None
) -> APIRequest[OperationResult]:
    """Detach a knowledge base from the project (permanent deletion is console-only).

    The SDK's ``delete_knowledgebase``.
    """
    body = {"knowledgebase_id": check_memos_id("knowledgebase_id", knowledgebase_id)}
    return post("/delete/knowledgebase", OperationResult, body, timeout=timeout)


def _check_file_count(count: int) -> None:
    if not 1 <= count <= MAX_FILES_PER_UPLOAD:
        raise MemOSInputError(
            f"upload between 1 and {MAX_FILES_PER_UPLOAD} files per request; got {count}"
        )


def add_knowledgebase_files(
    knowledgebase_id: str,
    files: Sequence[KnowledgeBaseFileInput],
    *,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[KnowledgeBaseFiles]:
    """Add documents or skill files to a knowledge base, as URLs, base64 or data URIs.

    The SDK's ``add_knowledgebase_file_json``; its ``file`` is ``files`` here.

    Example:
        >>> client.add_knowledgebase_files(
        ...     "kb-1", [{"name": "faq.md", "content": "https://example.com/faq.md"}]
        ... )
    """
    if isinstance(files, (str, bytes, dict)) or not isinstance(files, Sequence):
        raise MemOSInputError("files must be a list of {'content': ..., 'name': ..., 'type': ...}")
    _check_file_count(len(files))
    checked = []
    for index, item in enumerate(files):
        if not isinstance(item, dict) or not isinstance(item.get("content"), str):
            raise MemOSInputError(f"files[{index}] needs a string 'content' (URL or base64)")
        if item.get("type", "document") not in KNOWLEDGEBASE_FILE_TYPES:
            raise MemOSInputError(f"files[{index}].type must be 'document' or 'skill'")
        checked.append(dict(item))
    body = {
        "knowledgebase_id": check_memos_id("knowledgebase_id", knowledgebase_id),
        "file": checked,
    }
    return post(
        "/add/knowledgebase-file",
        KnowledgeBaseFiles,
        body,
        write=True,
        timeout=timeout,
    )


def upload_knowledgebase_files(
    knowledgebase_id: str,
    files: Sequence[FileSource],
    *,
    type: Literal["document", "skill"] | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[KnowledgeBaseFiles]:
    """Upload local files to a knowledge base as multipart form data.

    The SDK's ``add_knowledgebase_file_form``, which takes paths only.

    Args:
        knowledgebase_id: The knowledge base.
        files: Paths, or ``(file name, content bytes)`` pairs; 1-20 per request.
        type: ``document`` (default) or ``skill``.
    """
    if isinstance(files, (str, bytes)) or not isinstance(files, Sequence):
        raise MemOSInputError("files must be a list of paths or (name, bytes) pairs")
    _check_file_count(len(files))
    parts: list[tuple[str, tuple[str, bytes]]] = []
    for index, item in enumerate(files):
        if isinstance(item, tuple):
            if len(item) != 2 or not isinstance(item[0], str) or not isinstance(item[1], bytes):
                raise MemOSInputError(f"files[{index}] must be a (name, bytes) pair")
            parts.append(("file", (item[0], item[1])))
            continue
        path = Path(fspath(item))
        if not path.is_file():
            raise MemOSInputError(f"files[{index}]: no such file: {path}")
        parts.append(("file", (path.name, path.read_bytes())))
    if type is not None and type not in KNOWLEDGEBASE_FILE_TYPES:
        raise MemOSInputError(f"type must be 'document' or 'skill'; got {type!r}")
    params = drop_none(
        knowledgebase_id=check_memos_id("knowledgebase_id", knowledgebase_id), type=type
    )
    return APIRequest(
        "POST",
        "/add/knowledgebase-file",
        KnowledgeBaseFiles,
        params=params,
        files=parts,
        write=True,
        timeout=check_timeout(timeout),
    )


def get_knowledgebase_files(
    *,
    file_ids: Sequence[str] | None = None,
    knowledgebase_id: str | None = None,
    type: Literal["document", "skill"] | None = None,
    page: int | None = None,
    page_size: int | None = None,
    timeout: float | httpx.Timeout | None = None,
) -> APIRequest[KnowledgeBaseFileList]:
    """File details by ``file_ids``, or one page of a knowledge base's files (not both).

    The SDK's ``get_knowledgebase_file``, with the same parameters.
    """
    mode = exactly_one(file_ids=file_ids, knowledgebase_id=knowledgebase_id)
    if mode == "file_ids":
        if type is not None or page is not None or page_size is not None:
            raise MemOSInputError("type, page and page_size go with knowledgebase_id, not file_ids")
        body: dict[str, Any] = {
            "file_ids": check_str_list(
                "file_ids", file_ids, allow_empty=False, check=check_memos_id
            )
        }
    else:
        body = drop_none(
            knowledgebase_id=check_memos_id("knowledgebase_id", knowledgebase_id),
            type=type,
            page=check_int("page", page, low=1),
            page_size=check_int("page_size", page_size, low=1, high=MAX_PAGE_SIZE),
        )
    return post(
        "/get/knowledgebase-file",
        KnowledgeBaseFileList,
        body,
        timeout=timeout,
    )


def delete_knowledgebase_files(
    file_ids: Sequence[str], *, timeout: float | httpx.Timeout | None = None
) -> APIRequest[OperationResult]:
    """Delete knowledge-base files; deleting a skill file deletes the skill.

    The SDK's ``delete_knowledgebase_file``.
    """
    body = {
        "file_ids": check_str_list("file_ids", file_ids, allow_empty=False, check=check_memos_id)
    }
    return post(
        "/delete/knowledgebase-file",
        OperationResult,
        body,
        timeout=timeout,
    )
