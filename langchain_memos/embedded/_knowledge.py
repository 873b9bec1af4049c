"""Knowledge bases: creating and deleting them, and their files (decoded from JSON by
``_requests``, or read from a multipart form), cut into memories of about a paragraph."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Mapping
from typing import Any

from langchain_memos import _codes as codes
from langchain_memos._validation import check_text
from langchain_memos.embedded._errors import EngineError
from langchain_memos.embedded._fields import refuse_unimplemented
from langchain_memos.embedded._requests import (
    MAX_FILES,
    AddKnowledgebaseFile,
    CreateKnowledgebase,
    DeleteKnowledgebase,
    DeleteKnowledgebaseFile,
    GetKnowledgebaseFile,
    implemented,
    page_offset,
)
from langchain_memos.embedded._store import ID_LIST
from langchain_memos.embedded._text import title
from langchain_memos.embedded._writer import Writer, new_id

_TEXT_FILE_TYPES = (".txt", ".md", ".markdown", ".json", ".xml", ".csv")
_CHUNK_CHARS = 600


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
        return [self._store_file(kb, f.name, f.type, f.data) for f in request.file]

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
        files = []
        for part in parts:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            files.append(self._store_file(kb, str(part.get_filename()), params.get("type"), data))
        return files

    def _store_file(self, kb: str, name: str, kind: object, data: bytes) -> dict[str, Any]:
        kind = kind or "document"
        if kind not in ("document", "skill"):
            raise EngineError(codes.BAD_FILE_TYPE, f"unsupported file type {kind!r}")
        if not name.lower().endswith(_TEXT_FILE_TYPES) or kind == "skill":
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
        owner = {"knowledgebase_id": kb}
        memories = [
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
        vectors = self._writer.embed(memories)
        with self._store.transaction() as db:
            for memory, vector in zip(memories, vectors, strict=True):
                self._writer.insert(db, "fact", memory, owner, vector)
            db.execute(
                "INSERT INTO knowledgebase_files (id, knowledgebase_id, name, type, size, status, "
                "create_time) VALUES (?, ?, ?, ?, ?, 'completed', ?)",
                (file_id, kb, name, kind, len(data), now),
            )
        size_mb = round(len(data) / 1_048_576, 4)
        return {"id": file_id, "type": kind, "name": name, "sizeMB": size_mb, "status": "completed"}

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
