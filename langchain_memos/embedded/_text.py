"""Text handling for the embedded engine: search terms, times, the words of fast-mode memories."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from langchain_memos._tokens import CJK
from langchain_memos.types import SERVICE_TIMEZONE, parse_timestamp

# A run of Chinese characters, or a word of other letters and digits: Chinese characters are
# word characters too, but a word ends where they start ("我在Google上班": "google", "上班").
_TOKEN = re.compile(rf"[{CJK}]+|[^\W_{CJK}]+(?:'[^\W_{CJK}]+)?", re.UNICODE)
_IS_CJK = re.compile(rf"[{CJK}]")

# Words too common to say anything about a memory (English) or to be a useful bigram (Chinese).
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "s",
        "t",
        "don",
        "i'm",
        "it's",
        "that's",
        "what's",
        "let's",
        "i've",
        "i'd",
        "i'll",
        "you're",
    ]
)


# Chinese characters that are grammar, not content: never a search term on their own.
STOP_CHARACTERS = frozenset(
    "的了是在我你他她它们和与就也都很吗呢吧啊呀哦嗯这那个一么什怎哪要会能想去到说着过还又把被让给对从向为以而或但如何之其此所等啦嘛有没不"
)


def terms(text: str) -> list[str]:
    """Search terms of ``text``: lowercased words; inside Chinese runs, overlapping bigrams and
    then the single characters that carry content.

    SQLite's unicode61 tokenizer keeps a run of Chinese characters as one token, which would only
    match the identical run; bigrams let "国庆旅游" match "国庆" and "旅游", and single characters
    let a short question match a memory it shares no bigram with ("住哪里" / "住大理古城").
    Bigrams come first and in order, so that a word of several characters is a phrase of them.
    """
    out: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group()
        if _IS_CJK.match(token):
            out.extend(token[i : i + 2] for i in range(max(1, len(token) - 1)))
            if len(token) > 1:
                out.extend(c for c in token if c not in STOP_CHARACTERS)
        else:
            out.append(token.replace("'", ""))
    return out


def phrase(word: str) -> str:
    """How a word is written as search terms: itself, or a Chinese word's bigrams in order."""
    found = terms(word)
    if has_cjk(word) and len(word) > 1:
        found = found[: max(1, len(word) - 1)]
    return " ".join(found)


def index_text(*parts: str) -> str:
    """What goes into the full-text index for a memory."""
    return " ".join(term for part in parts for term in terms(part))


# Chinese question words: what a query asks, not what an answer says ("我住在哪里" asks about
# 住, not 里). English ones are stop words.
_QUESTION_WORDS = re.compile("什么时候|为什么|怎么样|哪里|哪儿|哪个|哪些|什么|怎么|怎样")


# Idioms whose words would name what they do not mean: "what do you do for a living" asks about
# work, not where one lives (and has no "living" to pair with "live").
_IDIOMS = re.compile(
    r"\b(?:for|make|makes|made|making|earn|earns|earned|earning) a living\b(?! room)",
    re.IGNORECASE,
)


def without_idioms(text: str) -> str:
    """``text`` with each idiom the lexicon would misread put as the word it means."""
    return _IDIOMS.sub("work", text)


def query_terms(text: str) -> list[str]:
    """The distinct content terms of a query, in order."""
    seen: dict[str, None] = {}
    for term in terms(_QUESTION_WORDS.sub(" ", without_idioms(text))):
        if term in STOPWORDS or STOP_CHARACTERS.issuperset(term):
            continue  # "the", or Chinese grammar only: "我的"
        if term not in seen:
            seen[term] = None
    return list(seen) or list(dict.fromkeys(terms(text)))


def fts_query(words: list[str]) -> str:
    """An FTS5 MATCH expression: any of ``words``, each quoted so no query syntax gets through."""
    return " OR ".join('"' + word.replace('"', '""') + '"' for word in words)


def has_cjk(text: str) -> bool:
    return bool(_IS_CJK.search(text))


# ---- time ---

TIME_MARKER = "tmpmarker"
"""Indexed for turns that speak of time, and searched for questions that ask when."""
_SPEAKS_OF_TIME = re.compile(
    r"\b(?:yesterday|today|tonight|tomorrow|ago|last|next|recently|lately|soon|since|weeks?|"
    r"weekend|months?|years?|days?|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"(?:19|20)\d\d)\b|昨天|今天|明天|上周|下周|上个月|下个月|去年|明年|前天|周末",
    re.IGNORECASE,
)
_ASKS_WHEN = re.compile(
    r"^\s*(?:when|how long|since when|what (?:year|month|date|day|time)|which (?:year|month|day))"
    r"\b|什么时候|哪天|哪一年|多久",
    re.IGNORECASE,
)


def speaks_of_time(text: str) -> bool:
    return bool(_SPEAKS_OF_TIME.search(text))


def asks_when(question: str) -> bool:
    return bool(_ASKS_WHEN.search(question))


def date_words(moment: datetime) -> str:
    """The words a question may use for a date: ``8 May 2023 Monday``."""
    local = moment.astimezone(SERVICE_TIMEZONE)
    return f"{local.day} {local:%B} {local.year} {local:%A}"


_LOCOMO_TIME = re.compile(
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<ampm>am|pm)\s+on\s+(?P<day>\d{1,2})\s+"
    r"(?P<month>[a-z]+),?\s+(?P<year>\d{4})",
    re.IGNORECASE,
)
_CN_DATE = re.compile(
    r"(?P<year>\d{4})年(?P<month>\d{1,2})月(?P<day>\d{1,2})[日号]"
    r"(?:\s*(?P<hour>\d{1,2})[:点时](?P<minute>\d{1,2})?)?"
)
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


def parse_chat_time(value: object) -> datetime | None:
    """A message's ``chat_time``: ISO or ``YYYY-MM-DD HH:MM:SS`` (Beijing time when naive),
    epoch numbers, ``1:56 pm on 8 May, 2023`` or ``2025年6月10日 9点``. None also for a time
    within hours of year 1 or 9999, which UTC or the service's time cannot hold."""
    moment = _parse_chat_time(value)
    try:
        if moment is not None:
            moment.astimezone(timezone.utc).astimezone(SERVICE_TIMEZONE)
    except OverflowError:
        return None
    return moment


def _parse_chat_time(value: object) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return parse_timestamp(value)
    if not isinstance(value, str) or not value.strip():
        return None
    parsed = parse_timestamp(value)
    if parsed is not None:
        return parsed
    match = _LOCOMO_TIME.search(value)
    if match and match["month"].lower() in MONTHS:
        hour = int(match["hour"]) % 12 + (12 if match["ampm"].lower() == "pm" else 0)
        return _local(
            int(match["year"]),
            MONTHS[match["month"].lower()],
            int(match["day"]),
            hour,
            int(match["minute"]),
        )
    match = _CN_DATE.search(value)
    if match:
        return _local(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
        )
    return None


def _local(year: int, month: int, day: int, hour: int, minute: int) -> datetime | None:
    try:
        return datetime(year, month, day, hour, minute, tzinfo=SERVICE_TIMEZONE)
    except ValueError:
        return None


def epoch_ms(moment: datetime) -> int:
    return int(moment.astimezone(timezone.utc).timestamp() * 1000)


def bound_ms(value: object) -> int | None:
    """A time bound (a filter's) in epoch ms, read as :func:`parse_chat_time` reads a time and
    counted as the memories' times are, but also near year 1 or 9999 ("since 0001-01-01"), where
    that conversion overflows: counted exactly."""
    moment = _parse_chat_time(value)
    if moment is None:
        return None
    try:
        return epoch_ms(moment)  # as the memories' times were counted
    except OverflowError:
        return (moment - EPOCH) // timedelta(milliseconds=1)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# ---- fast-mode memory production -----------------------------------------------------------


def is_word(text: str) -> bool:
    """Whether ``text`` is one word as :func:`keywords` finds words."""
    return _TOKEN.fullmatch(text) is not None


def keywords(text: str, limit: int = 5) -> list[str]:
    """A few tags for a memory: its longest distinct content words (Chinese: its first runs)."""
    words = [w for w in dict.fromkeys(_TOKEN.findall(text.lower())) if w not in STOPWORDS]
    if not has_cjk(text):  # most texts: no word to test for Chinese one by one
        return sorted((w for w in words if len(w) > 3), key=len, reverse=True)[:limit]
    latin = sorted((w for w in words if not has_cjk(w) and len(w) > 3), key=len, reverse=True)
    chinese = [w[:4] for w in words if has_cjk(w) and len(w) >= 2]
    return (chinese + latin)[:limit]


def title(text: str, limit: int = 48) -> str:
    """A memory key: the first line of the text, shortened at a word boundary."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] if not has_cjk(line[:limit]) else line[:limit]
    return cut.rstrip(" ,.;:") + "…"


def viewpoint(role: str, speaker: str | None, text: str) -> str:
    """The marker that says whose words a memory holds: ``[user观点]``, ``[Caroline]`` ..."""
    who = speaker or role
    return f"[{who}观点]" if has_cjk(text) else f"[{who} viewpoint]"
