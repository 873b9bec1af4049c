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
    r"don't like|do not like|don't want|do not want|want|wish|would like|'d like|"
    r"'d rather|would rather|am allergic to|'m allergic to|am a fan of|'m a fan of|"
    r"am into|'m into|(?P<habit>always|never|usually|often|normally|generally|typically|"
    r"rarely|seldom))\b(?P<rest>[^.!?\n]*)",
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
# When a habit or a liking holds, said before or after 我 ("周末我喜欢...", "我周末喜欢..."): kept.
_ZH_WHEN = (
    r"(?:每(?:天|周|晚|年|月|个(?:周末|月|星期))|周末|平时|平常|平日|工作日|节假日|假期|放假|"
    r"早上|早晨|晚上|中午|下午|上午|夜里|睡前|饭后|下班后|上班前|周[一二三四五六日天]|"
    r"星期[一二三四五六日天]|[春夏秋冬]天|最近|现在|以前|小时候)+"
)
_ZH_PREFERENCE = re.compile(
    rf"(?P<before>{_ZH_WHEN})?我(?P<after>{_ZH_WHEN})?(?:很|非常|特别|比较|最|也|还是|一直|都)?"
    r"(?P<verb>不喜欢|喜欢|爱吃|爱|讨厌|不爱|偏好|更喜欢|更倾向于|倾向于|总是|从不|从来不|想要|希望|不想|受不了)"
    r"(?P<rest>[^。！？!?\n，,；;]*)"
)


# The verb after an adverb of frequency: words between them that are no verb, and verbs that
# stay as they are for "the user" (modals, past forms), read from the user's words.
_BEFORE_VERB = re.compile(
    r"(?P<lead>(?:(?:just|also|still|ever|even|only|really|actually|truly|simply|basically|"
    r"literally|totally|definitely|absolutely|first)\s+)*)(?P<verb>[\w']+)",
    re.IGNORECASE,
)
_STAYS = frozenset(
    (
        *("can", "could", "will", "would", "shall", "should", "may", "might", "must", "was"),
        *("were", "been", "went", "gone", "ate", "eaten", "had", "did", "done", "took", "taken"),
        *("made", "got", "gotten", "saw", "seen", "came", "knew", "known", "thought", "bought"),
        *("brought", "felt", "found", "gave", "given", "kept", "left", "lost", "met", "paid"),
        *("ran", "said", "sat", "sent", "slept", "spent", "stood", "told", "wore", "won", "wrote"),
        *("drove", "drank", "flew", "forgot", "grew", "heard", "held", "rode", "sang", "sold"),
        *("swam", "taught", "understood", "began", "broke", "chose", "fell", "fought", "hid"),
        *("led", "meant", "rose", "shook", "spoke", "stole", "threw", "woke"),
    )
)
_IRREGULAR = {
    **{"have": "has", "do": "does", "go": "goes", "am": "is", "be": "is"},
    **{"don't": "doesn't", "haven't": "hasn't"},
}


def _told_of_the_user(rest: str) -> str:
    """``rest`` of "I always/never/usually ...", its verb agreeing with "the user"."""
    match = _BEFORE_VERB.match(rest)
    if match is None:
        return rest
    verb = match["verb"]
    return rest[: match.start("verb")] + _third_person(verb) + rest[match.end("verb") :]


def _third_person(verb: str) -> str:
    """book -> books, carry -> carries, wash -> washes, have -> has; past forms, modals,
    contractions and -ing forms unchanged."""
    bare = verb.lower()
    if bare in _IRREGULAR:
        return _IRREGULAR[bare]
    if bare in _STAYS or "'" in bare or bare.endswith(("ed", "ing")) or not bare.isalpha():
        return verb
    if len(bare) > 1 and bare.endswith("y") and bare[-2] not in "aeiou":
        return verb[:-1] + "ies"
    if bare.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    return verb + "s"


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
        # The words it was read from, as said (before the verb is told of the user).
        sentence = text[match.start() : match.start("rest") + len(rest) + 1].strip(" ,;:")
        habit = (match["habit"] or "").lower()
        if not rest and habit not in ("always", "never"):
            continue
        if habit:  # "I always book ..." is "The user always books ..."
            verb, rest = habit, _told_of_the_user(rest)
        else:
            verb = _EN_THIRD_PERSON.get(match["verb"].lower(), match["verb"].lower())
        statement = f"The user {verb} {_first_person_en(rest)}".strip()
        found.append(Preference(text=statement + ".", sentence=sentence))
    for match in _ZH_PREFERENCE.finditer(text):
        rest = match["rest"].strip()
        if not rest:
            continue
        when = (match["before"] or "") + (match["after"] or "")
        found.append(Preference(text=f"用户{when}{match['verb']}{rest}。", sentence=match.group()))
    return found
