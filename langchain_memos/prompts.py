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
from langchain_memos._tokens import approximate_tokens
from langchain_memos._validation import (
    check_callable,
    check_flag,
    check_fraction,
    check_instance,
)
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
Kind: TypeAlias = Literal["fact", "preference", "tool", "skill"]
Language: TypeAlias = Literal["en", "zh"]
PromptMode: TypeAlias = Literal["memories", "protocol", "full"]
"""What an agent integration injects: see :meth:`MemoryPrompt.text`."""
DEFAULT_PROMPT_MODE: PromptMode = "protocol"


@dataclass(frozen=True)
class MemoryLine:
    """One recalled item as the prompt shows it."""

    kind: Kind
    text: str
    relevance: float
    time: datetime | None
    id: str | None = None
    label: str = ""  # the preference's kind, in the prompt's language

    def render(self, zone: tzinfo) -> str:
        stamp = f"[{self.time.astimezone(zone):%Y-%m-%d %H:%M}] " if self.time else ""
        label = f"{self.label} " if self.label else ""
        return f"    -{stamp}{label}{self.text}"


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


_LABELS: dict[Language, dict[str, str]] = {
    "en": {
        "explicit_preference": "[Explicit Preference]",
        "implicit_preference": "[Implicit Preference]",
    },
    "zh": {"explicit_preference": "[显式偏好]", "implicit_preference": "[隐式偏好]"},
}
_SECTIONS: dict[Kind, str] = {
    "fact": "facts",
    "preference": "preferences",
    "tool": "tools",
    "skill": "skills",
}

_ROLES: dict[Language, str] = {
    "en": """# Role
You are an intelligent assistant with long-term memory (MemOS Assistant). Your goal is to combine \
retrieved memory fragments to provide highly personalized, accurate, and logically rigorous answers.

""",
    "zh": """# Role
你是一个拥有长期记忆能力的智能助手 (MemOS Assistant)。你的目标是结合检索到的记忆片段，\
为用户提供高度个性化、准确且逻辑严密的回答。

""",
}
_CONTEXTS: dict[Language, str] = {
    "en": """# System Context
- Current time: {current_time} (use this as the baseline for judging memory freshness)
- Time zone: {timezone}; the current time and every memory's time are in this zone
""",
    "zh": """# System Context
- 当前时间: {current_time} (请以此作为判断记忆时效性的基准)
- 时区: {timezone}（当前时间与每条记忆的时间均为此时区）
""",
}
# Without the "# Original Query" section, the protocol's "Original Query" needs a referent.
_LATEST_QUERY: dict[Language, str] = {
    "en": "- Original Query: the user's latest message in the conversation\n",
    "zh": "- Original Query：对话中用户的最新一条消息\n",
}
_RULES: dict[Language, str] = {
    "en": """# Memory Data
The following information was retrieved by MemOS and is divided into facts and preferences.
- **Facts**: May include user attributes, historical conversations, or third-party information.
- **Important**: Content marked as '[assistant view]', '[assistant viewpoint]' or \
'[model summary]' represents past AI inference, not the user's original words.
- **Preferences**: Explicit or implicit requirements for response style, format, or reasoning.

{memories}

# Critical Protocol: Memory Safety
Retrieved memories may contain AI inferences, irrelevant noise, or incorrect subjects. You must \
apply the following four checks. If a memory fails any check, discard it.

1. Source verification:
   - Distinguish the user's original words from AI inference.
   - If a memory is marked as '[assistant view]', treat it as a past hypothesis, not an absolute \
user fact.
   - Example: if a memory says '[assistant view] the user loves mangoes' but the user never said \
so, do not assume the user likes mangoes.
   - Principle: AI summaries are only references and have much lower authority than direct user \
statements.

2. Attribution check:
   - Is the subject of the memory definitely the user?
   - If the memory describes a third party, candidate, fictional role, or case data, never \
attribute those traits to the user.

3. Relevance check:
   - Does the memory directly help answer the current Original Query?
   - If it is only a keyword match with a different context, ignore it.

4. Freshness check:
   - Does the memory conflict with the user's latest intent? Treat the current Original Query as \
the highest-priority source of truth.

# Instructions
1. Review <facts> first, apply the four checks, and remove noise and unreliable AI views.
2. Use only validated memories as background context.
3. Follow the style requirements in <preferences>.
4. Answer directly. Do not mention "memory store," "retrieval," or "AI views."
""",
    "zh": """# Memory Data
以下是 MemOS 检索到的相关信息，分为“事实”和“偏好”。
- **事实 (Facts)**：可能包含用户属性、历史对话记录或第三方信息。
- **特别注意**：其中标记为 '[assistant观点]'、'[模型总结]' 的内容代表 \
**AI 过去的推断**，**并非**用户的原话。
- **偏好 (Preferences)**：用户对回答风格、格式或逻辑的显式/隐式要求。

{memories}

# Critical Protocol: Memory Safety (记忆安全协议)
检索到的记忆可能包含**AI 自身的推测**、**无关噪音**或**主体错误**。\
你必须严格执行以下**“四步判决”**，只要有一步不通过，就**丢弃**该条记忆：

1. **来源真值检查 (Source Verification)**：
   - **核心**：区分“用户原话”与“AI 推测”。
   - 如果记忆带有 '[assistant观点]' 等标签，这仅代表AI过去的**假设**，\
**不可**将其视为用户的绝对事实。
   - *反例*：记忆显示 '[assistant观点] 用户酷爱芒果'。\
如果用户没提，不要主动假设用户喜欢芒果，防止循环幻觉。
   - **原则：AI 的总结仅供参考，权重大幅低于用户的直接陈述。**

2. **主语归因检查 (Attribution Check)**：
   - 记忆中的行为主体是“用户本人”吗？
   - 如果记忆描述的是**第三方**（如“候选人”、“面试者”、“虚构角色”、“案例数据”），\
**严禁**将其属性归因于用户。

3. **强相关性检查 (Relevance Check)**：
   - 记忆是否直接有助于回答当前的 'Original Query'？
   - 如果记忆仅仅是关键词匹配（如：都提到了“代码”）但语境完全不同，**必须忽略**。

4. **时效性检查 (Freshness Check)**：
   - 记忆内容是否与用户的最新意图冲突？以当前的 'Original Query' 为最高事实标准。

# Instructions
1. **审视**：先阅读 '<facts>'，执行“四步判决”，剔除噪音和不可靠的 AI 观点。
2. **执行**：
   - 仅使用通过筛选的记忆补充背景。
   - 严格遵守 '<preferences>' 中的风格要求。
3. **输出**：直接回答问题，**严禁**提及“记忆库”、“检索”或“AI 观点”等系统内部术语。
""",
}
_ZONE_NOTES: dict[Language, str] = {
    "en": "All times above are in {timezone}.",
    "zh": "以上时间的时区均为 {timezone}。",
}
TEMPLATES: dict[Language, str] = {
    language: _ROLES[language] + _CONTEXTS[language] + "\n" + _RULES[language] + "{query}"
    for language in ("en", "zh")
}
"""The documented system prompt (``full_instruction``), by language."""
PROTOCOL_TEMPLATES: dict[Language, str] = {
    language: _CONTEXTS[language] + _LATEST_QUERY[language] + "\n" + _RULES[language].rstrip()
    for language in ("en", "zh")
}
"""The documented system prompt without its role and query (``protocol_instruction``)."""
_QUERY_HEADING = "\n# Original Query\n"

Template: TypeAlias = str | Callable[[PromptParts], str]
"""A template string with ``{memories}``, ``{current_time}``, ``{timezone}`` and ``{query}``
placeholders (replaced literally, so other braces are safe), or a function of
:class:`PromptParts`."""


_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_MARKER = re.compile(r"^\s*\[[^\]]{1,40}\]\s*")


def _signature(text: str) -> frozenset[str]:
    """The words of a memory, without its viewpoint marker: what near-duplicates share."""
    text = _MARKER.sub("", text).lower()
    words: list[str] = []
    for token in _WORD.findall(text):
        if any(ord(c) > 0x2E80 for c in token):
            words += [token[i : i + 2] for i in range(max(1, len(token) - 1))]
        else:
            words.append(token)
    return frozenset(words)


def _similar(a: frozenset[str], b: frozenset[str], threshold: float) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= threshold


def _flat(text: str) -> str:
    return " ".join(text.split())


def _lines(result: SearchMemoryResult, language: Language) -> list[MemoryLine]:
    lines = [
        MemoryLine(
            "fact",
            _flat(m.memory_value or m.memory_key or ""),
            m.relativity or 0.0,
            m.created_at or m.updated_at,
            m.id,
        )
        for m in result.memory_detail_list
    ]
    labels = _LABELS[language]
    lines += [
        MemoryLine(
            "preference",
            _flat(p.preference or ""),
            p.relativity or 0.0,
            p.created_at or p.updated_at,
            p.id,
            labels.get(p.preference_type or "", ""),
        )
        for p in result.preference_detail_list
    ]
    for tool in result.tool_memory_detail_list:
        value = tool.tool_value if isinstance(tool.tool_value, str) else str(tool.tool_value or "")
        text = _flat(tool.experience or value)
        lines.append(MemoryLine("tool", text, tool.relativity or 0.0, tool.created_at, tool.id))
    for skill in result.skill_detail_list:
        about = skill.skill_value
        text = ": ".join(p for p in (about.name, about.description) if p) if about else ""
        lines.append(
            MemoryLine("skill", _flat(text), skill.relativity or 0.0, skill.created_at, skill.id)
        )
    return [line for line in lines if line.text]


class MemoryPromptBuilder:
    """Turns search results into memory prompts; configure once, build per turn.

    Args:
        language: ``"en"``, ``"zh"``, or ``"auto"`` (Chinese when the query, or else the
            recalled memories, contain Chinese).
        timezone: The zone memory times and the current time are shown in (default: the
            service's, UTC+08:00 Asia/Shanghai); every rendering names it.
        max_tokens: Budget for the recalled lines (default 1,500); the most relevant lines are
            kept. The template around them is fixed and not counted.
        token_counter: Counts tokens of a line (default: a no-dependency estimate).
        template: Replaces the documented template (a string or a callable) in
            ``full_instruction`` and ``protocol_instruction``.
        include_query: Put the user's query under "Original Query".
        dedupe_threshold: Lines whose words overlap at least this much (Jaccard) are merged,
            keeping the more relevant; a preference wins over a fact that says the same.
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
            m.memory_value or "" for m in result.memory_detail_list[:5]
        ) + " ".join(p.preference or "" for p in result.preference_detail_list[:5])
        return "zh" if any("\u4e00" <= c <= "\u9fff" for c in sample) else "en"

    def select(self, lines: Sequence[MemoryLine]) -> tuple[list[MemoryLine], int]:
        """The most relevant lines that fit the budget, near-duplicates merged."""
        # Preferences first among equals: of a fact and a preference saying the same, keep the
        # preference, which also tells the model how to answer.
        ranked = sorted(lines, key=lambda x: (x.relevance, x.kind == "preference"), reverse=True)
        kept: list[MemoryLine] = []
        signatures: list[frozenset[str]] = []
        used = 0
        for line in ranked:
            signature = _signature(line.text)
            if any(_similar(signature, seen, self.dedupe_threshold) for seen in signatures):
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
        for kind, tag in _SECTIONS.items():
            lines = [line for line in kept if line.kind == kind]
            if kind in ("tool", "skill") and not lines:
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
        return (
            template.replace("{memories}", parts.memories)
            .replace("{current_time}", parts.current_time)
            .replace("{timezone}", parts.timezone)
            .replace("{query}", parts.query)
        )

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
        kept, used = self.select(_lines(result, language))
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
            query=(_QUERY_HEADING + query) if (query and self.include_query) else "",
            language=language,
            timezone=zone,
        )
        zone_note = _ZONE_NOTES[language].replace("{timezone}", zone)
        return MemoryPrompt(
            matches=kept,
            instruction=f"{block}\n{zone_note}{note}",
            full_instruction=self._render(
                TEMPLATES[language] if self.template is None else self.template, parts
            ),
            tokens=used,
            protocol_instruction=self._render(
                PROTOCOL_TEMPLATES[language] if self.template is None else self.template,
                replace(parts, query=""),
            ),
            timezone=zone,
        )


def build_memory_prompt(
    result: SearchMemoryResult, query: str | None = None, **options: object
) -> MemoryPrompt:
    """Build one prompt with :class:`MemoryPromptBuilder` ``options``."""
    return MemoryPromptBuilder(**options).build(result, query)  # type: ignore[arg-type]
