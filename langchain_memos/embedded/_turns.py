"""What a conversation turn says on its own: filler, a question, a short answer, an echo."""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_memos._tokens import CJK
from langchain_memos.embedded import _filler_words as words
from langchain_memos.embedded._lexicon import groups_in
from langchain_memos.embedded._text import STOPWORDS, has_cjk, terms

_LATIN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+", re.UNICODE)
_CJK_RUN = re.compile(rf"[{CJK}]+")
_QUESTION = re.compile(r"[?？]\W*$|吗\W*$")
_SENTENCES = re.compile(r"(?<=[?？.!。！])\s*")
_OFFER = re.compile(
    r"\b(?:shall i|should i|would you like|do you want|want me to|how about|what about|"
    r"consider|options?|recommend|suggest)\w*\b|要不要|需要我|要我|可以考虑|推荐|建议|选择",
    re.IGNORECASE,
)
# Words by which a reply points back at what it replies to ("Then that one it is.").
_REFERS_BACK = re.compile(
    r"\b(?:it|that|this|then|one|those|these|them|there|same|either|neither|both)\b|那|这|就",
    re.IGNORECASE,
)
SHORT_WORDS = 8
"""A short reply (at most this many words; Chinese: characters / 2) to a question or offer, or
one that points back at what it replies to, is shown with that turn; so is an answer to a
question up to twice as long."""
CARRIED_CHARS = 240


def _kinds(text: str) -> tuple[set[str], bool]:
    """Which kinds of empty words ``text`` is made of ("answer", "reaction", and "thanks" among
    the reactions), and whether it is made of nothing else."""
    kinds: set[str] = set()
    rest = words.ZH_PLEASANTRIES.sub(" ", words.PLEASANTRIES.sub(" ", text))
    if rest != text:
        kinds.add("reaction")
    for word in _LATIN.findall(_CJK_RUN.sub(" ", rest).lower()):
        word = word.replace("'", "")
        if word in words.ANSWERS:
            kinds.add("answer")
        elif word in words.REACTIONS or word in STOPWORDS or word in ("im", "thats", "youre"):
            kinds.add("reaction")
            if word in words.THANKS:
                kinds.add("thanks")
        else:
            return kinds, False
    for run in _CJK_RUN.findall(rest):
        while run:
            word = next((w for w in words.ZH_WORDS if run.startswith(w)), None)
            if word is None:
                return kinds, False
            kinds.add("answer" if word in words.ZH_ANSWERS else "reaction")
            if word in words.ZH_THANKS:
                kinds.add("thanks")
            run = run[len(word) :]
    return kinds, True


def is_filler(text: str) -> bool:
    """A turn with no content of its own: thanks, greetings, reactions, acknowledgements."""
    _, empty = _kinds(text)
    return empty


def is_question(text: str) -> bool:
    """Ends with a question, or offers something (options, a suggestion)."""
    return bool(_QUESTION.search(text.strip()) or _OFFER.search(text))


def words_in(text: str) -> int:
    cjk = sum(len(run) for run in _CJK_RUN.findall(text))
    return len(_LATIN.findall(_CJK_RUN.sub(" ", text))) + (cjk + 1) // 2


@dataclass(frozen=True)
class Turn:
    role: str
    speaker: str
    text: str


def answers(turn: Turn, previous: Turn | None) -> bool:
    """Whether ``turn`` answers ``previous`` and needs it to be understood: a bare or short answer
    to another speaker's question or offer, or a short reply that points back at it.

    The AI assistant's reply to what the user states is no answer, however it points back ("Got
    it: family trips.", "好的, 那..."): it acknowledges the user's own words, which an answer would
    carry and hide behind the assistant's (see :func:`_is_ai_reply`).
    """
    if previous is None or previous.speaker == turn.speaker or is_filler(previous.text):
        return False
    # Asked outright: a sentence of it is a question, even with more said after it ("Would you
    # like insurance? It costs $30.").
    asked = any(_QUESTION.search(part) for part in _SENTENCES.split(previous.text.strip()))
    offered = asked or is_question(previous.text)
    kinds, empty = _kinds(turn.text)
    if empty and "answer" in kinds:  # a bare answer: "Yes.", "OK, thanks!"
        # Thanks with it acknowledge what was said, unless it asked outright.
        return asked or (offered and "thanks" not in kinds)
    if is_filler(turn.text):
        return False
    length = words_in(turn.text)
    points_back = bool(_REFERS_BACK.search(turn.text)) and not _is_ai_reply(turn, previous)
    if length <= SHORT_WORDS and (offered or points_back):
        return True
    return asked and length <= 2 * SHORT_WORDS


def _is_ai_reply(turn: Turn, previous: Turn) -> bool:
    """``turn`` is the AI assistant's, replying to the user. Only an unnamed assistant is the
    AI: a named one is a participant speaking for themself (two people's dialogue, as in
    LoCoMo), whose words are as much their own as the user's."""
    return turn.role == "assistant" and turn.speaker == "assistant" and previous.role == "user"


def restates(turn: Turn, previous: Turn | None) -> bool:
    """Whether the AI assistant's ``turn`` repeats what the user just said (an echo of it): a
    content word of it, or a word search takes for one ("trips with children" echoes "travel
    with the kids")."""
    if previous is None or not _is_ai_reply(turn, previous):
        return False
    said = {t for t in terms(previous.text) if t not in STOPWORDS and len(t) > 1}
    return bool(
        said & set(terms(turn.text))
        or groups_in(previous.text).keys() & groups_in(turn.text).keys()
    )


def carried(previous: Turn) -> str:
    """The text of the turn an answer carries, shortened to keep the memory small."""
    text = " ".join(previous.text.split())
    if len(text) <= CARRIED_CHARS:
        return text
    cut = text[:CARRIED_CHARS]
    return (cut if has_cjk(cut) else cut.rsplit(" ", 1)[0]) + "…"


def with_question(marker: str, text: str, previous: Turn) -> str:
    """A short answer's memory text: the answer, then what it answers."""
    quoted = carried(previous)
    if has_cjk(text + quoted):
        return f"{marker} {text.strip()}（回复{previous.speaker}：“{quoted}”）"
    return f"{marker} {text.strip()} (replying to {previous.speaker}: “{quoted}”)"


def beside(value: str, neighbour: str, *, later: bool) -> str:
    """A memory's text with the memory of the turn said just after (``later``) or before it."""
    if has_cjk(value + neighbour):
        return f"{value}（{'随后' if later else '此前'}：{neighbour}）"
    return f"{value} ({'then' if later else 'before that'}: {neighbour})"


def without_beside(value: str, neighbours: list[str]) -> str:
    """``value`` without the ``neighbours`` :func:`beside` put at its end, in either order."""
    riders = [
        beside(head, neighbour, later=later)[len(head) :]
        for neighbour in neighbours
        for later in (True, False)
        for head in ("", "x", "中")  # the Latin and the Chinese form
    ]
    while stripped := next((r for r in riders if r and value.endswith(r)), None):
        value = value[: -len(stripped)]
    return value
