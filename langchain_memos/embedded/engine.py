"""``EmbeddedEngine``: the MemOS cloud wire protocol, implemented locally on SQLite.

Same paths, request fields, envelopes, limits and error codes as the cloud API, so that every
part of this package (and any other MemOS client) works unchanged against it. Memories are
produced in fast mode: no LLM, one memory per conversation turn, plus the preferences users state
explicitly and the outcome of tool calls.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from langchain_memos import _codes as codes
from langchain_memos._exceptions import ConfigurationError, MemOSInputError
from langchain_memos._validation.keywords import checks_keywords
from langchain_memos.embedded._errors import (
    DatabaseGoneError,
    EngineError,
    NotWrittenError,
    database_failure,
)
from langchain_memos.embedded._filter_sql import FilterError
from langchain_memos.embedded._ingest import Ingest
from langchain_memos.embedded._knowledge import (
    AddKnowledgebaseFile,
    CreateKnowledgebase,
    DeleteKnowledgebase,
    DeleteKnowledgebaseFile,
    GetKnowledgebaseFile,
    KnowledgeBases,
)
from langchain_memos.embedded._profiles import (
    BindProfileTemplate,
    DeleteProfile,
    EditProfile,
    Profiles,
)
from langchain_memos.embedded._ranking import DEFAULT_RELATIVITY
from langchain_memos.embedded._records import Records
from langchain_memos.embedded._refine import Refiner
from langchain_memos.embedded._request_base import Request, parse, parse_wire
from langchain_memos.embedded._requests import (
    AddFeedback,
    AddMessage,
    DeleteMemory,
    ExtractMemory,
    GetMemory,
    GetMessage,
    GetStatus,
    SearchMemory,
    UpdateMemory,
)
from langchain_memos.embedded._search import Search
from langchain_memos.embedded._store import Store
from langchain_memos.embedded._writer import Writer

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

__all__ = ["API_ROOT", "DEFAULT_RELATIVITY", "EmbeddedEngine"]

API_ROOT = "/api/openmem/v1"
# No MemOS request nests deeper; a deeper one is refused before anything walks it recursively.
MAX_JSON_DEPTH = 64
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@checks_keywords
class EmbeddedEngine:
    """A MemOS-compatible memory service in one SQLite database.

    Args:
        path: A database file (created if missing, WAL mode) or ``":memory:"``.
        chat_model: Any LangChain chat model with structured output: turns on fine mode, in
            which the model abstracts turns into facts and preferences and reconciles them with
            the stored ones (a changed fact updates its memory). Fast-mode memories are made at
            once and replaced when the model is done: in the background in async mode (the task
            stays ``running`` until then), before answering in sync mode.
        embeddings: Any LangChain ``Embeddings``: adds vector similarity to the lexical search
            (reciprocal-rank fusion of both rankings); needs ``langchain-memos[vectors]``.
            ``E5Embeddings`` (``langchain-memos[semantic]``) is one that runs offline. An
            ``Embeddings`` may declare ``cosine_range`` (the cosines that mean relativity 0 and
            1; default raw cosine) and ``fusion_weight`` (its order against the lexical one;
            default 1).
        clock: Returns the current time; for tests.

    Example:
        >>> engine = EmbeddedEngine(":memory:")
        >>> client = MemOSClient(embedded=engine)
    """

    def __init__(
        self,
        path: str = ":memory:",
        *,
        chat_model: BaseChatModel | None = None,
        embeddings: Embeddings | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = Store(path)
        # Which database this is, as clients tell engines apart (see :attr:`place`).
        self._place = (
            f":memory:{uuid.uuid4().hex}" if path == ":memory:" else os.path.realpath(path)
        )
        self.chat_model = chat_model
        self.embeddings = embeddings
        writer = Writer(self.store, embeddings, clock or (lambda: datetime.now(timezone.utc)))
        self._search = Search(writer)
        self._refiner = (
            Refiner(writer, self._search, chat_model) if chat_model is not None else None
        )
        self._profiles = Profiles(writer)
        self._ingest = Ingest(writer, self._refiner, self._profiles)
        self._records = Records(writer, self._profiles)
        self._knowledge = KnowledgeBases(writer)
        # Each endpoint: the model of its body, and what answers it.
        self._routes: dict[str, tuple[type[Request], Callable[[Any], Any]]] = {
            "/add/message": (AddMessage, self._ingest.add_message),
            "/search/memory": (SearchMemory, self._search_memory),
            "/get/message": (GetMessage, self._ingest.get_message),
            "/get/memory": (GetMemory, self._records.get_memory),
            "/delete/memory": (DeleteMemory, self._records.delete_memory),
            "/update/memory": (UpdateMemory, self._records.update_memory),
            "/add/feedback": (AddFeedback, self._ingest.add_feedback),
            "/get/status": (GetStatus, self._records.get_status),
            "/extract/memory": (ExtractMemory, self._ingest.extract_memory),
            "/create/knowledgebase": (CreateKnowledgebase, self._knowledge.create_knowledgebase),
            "/delete/knowledgebase": (DeleteKnowledgebase, self._knowledge.delete_knowledgebase),
            "/add/knowledgebase-file": (
                AddKnowledgebaseFile,
                self._knowledge.add_knowledgebase_file,
            ),
            "/get/knowledgebase-file": (
                GetKnowledgebaseFile,
                self._knowledge.get_knowledgebase_file,
            ),
            "/delete/knowledgebase-file": (
                DeleteKnowledgebaseFile,
                self._knowledge.delete_knowledgebase_file,
            ),
            "/bind/profile_template": (
                BindProfileTemplate,
                self._profiles.bind_profile_template,
            ),
            "/edit/profile": (EditProfile, self._profiles.edit_profile),
            "/delete/profile": (DeleteProfile, self._profiles.delete_profile),
        }

    def close(self) -> None:
        """Finish pending refinements, then close the database."""
        if self._refiner is not None:
            self._refiner.close()
        self.store.close()

    # ---- the wire ------------------------------------------------------------------------

    @property
    def place(self) -> str:
        """The database this engine keeps memories in: its file's real path, or a name of its
        own for an in-memory one. A client's outbox identity holds a digest of it, so that a
        write waiting in a shared outbox reaches only the database it was made for."""
        return self._place

    def handle(
        self,
        method: str,
        path: str,
        body: bytes,
        *,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        """Answer one HTTP request with ``(status, JSON envelope)``; raises only on a bug (which
        ``serve`` answers with a 500 that names nothing of it)."""
        route = path.split("/openmem/v1", 1)[-1] if "/openmem/v1" in path else path
        try:
            data = self._dispatch(method, route.rstrip("/"), body, params or {}, content_type)
        except EngineError as error:
            return error.http_status, _envelope(error.code, None, error.message)
        except ConfigurationError as error:
            # The engine's own set-up (numpy missing for vectors): no fault of the request, and a
            # write refused as one would be dropped; answered as the service's own failure.
            return 500, _envelope(codes.INTERNAL_ERROR, None, f"the embedded engine: {error}")
        except (MemOSInputError, FilterError) as error:
            # A check after the request was read (parse_wire answers those with their own code).
            message = f"Invalid request parameters: {error}"
            return 400, _envelope(codes.BAD_REQUEST, None, message)
        except (NotWrittenError, DatabaseGoneError, sqlite3.DatabaseError) as error:
            answer = database_failure(error, route.rstrip("/"), self.store.path)
            if answer is None:
                raise
            status, code, message = answer
            return status, _envelope(code, None, message)
        return 200, _envelope(0, data, "ok")

    def _dispatch(
        self, method: str, route: str, body: bytes, params: Mapping[str, str], content_type: str
    ) -> Any:
        if method == "GET" and route == "":
            return self.describe()
        if method == "GET" and route.startswith("/get/memory/"):
            return self.get_memory_by_id(route.removeprefix("/get/memory/"))
        endpoint = self._routes.get(route)
        if route in ("/chat", "/rerank"):
            raise EngineError(
                codes.BAD_REQUEST,
                f"{route[1:]} needs a MemOS-hosted model, which the embedded engine does not have",
            )
        if endpoint is None or method != "POST":
            raise EngineError(codes.NO_SUCH_ENDPOINT, f"no such endpoint: {method} {route}")
        if route == "/add/knowledgebase-file" and content_type.startswith("multipart/"):
            return self._knowledge.add_knowledgebase_form(body, params, content_type)
        try:
            request = json.loads(body or b"{}", parse_constant=_not_json)
        except RecursionError:
            raise EngineError(codes.BAD_REQUEST, "the request body nests too deeply") from None
        except ValueError:
            raise EngineError(codes.BAD_REQUEST, "the request body is not JSON") from None
        if not isinstance(request, dict):
            raise EngineError(codes.BAD_REQUEST, "the request body must be a JSON object")
        _check_json(request)
        model, answer = endpoint
        return answer(parse_wire(model, request))

    def describe(self) -> dict[str, Any]:
        """What ``GET /`` answers: what this server is, and where its API lives."""
        return {
            "service": "langchain-memos embedded MemOS engine",
            "api_root": API_ROOT,
            "endpoints": [
                "GET /get/memory/{id}",
                *(f"POST {route}" for route in self._routes),
            ],
            "docs": "https://memos-docs.openmem.net (the MemOS cloud API, which this server "
            "implements locally); langchain-memos README, 'Serving the engine over HTTP'",
        }

    # ---- the endpoints, one method each: a request body in, the envelope's data out ---------
    # Called directly, a mistaken field raises MemOSInputError (or the engine's error, with the
    # code the wire would answer); handle() answers the same mistakes with an error envelope.

    def add_message(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._ingest.add_message(parse(AddMessage, body))

    def get_message(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._ingest.get_message(parse(GetMessage, body))

    def add_feedback(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """A correction. Fast mode keeps it as the user's newest statement, ranked above what it
        corrects; fine mode has the model update or retire the memories it corrects."""
        return self._ingest.add_feedback(parse(AddFeedback, body))

    def extract_memory(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._ingest.extract_memory(parse(ExtractMemory, body))

    def search_memory(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._search_memory(parse(SearchMemory, body))

    def _search_memory(self, request: SearchMemory) -> dict[str, Any]:
        """The ranked memories of each view asked for; the profile view is the subject's
        profile fields, those sharing most words with the query first."""
        plan = [step for step in request.plan if step[0] != "profile"]
        result = self._search.search_memory(request.model_copy(update={"plan": plan}))
        for kind, key, limit in request.plan:
            if kind == "profile":
                result[key] = self._profiles.fields(request.subject, request.query, limit)
            result.setdefault(key, [])
        return result

    def bind_profile_template(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._profiles.bind_profile_template(parse(BindProfileTemplate, body))

    def edit_profile(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._profiles.edit_profile(parse(EditProfile, body))

    def delete_profile(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._profiles.delete_profile(parse(DeleteProfile, body))

    def rank(
        self,
        query: str,
        *,
        user_id: str,
        limit: int = 25,
        relativity: float = 0.0,
        candidates: int | None = None,
    ) -> list[dict[str, Any]]:
        """A user's facts for ``query``, best first, as ``search/memory`` ranks them but without
        its cap of 25: for benchmarks and diagnostics, not part of the MemOS API.

        Each is a memory as ``search/memory`` returns it, ``relativity`` included (the share of
        the query it answers, 0 to 1); those under ``relativity`` are left out. No knowledge
        bases, filters or preferences; no conversation is preferred.

        Args:
            query: What to search for.
            user_id: Whose facts.
            limit: How many to return at most.
            relativity: The least share of the query a memory must answer.
            candidates: How many full-text matches to rank; by default as ``search/memory``
                does, five per memory asked for and at least 50. Boosts (an answer above its
                question) can lift a match from below a shallower depth.

        Example:
            >>> engine = EmbeddedEngine(":memory:")
            >>> [m["memory_value"] for m in engine.rank("jazz", user_id="u1", limit=100)]
            []
        """
        return self._search.rank(query, user_id, limit, relativity, candidates)

    def get_memory(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._records.get_memory(parse(GetMemory, body))

    def get_memory_by_id(self, memory_id: str) -> dict[str, Any]:
        return self._records.get_memory_by_id(memory_id)

    def delete_memory(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Delete by ids, or every memory of a user or an agent; ``memory_type`` narrows each.

        A user or agent without (such) memories is deleted idempotently; ids of which none exists
        are a 40307, as in the cloud.
        """
        return self._records.delete_memory(parse(DeleteMemory, body))

    def update_memory(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._records.update_memory(parse(UpdateMemory, body))

    def get_status(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._records.get_status(parse(GetStatus, body))

    def create_knowledgebase(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._knowledge.create_knowledgebase(parse(CreateKnowledgebase, body))

    def delete_knowledgebase(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._knowledge.delete_knowledgebase(parse(DeleteKnowledgebase, body))

    def add_knowledgebase_file(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self._knowledge.add_knowledgebase_file(parse(AddKnowledgebaseFile, body))

    def get_knowledgebase_file(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._knowledge.get_knowledgebase_file(parse(GetKnowledgebaseFile, body))

    def delete_knowledgebase_file(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._knowledge.delete_knowledgebase_file(parse(DeleteKnowledgebaseFile, body))


def _not_json(constant: str) -> None:
    """Python's json reads ``NaN`` and ``Infinity``, which are not JSON: stored, they would make
    every later answer that holds them unreadable to a strict JSON parser."""
    raise EngineError(codes.BAD_REQUEST, f"the request holds {constant}, which is not JSON")


def _check_json(value: object) -> None:
    """Refuse what JSON can carry but a MemOS request cannot: deep nesting, and lone UTF-16
    surrogates (``"\\ud83d"``), which no UTF-8 text (nor SQLite) can hold."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise EngineError(
                    codes.BAD_REQUEST, "the request holds a lone UTF-16 surrogate (\\ud800-\\udfff)"
                )
        elif isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise EngineError(
                    codes.BAD_REQUEST, f"the request nests deeper than {MAX_JSON_DEPTH} levels"
                )
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)


def _envelope(code: int, data: Any, message: str) -> bytes:
    return json.dumps({"code": code, "data": data, "message": message}, ensure_ascii=False).encode()
