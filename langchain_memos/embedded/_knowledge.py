"""Knowledge bases: creating and deleting them, and their files (decoded from JSON by
``_requests``, or read from a multipart form), cut into memories of about a paragraph."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from typing_extensions import Self

from langchain_memos import _codes as codes
from langchain_memos._constants import KNOWLEDGEBASE_FILE_TYPES, MAX_PAGE_SIZE
from langchain_memos._exceptions import MemOSInputError
from langchain_memos._validation import (
    check_int,
    check_optional_str,
    check_str_list,
    check_text,
    exactly_one,
    file_bytes,
)
from langchain_memos.embedded._errors import EngineError
from langchain_memos.embedded._fields import refuse_unimplemented
from langchain_memos.embedded._request_base import Request, implemented, limit_of, page_offset
from langchain_memos.embedded._skills import skill_memory
from langchain_memos.embedded._store import ID_LIST
from langchain_memos.embedded._text import title
from langchain_memos.embedded._writer import Writer, new_id

MAX_FILES = 20
_TEXT_FILE_TYPES = (".txt", ".md", ".markdown", ".json", ".xml", ".csv")
_CHUNK_CHARS = 600


# ---- the requests ---------------------------------------------------------------------------


class CreateKnowledgebase(Request):
    route = "/create/knowledgebase"
    writes = True

    knowledgebase_name: str
    knowledgebase_description: str | None

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        name = check_text("knowledgebase_name", body.get("knowledgebase_name"))
        description = check_optional_str(
            "knowledgebase_description", body.get("knowledgebase_description")
        )
        return cls(knowledgebase_name=name, knowledgebase_description=description)


class DeleteKnowledgebase(Request):
    route = "/delete/knowledgebase"
    writes = True

    knowledgebase_id: str

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        return cls(knowledgebase_id=check_text("knowledgebase_id", body.get("knowledgebase_id")))


class UploadedFile(BaseModel):
    """One file of ``add/knowledgebase-file``, decoded."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: object  # checked when stored, as a form's
    data: bytes


class AddKnowledgebaseFile(Request):
    route = "/add/knowledgebase-file"
    writes = True

    knowledgebase_id: str
    file: list[UploadedFile]
    type: object = None  # a form's field; each JSON file names its own type

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        kb = check_text("knowledgebase_id", body.get("knowledgebase_id"))
        files = body.get("file")
        if not isinstance(files, list) or not files:
            raise EngineError(codes.LIST_REQUIRED, "file must be a non-empty list")
        if len(files) > MAX_FILES:
            raise EngineError(codes.TOO_MANY_FILES, f"at most {MAX_FILES} files per request")
        decoded = []
        for item in files:
            if not isinstance(item, dict) or not isinstance(item.get("content"), str):
                raise EngineError(codes.BAD_REQUEST, "each file needs a string content")
            name = item.get("name") or "file.txt"
            decoded.append(
                UploadedFile(name=name, type=item.get("type"), data=_decode(item["content"]))
            )
        return cls(knowledgebase_id=kb, file=decoded, type=body.get("type"))


class GetKnowledgebaseFile(Request):
    route = "/get/knowledgebase-file"

    file_ids: list[str] | None
    knowledgebase_id: str | None
    page: int
    page_size: int
    type: object

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        mode = exactly_one(
            file_ids=body.get("file_ids"), knowledgebase_id=body.get("knowledgebase_id")
        )
        if mode == "file_ids":
            ids = check_str_list("file_ids", body["file_ids"], allow_empty=False)
            return cls(file_ids=ids, knowledgebase_id=None, page=1, page_size=0, type=None)
        kb = check_text("knowledgebase_id", body["knowledgebase_id"])
        kind = body.get("type")
        if kind not in (None, "", *KNOWLEDGEBASE_FILE_TYPES):
            raise EngineError(codes.BAD_FILE_TYPE, f"unsupported file type {kind!r}")
        page = check_int("page", body.get("page"), low=1) or 1
        size = limit_of(body, "page_size", 20, MAX_PAGE_SIZE)
        return cls(file_ids=None, knowledgebase_id=kb, page=page, page_size=size, type=kind)


class DeleteKnowledgebaseFile(Request):
    route = "/delete/knowledgebase-file"
    writes = True

    file_ids: list[str]

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Self:
        return cls(
            file_ids=check_str_list("file_ids", body.get("file_ids"), allow_empty=False) or []
        )


def _decode(content: str) -> bytes:
    if content.startswith(("http://", "https://")):
        raise EngineError(
            codes.BAD_FILE, "the embedded engine cannot fetch URLs; send the file as base64"
        )
    try:
        return file_bytes("file content", content)
    except MemOSInputError:
        raise EngineError(codes.FILE_NOT_BASE64, "file content is not valid base64") from None


# ---- the endpoints --------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    """A file of an ``add/knowledgebase-file`` request, read and checked, not stored yet."""

    id: str
    name: str
    kind: str
    size: int
    time: int
    memories: list[dict[str, Any]]


class KnowledgeBases:
    """What the ``*/knowledgebase*`` endpoints do."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._store = writer.store

    def create_knowledgebase(self, request: CreateKnowledgebase) -> dict[str, Any]:
        name, description = request.knowledgebase_name, request.knowledgebase_description
        kb_id = new_id()
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO knowledgebases (id, name, description, create_time) VALUES (?,?,?,?)",
                (kb_id, name, description, self._writer.now_ms()),
            )
        return {"id": kb_id}

    def _require_knowledgebase(self, kb: str) -> str:
        if not self._store.query("SELECT 1 FROM knowledgebases WHERE id = ?", (kb,)):
            raise EngineError(codes.KNOWLEDGEBASE_NOT_FOUND, f"knowledge base {kb} not found")
        return kb

    def delete_knowledgebase(self, request: DeleteKnowledgebase) -> dict[str, Any]:
        kb = self._require_knowledgebase(request.knowledgebase_id)
        with self._store.transaction() as db:
            self._store.delete_memories(db, "m.knowledgebase_id = ?", [kb])
            db.execute("DELETE FROM knowledgebase_files WHERE knowledgebase_id = ?", (kb,))
            db.execute("DELETE FROM knowledgebases WHERE id = ?", (kb,))
        return {"success": True}

    def add_knowledgebase_file(self, request: AddKnowledgebaseFile) -> list[dict[str, Any]]:
        kb = self._require_knowledgebase(request.knowledgebase_id)
        return self._store_files(kb, [(f.name, f.type, f.data) for f in request.file])

    def add_knowledgebase_form(
        self, body: bytes, params: Mapping[str, str], content_type: str
    ) -> list[dict[str, Any]]:
        """``add/knowledgebase-file`` as a multipart form: files, and the knowledge base and
        their type as query parameters."""
        refuse_unimplemented(AddKnowledgebaseFile.route, params, implemented(AddKnowledgebaseFile))
        kb_id = check_text("knowledgebase_id", params.get("knowledgebase_id"))
        kb = self._require_knowledgebase(kb_id)
        form = email.message_from_bytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
        )
        parts = [p for p in form.iter_parts() if p.get_filename()]
        if not parts:
            raise EngineError(codes.LIST_REQUIRED, "no file in the form")
        if len(parts) > MAX_FILES:
            raise EngineError(codes.TOO_MANY_FILES, f"at most {MAX_FILES} files per request")
        files: list[tuple[str, object, bytes]] = []
        for part in parts:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            files.append((str(part.get_filename()), params.get("type"), data))
        return self._store_files(kb, files)

    def _store_files(self, kb: str, files: list[tuple[str, object, bytes]]) -> list[dict[str, Any]]:
        """Store a request's files all, or none: each is read and checked before any is stored
        (a second file refused left the first stored, and a retry stored it twice), then one
        transaction writes them, if the knowledge base is still there (another process may have
        deleted it while the files were embedded)."""
        prepared = [self._prepared(name, kind, data) for name, kind, data in files]
        vectors = [self._writer.embed(file.memories) for file in prepared]
        owner = {"knowledgebase_id": kb}
        with self._store.transaction() as db:
            if db.execute("SELECT 1 FROM knowledgebases WHERE id = ?", (kb,)).fetchone() is None:
                raise EngineError(codes.KNOWLEDGEBASE_NOT_FOUND, f"knowledge base {kb} not found")
            for file, embedded in zip(prepared, vectors, strict=True):
                kind = "skill" if file.kind == "skill" else "fact"
                for memory, vector in zip(file.memories, embedded, strict=True):
                    self._writer.insert(db, kind, memory, owner, vector)
                db.execute(
                    "INSERT INTO knowledgebase_files (id, knowledgebase_id, name, type, size, "
                    "status, create_time) VALUES (?, ?, ?, ?, ?, 'completed', ?)",
                    (file.id, kb, file.name, file.kind, file.size, file.time),
                )
        return [
            {
                "id": file.id,
                "type": file.kind,
                "name": file.name,
                "sizeMB": round(file.size / 1_048_576, 4),
                "status": "completed",
            }
            for file in prepared
        ]

    def _prepared(self, name: str, kind: object, data: bytes) -> _File:
        """A file of a request, read and checked (refused here if it cannot be stored)."""
        kind = kind or "document"
        if kind not in KNOWLEDGEBASE_FILE_TYPES:
            raise EngineError(codes.BAD_FILE_TYPE, f"unsupported file type {kind!r}")
        if not name.lower().endswith(_TEXT_FILE_TYPES):
            raise EngineError(
                codes.BAD_FILE,
                f"the embedded engine reads text files ({', '.join(_TEXT_FILE_TYPES)}); "
                f"{name} needs the MemOS cloud",
            )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise EngineError(codes.BAD_FILE, f"{name} is not UTF-8 text") from None
        file_id = new_id()
        now = self._writer.now_ms()
        memories = (
            [skill_memory(name, data, text, file_id, now)]
            if kind == "skill"
            else [
                {
                    "id": new_id(),
                    "memory_key": f"{name}: {title(chunk)}",
                    "memory_value": chunk,
                    "memory_type": "LongTermMemory",
                    "conversation_id": "default_session",
                    "status": "activated",
                    "confidence": 1.0,
                    "tags": ["knowledgebase", name],
                    "create_time": now,
                    "update_time": now,
                    "sources": [{"file_id": file_id, "name": name}],
                }
                for chunk in _chunks(text)
            ]
        )
        return _File(file_id, name, str(kind), len(data), now, memories)

    def get_knowledgebase_file(self, request: GetKnowledgebaseFile) -> dict[str, Any]:
        columns = "id, type, name, size, status"
        if request.file_ids is not None:
            rows = self._store.query(
                f"SELECT {columns} FROM knowledgebase_files WHERE id IN {ID_LIST}",
                [json.dumps(request.file_ids)],
            )
            page, size, total = 1, len(rows), len(rows)
        else:
            kb = self._require_knowledgebase(str(request.knowledgebase_id))
            page, size = request.page, request.page_size
            where, params = "knowledgebase_id = ?", list[object]([kb])
            if request.type:
                where, params = where + " AND type = ?", [kb, request.type]
            total = self._store.query(
                f"SELECT count(*) FROM knowledgebase_files WHERE {where}",
                params,
            )[0][0]
            rows = self._store.query(
                f"SELECT {columns} FROM knowledgebase_files WHERE {where} "
                "ORDER BY create_time LIMIT ? OFFSET ?",
                [*params, size, page_offset(page, size)],
            )
        files = [{**dict(row), "size": str(row["size"])} for row in rows]
        return {"total": total, "page": page, "page_size": size, "file_detail_list": files}

    def delete_knowledgebase_file(self, request: DeleteKnowledgebaseFile) -> dict[str, Any]:
        ids = request.file_ids
        with self._store.transaction() as db:
            for file_id in ids:
                self._store.delete_memories(
                    db,
                    "EXISTS (SELECT 1 FROM json_each(json_extract(m.body, '$.sources')) "
                    "WHERE json_extract(value, '$.file_id') = ?)",
                    [file_id],
                )
                db.execute("DELETE FROM knowledgebase_files WHERE id = ?", (file_id,))
        return {"success": True}


def _chunks(text: str) -> list[str]:
    """Paragraphs, packed into chunks of about 600 characters."""
    chunks: list[str] = []
    current = ""
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        if current and len(current) + len(paragraph) > _CHUNK_CHARS:
            chunks.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        chunks.append(current)
    return chunks or [text.strip() or "(empty file)"]
