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
    r"(?:don't|do not)(?:\s+(?:really|particularly|much|actually|quite))?\s+(?:like|love|enjoy)|"
    r"don't want|do not want|want|wish|would like|'d like|"
    r"'d rather|would rather|am allergic to|'m allergic to|am a fan of|'m a fan of|"
    r"am not a fan of|'m not a fan of|am not into|'m not into|"
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
    "am not a fan of": "is not a fan of",
    "'m not a fan of": "is not a fan of",
    "am not into": "is not into",
    "'m not into": "is not into",
}
# The likings a clause may state without its subject, after another ("... but hate milk").
_LIKING = (
    r"(?:also\s+|really\s+)?(?:like|love|enjoy|prefer|adore|hate|dislike|detest|can't stand)\b"
)
# Where a preference's clause ends: a request after a comma ("I want to travel, can you help?"),
# a reason, or a new clause with its own subject ("I like green tea and I work night shifts").
_TRAILING_CLAUSE = re.compile(
    r",\s*(?:can|could|would|will|do|does|what|how|any|please|but|so|which|who|where|"
    r"thanks|thank you)\b|"
    r"(?:,\s*|\s+(?:and|but|so|or|while)\s+)(?:I|I'm|I've|I'd|I'll|my|we|we're|our|he|she|"
    r"they|it's|you're)\b|\s+(?:even\s+)?(?:because|although|though|whereas|since)\b|;|"
    rf"(?:,\s*|\s+)(?:and|but)\s+(?={_LIKING})",
    re.IGNORECASE,
)
# "I like tea but hate milk": the second liking's subject is the first's.
_ELIDED = re.compile(rf"(?:,\s*|\s+)(?:and|but)\s+(?P<rest>(?:{_LIKING})[^.!?\n]*)", re.IGNORECASE)
# When a habit or a liking holds, said before or after 我 ("周末我喜欢...", "我周末喜欢..."): kept.
_ZH_WHEN = (
    r"(?:每(?:天|周|晚|年|月|个(?:周末|月|星期))|周末|平时|平常|平日|工作日|节假日|假期|放假|"
    r"早上|早晨|晚上|中午|下午|上午|夜里|睡前|饭后|下班后|上班前|周[一二三四五六日天]|"
    r"星期[一二三四五六日天]|[春夏秋冬]天|最近|现在|以前|小时候)+"
)
_ZH_VERBS = (
    r"不太喜欢|不怎么喜欢|不是很喜欢|不大喜欢|不太爱|不怎么爱|不喜欢|喜欢|爱吃|爱|讨厌|不爱|偏好|"
    r"更喜欢|更倾向于|倾向于|总是|从不|从来不|想要|希望|不想|受不了"
)
_ZH_PREFERENCE = re.compile(
    rf"(?P<before>{_ZH_WHEN})?我(?P<after>{_ZH_WHEN})?"
    r"(?:很|非常|特别|比较|最|也|还是|一直|都|其实|真的|确实|并|本来|向来|从小就|从小){0,2}"
    rf"(?P<verb>{_ZH_VERBS})(?P<rest>[^。！？!?\n，,；;]*)"
)
# "我喜欢猫, 也喜欢狗" (a full-width comma): the next clause's liking, its subject the first's.
_ZH_ALSO = re.compile(
    r"[，,]\s*(?:但是|但|可是|不过|而且|并且)?(?:也|还|又|更|特别|非常|很|最|真的)?"
    rf"(?P<verb>{_ZH_VERBS})(?P<rest>[^。！？!?\n，,；;]*)"
)
# Where a Chinese preference's clause ends ("我喜欢吃甜的但是医生不让我吃"): its reasons and buts.
_ZH_TRAILING = re.compile(r"但是|可是|不过|然而|因为|所以|(?<!不)但")
# A question word asks unless 都 or 也 makes it "any" (我喜欢什么都试试).
_ZH_ASKS = re.compile(
    r"(?:什么|哪里|哪儿|哪个|哪些|多少|怎么|谁)(?![都也])|哪(?![里儿个些都也])|吗"
)
# What the user asks the assistant to do ("我希望你帮我订..."), not a liking (你推荐的那家店).
_ZH_REQUEST = re.compile(r"(?:你|您)(?:能|可以|帮|给|替|为|来|去|把|再|先|别|不要)")


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
    """The user's own words told of them: my -> their, I'm -> they're ("... when I fly" ->
    "... when they fly"); "I" only as a subject, before a word ("World War I" stays)."""

    def swap(found: re.Match[str]) -> str:
        word = found.group().lower().replace("\u2019", "'")
        return {
            **{"my": "their", "me": "them", "myself": "themselves", "mine": "theirs"},
            **{"i": "they", "i'm": "they're", "i've": "they've", "i'd": "they'd"},
            "i'll": "they'll",
        }[word]

    return re.sub(
        r"\b(?:my|me|myself|mine)\b|\bI(?:['\u2019](?:m|ve|d|ll))?\b(?=\s+[a-z])",
        swap,
        text,
        flags=re.IGNORECASE,
    )


# What no preference's object is: a pronoun or thanks alone ("I love it, thanks!").
_NOTHING = re.compile(r"(?:it|that|this|them|those|these|so|too|very much|a lot)?", re.IGNORECASE)
# Speech acts that take a liking's words: "I hate to bother you", "I'd like to thank you".
_POLITE = re.compile(
    r"you\b|to\s+(?:(?:bother|trouble|interrupt|thank|ask|remind|tell)\s+you|say|mention|"
    r"apologi[sz]e|point out|let you know|add (?:that|something|one more))\b",
    re.IGNORECASE,
)


_SENTENCE_END = re.compile(r"[.!?\n。！？]")
# What a question puts before its subject: "Would I like Kyoto?", "你觉得我喜欢什么颜色?".
_INVERTED = re.compile(
    r"(?:\b(?:would|do|does|did|should|will|can|could|am|have|may|might|shall|must|if|whether)|"
    r"你觉得|你猜|是不是|会不会)\W*$",
    re.IGNORECASE,
)
# A question word before it asks only in a question ("That's why I love Paris." states).
_WH = re.compile(r"\b(?:what|why|how|where|when|which|who)\W*$", re.IGNORECASE)
# Quoted or reported: a quotation opened, or a colon after a verb of saying ("My boss told me:
# I want ..."; "Important: I'm allergic to peanuts." is the user's own).
_QUOTED = re.compile(
    r"(?:[\"“「‘]|\b(?:said|says|say|told|tells|tell|asked|asks|wrote|writes)\b[^:：]{0,20}[:：]|"
    r"(?:说|告诉我|告诉他|问)[^:：]{0,6}[:：])\s*$",
    re.IGNORECASE,
)


def _asking(text: str, start: int) -> bool:
    """Whether the sentence ``start`` is in ends with a question mark."""
    end = _SENTENCE_END.search(text, start)
    return end is not None and end.group() in "?？"


def _told(text: str, start: int, question: bool, whole: bool) -> bool:
    """Whether the clause at ``start`` is the user's own statement: not asked ("Would I like
    Kyoto?"; a clause that runs to the question mark its sentence ends with, ``question`` and
    ``whole``), nor quoted or reported ("My boss told me: I want ..."). "I want to travel, can
    you help?" states a want before it asks, and "我喜欢爬山, 有什么推荐吗?" a liking."""
    before = _SENTENCE_END.split(text[:start])[-1].rstrip()
    if _INVERTED.search(before) or (question and _WH.search(before)) or _QUOTED.search(before):
        return False
    return not (whole and question)


def find_preferences(text: str) -> list[Preference]:
    """Explicit preferences stated in ``text`` (likes, dislikes, always/never, wants), EN and ZH:
    the user's own statements, not questions, requests to the assistant or reported speech."""
    return [*_english(text), *_chinese(text)]


def _english(text: str) -> list[Preference]:
    found: list[Preference] = []
    position = 0
    while match := _EN_PREFERENCE.search(text, position):
        # One preference per clause: "I want to travel, can you help?" states one, and "I like
        # tea and I work nights" one too; "I like hiking but I hate running" states two.
        said = _TRAILING_CLAUSE.split(match["rest"])[0]
        question = _asking(text, match.end("rest"))
        if question and "," in said:
            # The question after it is another clause ("I want to learn Spanish, is Duolingo
            # good?" states a want).
            said = said[: said.index(",")]
        position = match.start("rest") + max(len(said), 1)
        rest = said.strip(" ,;:")
        # The words it was read from, as said (before the verb is told of the user).
        sentence = text[match.start() : match.start("rest") + len(rest) + 1].strip(" ,;:")
        habit = (match["habit"] or "").lower()
        elided = _ELIDED.match(match["rest"], len(said))
        whole = len(said) == len(match["rest"])
        nothing = (not rest or _NOTHING.fullmatch(rest)) and habit not in ("always", "never")
        told = _told(text, match.start(), question, whole)
        if told and not _POLITE.match(rest) and not nothing:
            if habit:  # "I always book ..." is "The user always books ..."
                verb, rest = habit, _told_of_the_user(rest)
            else:
                verb = _agreeing(match["verb"])
            statement = f"The user {verb} {_first_person_en(rest)}".strip()
            found.append(Preference(text=statement + ".", sentence=sentence))
        if elided is not None:  # "... but hate milk": a liking of its own, the same subject
            found += _english(f"I {elided['rest']}")
    return found


def _agreeing(verb: str) -> str:
    """A liking's verb told of "the user": likes, doesn't (really) like, is a fan of."""
    verb = " ".join(verb.lower().split())
    for mine, theirs in (("don't ", "doesn't "), ("do not ", "does not ")):
        if verb.startswith(mine) and verb not in _EN_THIRD_PERSON:
            return theirs + verb[len(mine) :]
    return _EN_THIRD_PERSON.get(verb, verb)


def _chinese(text: str) -> list[Preference]:
    found: list[Preference] = []
    for match in _ZH_PREFERENCE.finditer(text):
        whole = text[match.end() : match.end() + 1] in ("?", "？")  # the clause runs to it
        if not _told(text, match.start(), _asking(text, match.start()), whole):
            continue
        when = (match["before"] or "") + (match["after"] or "")
        clauses = [(match["verb"], match["rest"], match.group())]
        for also in _ZH_ALSO.finditer(text, match.end()):
            if also.start() != match.end() + sum(len(c[2]) for c in clauses[1:]):
                break
            clauses.append((also["verb"], also["rest"], also.group()))
        for verb, said, sentence in clauses:
            rest = _ZH_TRAILING.split(said)[0].strip()
            if not rest or _ZH_REQUEST.match(rest) or _ZH_ASKS.search(rest):
                continue  # nothing liked, a request to the assistant, or a question
            told = f"用户{when}{verb}{re.sub('我(?!们)', '自己', rest)}。"
            found.append(Preference(text=told, sentence=sentence))
    return found
