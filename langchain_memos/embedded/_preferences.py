"""The preferences a user states explicitly ("I like ...", "我喜欢 ..."), found without a model."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Preference:
    text: str
    sentence: str


_EN_PREFERENCE = re.compile(
    r"\bI(?:\s+|(?='))(?:really\s+|just\s+|also\s+|absolutely\s+)?"
    r"(?P<verb>like|love|enjoy|prefer|adore|hate|dislike|detest|can't stand|cannot stand|"
    r"don't like|do not like|don't want|do not want|always|never|want|wish|would like|'d like|"
    r"'d rather|would rather|am allergic to|'m allergic to|am a fan of|'m a fan of|"
    r"am into|'m into)\b(?P<rest>[^.!?\n]*)",
    re.IGNORECASE,
)
_EN_THIRD_PERSON = {
    "like": "likes",
    "love": "loves",
    "enjoy": "enjoys",
    "prefer": "prefers",
    "adore": "adores",
    "hate": "hates",
    "dislike": "dislikes",
    "detest": "detests",
    "can't stand": "can't stand",
    "cannot stand": "cannot stand",
    "don't like": "doesn't like",
    "do not like": "does not like",
    "don't want": "doesn't want",
    "do not want": "does not want",
    "always": "always",
    "never": "never",
    "want": "wants",
    "wish": "wishes",
    "would like": "would like",
    "'d like": "would like",
    "'d rather": "would rather",
    "would rather": "would rather",
    "am allergic to": "is allergic to",
    "'m allergic to": "is allergic to",
    "am a fan of": "is a fan of",
    "'m a fan of": "is a fan of",
    "am into": "is into",
    "'m into": "is into",
}
# Where a preference's clause ends: a request after a comma ("I want to travel, can you help?"),
# a reason, or a new clause with its own subject ("I like green tea and I work night shifts").
_TRAILING_CLAUSE = re.compile(
    r",\s*(?:can|could|would|will|do|does|what|how|any|please|but|so)\b|"
    r"(?:,\s*|\s+(?:and|but|so|or|while)\s+)(?:I|I'm|I've|I'd|I'll|my|we|we're|our|he|she|"
    r"they|it's|you're)\b|\s+(?:because|although|though|whereas|since)\b|;",
    re.IGNORECASE,
)
_ZH_PREFERENCE = re.compile(
    r"我(?:很|非常|特别|比较|最|也|还是|一直|都)?"
    r"(?P<verb>不喜欢|喜欢|爱吃|爱|讨厌|不爱|偏好|更喜欢|更倾向于|倾向于|总是|从不|从来不|想要|希望|不想|受不了)"
    r"(?P<rest>[^。！？!?\n，,；;]*)"
)


def _first_person_en(text: str) -> str:
    swaps = {"my": "their", "me": "them", "myself": "themselves", "mine": "theirs"}
    return re.sub(r"\b(my|me|myself|mine)\b", lambda m: swaps[m.group().lower()], text, flags=re.I)


def find_preferences(text: str) -> list[Preference]:
    """Explicit preferences stated in ``text`` (likes, dislikes, always/never, wants), EN and ZH."""
    found: list[Preference] = []
    position = 0
    while match := _EN_PREFERENCE.search(text, position):
        # One preference per clause: "I want to travel, can you help?" states one, and "I like
        # tea and I work nights" one too; "I like hiking but I hate running" states two.
        rest = _TRAILING_CLAUSE.split(match["rest"])[0]
        position = match.start("rest") + max(len(rest), 1)
        rest = rest.strip(" ,;:")
        if not rest and match["verb"].lower() not in ("always", "never"):
            continue
        verb = _EN_THIRD_PERSON.get(match["verb"].lower(), match["verb"].lower())
        statement = f"The user {verb} {_first_person_en(rest)}".strip()
        sentence = text[match.start() : match.start("rest") + len(rest) + 1].strip(" ,;:")
        found.append(Preference(text=statement + ".", sentence=sentence))
    for match in _ZH_PREFERENCE.finditer(text):
        rest = match["rest"].strip()
        if not rest:
            continue
        found.append(Preference(text=f"用户{match['verb']}{rest}。", sentence=match.group()))
    return found
