"""Recalled memories assembled into a system prompt, the way the MemOS documentation does it.

A search result becomes (after the docs' matches / instruction / full_instruction):

* ``matches``: the recalled items that made it into the prompt, most relevant first;
* ``instruction``: the ``<memories>`` block and the time zone of its times, to put into your
  own prompt (prompt mode ``"memories"``);
* ``protocol_instruction``: the current time and time zone, the memories, the four-step
  memory-safety protocol and the instructions: the system prompt without its role and query,
  to append to an agent's own system prompt (prompt mode ``"protocol"``, the agent default);
* ``full_instruction``: the complete system prompt of the docs: role, the above and,
  optionally, the user's query (prompt mode ``"full"``).

The ``<memories>`` block has the docs' ``<facts>`` and ``<preferences>``, and a section for each
other memory view recalled (``include_memory_view``): ``<profile>`` (the profile's fields, as
``Category.Field: value``), ``<events>`` (each with when and where it happened, as said:
``[When: last Tuesday]``), ``<tools>`` and ``<skills>``; the docs' description of the memories
gains a line for each of those. One token budget covers every section.

Every rendering names the time zone its times are in (the builder's ``timezone``, by default
the service's, UTC+08:00).

Example:
    >>> prompt = build_memory_prompt(client.search_memory(query, user_id="u1"), query=query)
    >>> SystemMessage(prompt.full_instruction)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Literal, TypeAlias, cast, get_args

from langchain_memos._exceptions import MemOSInputError
from langchain_memos._memory_lines import (
    MemoryLine,
    events_over_facts,
    memory_lines,
    memory_signature,
    similar,
)
from langchain_memos._prompt_templates import (
    PROTOCOL_TEMPLATES,
    QUERY_HEADING,
    SECTION_NOTES,
    SECTIONS,
    TEMPLATES,
    ZONE_NOTES,
    Language,
)
from langchain_memos._tokens import CJK, approximate_tokens
from langchain_memos._validation import (
    check_callable,
    check_flag,
    check_fraction,
    check_instance,
)
from langchain_memos._validation.keywords import checks_keywords
from langchain_memos.types import SERVICE_TIMEZONE, SearchMemoryResult

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_PROMPT_MODE",
    "MemoryLine",
    "MemoryPrompt",
    "MemoryPromptBuilder",
    "PromptMode",
    "PromptParts",
    "build_memory_prompt",
    "check_prompt_mode",
    "zone_label",
]

DEFAULT_MAX_TOKENS = 1_500
PromptMode: TypeAlias = Literal["memories", "protocol", "full"]
"""What an agent integration injects: see :meth:`MemoryPrompt.text`."""
DEFAULT_PROMPT_MODE: PromptMode = "protocol"


@dataclass(frozen=True)
class PromptParts:
    """What a custom template receives."""

    memories: str
    current_time: str
    query: str
    language: Language
    timezone: str = ""
    """The zone of every time shown, e.g. ``"UTC+08:00 (Asia/Shanghai)"``."""


@dataclass(frozen=True)
class MemoryPrompt:
    """The prompt made of one search result. Every text is empty when nothing was recalled."""

    matches: list[MemoryLine]
    instruction: str
    full_instruction: str
    tokens: int
    """Tokens of the recalled lines kept (the budget's measure), by the builder's counter."""
    protocol_instruction: str = ""
    """``full_instruction`` without its role and query: what an agent adds to its own prompt."""
    timezone: str = ""
    """The zone the prompt's times are in, as the prompt names it."""

    def __bool__(self) -> bool:
        return bool(self.matches)

    def text(self, mode: PromptMode = DEFAULT_PROMPT_MODE) -> str:
        """The rendering a prompt mode injects.

        * ``"memories"``: :attr:`instruction`, the ``<memories>`` block and its time zone;
        * ``"protocol"``: :attr:`protocol_instruction`, the current time and zone, the
          memories, the four-step memory-safety protocol (how to treat ``[assistant
          viewpoint]`` memories) and the instructions;
        * ``"full"``: :attr:`full_instruction`, that with the role and the user's query.
        """
        texts = {
            "memories": self.instruction,
            "protocol": self.protocol_instruction,
            "full": self.full_instruction,
        }
        return texts[check_prompt_mode(mode)]


def check_prompt_mode(mode: object, *, full_instruction: bool = False) -> PromptMode:
    """A valid prompt mode; ``None`` is the default, or ``"full"`` with ``full_instruction``.

    ``full_instruction=True`` is the older spelling of ``prompt_mode="full"``.

    Raises:
        MemOSInputError: an unknown mode, or ``full_instruction`` with another mode.
    """
    if mode is None:
        return "full" if full_instruction else DEFAULT_PROMPT_MODE
    if mode not in get_args(PromptMode):
        raise MemOSInputError(f"prompt_mode must be 'memories', 'protocol' or 'full'; got {mode!r}")
    if full_instruction and mode != "full":
        raise MemOSInputError(
            f"full_instruction=True means prompt_mode='full', not {mode!r}; pass only one"
        )
    return cast("PromptMode", mode)


def _utc(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_label(zone: tzinfo, at: datetime) -> str:
    """How a prompt names ``zone``: ``"UTC+08:00 (Asia/Shanghai)"``, ``"UTC"``, or, for a zone
    with daylight saving time, its name and both offsets in ``at``'s year."""
    offsets = sorted(
        {
            offset
            for month in (1, 7)
            if (offset := datetime(at.year, month, 1, tzinfo=zone).utcoffset()) is not None
        }
    )
    name = getattr(zone, "key", None) or zone.tzname(at.astimezone(zone))
    if len(offsets) > 1:
        return f"{name} ({' / '.join(map(_utc, offsets))})"
    utc = _utc(offsets[0]) if offsets else None
    if utc is None:
        return name or "local time"
    if utc == "UTC+00:00" and name in (None, "UTC", utc):
        return "UTC"
    return utc if name in (None, utc) else f"{utc} ({name})"


_PLACEHOLDER = re.compile(r"\{(memories|current_time|timezone|query)\}")

Template: TypeAlias = str | Callable[[PromptParts], str]
"""A template string with ``{memories}``, ``{current_time}``, ``{timezone}`` and ``{query}``
placeholders (each replaced once, in one pass over the template: other braces, and braces in
the memories and the query, are safe), or a function of
:class:`PromptParts`."""


_HAN = re.compile(rf"[{CJK}]")
# Words that make Chinese a sentence rather than a name quoted in another language.
_ZH_GRAMMAR = re.compile(
    r"[的了吗呢吧我你他她们是在有不没这那个么怎什帮请想要会能给把被和就都也还]"
)
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_NOT_WORDS = re.compile(r"\S*(?:://|[/\\=(){}\[\]<>_`]|\w\.\w)\S*")  # URLs, paths, code


def _language_of(text: str) -> Language:
    """Chinese when the text is written in Chinese: its Chinese is more than a name (it holds
    a word of grammar: 我, 的, 怎么 ...), or outweighs its Latin-script words (a Chinese
    character counting as half a word; URLs and code not counted). "帮我看下这个 TypeError" and
    "我想去Paris玩" are Chinese; "Which hotels do you recommend in 北京?" is English."""
    han = _HAN.findall(text)
    if not han:
        return "en"
    if _ZH_GRAMMAR.search(text):
        return "zh"
    latin = _LATIN_WORD.findall(_NOT_WORDS.sub(" ", text))
    return "zh" if len(han) / 2 >= len(latin) else "en"


@checks_keywords
class MemoryPromptBuilder:
    """Turns search results into memory prompts; configure once, build per turn.

    Args:
        language: ``"en"``, ``"zh"``, or ``"auto"`` (Chinese when the query, or else the
            recalled memories, are written in Chinese: more than a Chinese name in English).
        timezone: The zone memory times and the current time are shown in (default: the
            service's, UTC+08:00 Asia/Shanghai); every rendering names it.
        max_tokens: Budget for the recalled lines (default 1,500); the most relevant lines are
            kept. The template around them is fixed and not counted.
        token_counter: Counts tokens of a line (default: a no-dependency estimate).
        template: Replaces the documented template (a string or a callable) in
            ``full_instruction`` and ``protocol_instruction``.
        include_query: Put the user's query under "Original Query".
        dedupe_threshold: Lines whose words overlap at least this much (Jaccard) are merged,
            keeping the more relevant; a preference wins a tie with a fact that says the
            same, and an event always replaces such a fact (it also says when), taking the
            higher of their relevances.
        now: Returns the "current time" of System Context (default: the clock); a replayed
            or scheduled conversation can give its own date.
    """

    def __init__(
        self,
        *,
        language: Literal["auto", "en", "zh"] = "auto",
        timezone: tzinfo = SERVICE_TIMEZONE,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        token_counter: Callable[[str], int] = approximate_tokens,
        template: Template | None = None,
        include_query: bool = True,
        dedupe_threshold: float = 0.8,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if language not in ("auto", "en", "zh"):
            raise MemOSInputError(f"language must be 'auto', 'en' or 'zh'; got {language!r}")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise MemOSInputError(f"max_tokens must be a positive integer; got {max_tokens!r}")
        if not check_fraction("dedupe_threshold", dedupe_threshold):
            raise MemOSInputError("dedupe_threshold must be above 0")
        check_flag("include_query", include_query)
        check_instance("timezone", timezone, tzinfo)
        check_callable("token_counter", token_counter)
        check_callable("now", now)
        if template is not None and not (callable(template) or isinstance(template, str)):
            raise MemOSInputError("template must be a string or a callable")
        self.language = language
        self.timezone = timezone
        self.max_tokens = max_tokens
        self.token_counter = token_counter
        self.template = template
        self.include_query = include_query
        self.dedupe_threshold = dedupe_threshold
        self._now = now or (lambda: datetime.now(timezone))

    def _language(self, result: SearchMemoryResult, query: str | None) -> Language:
        if self.language != "auto":
            return self.language
        sample = query or " ".join(
            [m.memory_value or "" for m in result.memory_detail_list[:5]]
            + [p.preference or "" for p in result.preference_detail_list[:5]]
            + [e.event_value or "" for e in result.event_detail_list[:5]]
            + [p.memory or "" for p in result.profile_detail_list[:5]]
        )
        return _language_of(sample)

    def select(self, lines: Sequence[MemoryLine]) -> tuple[list[MemoryLine], int]:
        """The most relevant lines that fit the budget, near-duplicates merged."""
        # An event replaces the fact it says again. Among equals, preferences first: of a fact
        # and a preference saying the same, keep the preference, which also says how to answer.
        lines = events_over_facts(lines, self.dedupe_threshold)
        ranked = sorted(lines, key=lambda x: (x.relevance, x.kind == "preference"), reverse=True)
        kept: list[MemoryLine] = []
        signatures: list[frozenset[str]] = []
        used = 0
        for line in ranked:
            signature = memory_signature(line.text)
            if any(similar(signature, seen, self.dedupe_threshold) for seen in signatures):
                continue
            cost = self.token_counter(line.render(self.timezone))
            if used + cost > self.max_tokens:
                continue  # a shorter, less relevant line may still fit
            kept.append(line)
            signatures.append(signature)
            used += cost
        return kept, used

    def _block(self, kept: Sequence[MemoryLine]) -> str:
        sections = []
        for kind, tag in SECTIONS.items():
            lines = [line for line in kept if line.kind == kind]
            if kind not in ("fact", "preference") and not lines:
                continue  # the docs' block has facts and preferences; the others when recalled
            # Newest first, as the documentation shows them.
            lines.sort(key=lambda x: x.time.timestamp() if x.time else 0.0, reverse=True)
            body = "\n".join(line.render(self.timezone) for line in lines)
            sections.append(f"  <{tag}>\n{body}\n  </{tag}>" if body else f"  <{tag}>\n  </{tag}>")
        return "<memories>\n" + "\n\n".join(sections) + "\n</memories>"

    @staticmethod
    def _render(template: Template, parts: PromptParts) -> str:
        if callable(template):
            return template(parts)
        values = {
            "memories": parts.memories,
            "current_time": parts.current_time,
            "timezone": parts.timezone,
            "query": parts.query,
        }
        # One pass over the template: a memory or a query that says "{query}" is text, never
        # a placeholder filled in after it.
        return _PLACEHOLDER.sub(lambda found: values[found.group(1)], template)

    def build(self, result: SearchMemoryResult, query: str | None = None) -> MemoryPrompt:
        """The prompt for one search result; empty when nothing was recalled.

        A custom ``template`` makes both ``full_instruction`` and ``protocol_instruction``
        (the latter with an empty ``query``: an agent's conversation already holds it).
        """
        if not isinstance(result, SearchMemoryResult):
            raise MemOSInputError(
                f"build takes a SearchMemoryResult (what search_memory returns); got "
                f"{type(result).__name__}"
            )
        language = self._language(result, query)
        kept, used = self.select(memory_lines(result, language, self.timezone))
        if not kept:
            return MemoryPrompt(matches=[], instruction="", full_instruction="", tokens=0)
        now = self._now().astimezone(self.timezone)
        zone = zone_label(self.timezone, now)
        block = self._block(kept)
        note = result.preference_note
        # The service's note follows the block, and speaks of preferences: only with some.
        note = (
            "\n" + note.rstrip()
            if note.strip() and any(m.kind == "preference" for m in kept)
            else ""
        )
        parts = PromptParts(
            memories=block + note,
            current_time=f"{now:%Y-%m-%d %H:%M}",
            query=(QUERY_HEADING + query) if (query and self.include_query) else "",
            language=language,
            timezone=zone,
        )
        zone_note = ZONE_NOTES[language].replace("{timezone}", zone)
        # The docs' text describes facts and preferences; each other section in the block adds
        # its own line (before the memories are filled in, so that no memory is mistaken for it).
        recalled = {line.kind for line in kept}
        notes = "".join(text for kind, text in SECTION_NOTES[language].items() if kind in recalled)
        full: Template = TEMPLATES[language].replace("{sections}", notes)
        protocol: Template = PROTOCOL_TEMPLATES[language].replace("{sections}", notes)
        if self.template is not None:
            full = protocol = self.template
        return MemoryPrompt(
            matches=kept,
            instruction=f"{block}\n{zone_note}{note}",
            full_instruction=self._render(full, parts),
            tokens=used,
            protocol_instruction=self._render(protocol, replace(parts, query="")),
            timezone=zone,
        )


def build_memory_prompt(
    result: SearchMemoryResult, query: str | None = None, **options: object
) -> MemoryPrompt:
    """Build one prompt with :class:`MemoryPromptBuilder` ``options``."""
    return MemoryPromptBuilder(**options).build(result, query)  # type: ignore[arg-type]
