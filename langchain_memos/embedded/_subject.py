"""Whose a memory's words are: the user's, or someone else's the user speaks of.

"Where do I work?" asks about the user. "My sister lives in Boston and works as a nurse." holds
"work" (and "nurse", a word of the work group), but says it of the sister; "我妈妈住在杭州" holds
住在 of "我住在哪里", said of the user's mother. A question about the user (:func:`about_user`)
is answered only in part by a memory holding its words only where that memory speaks of someone
else (:func:`split_by_subject`), which ranks and relates less (see ``Scorer.attribution``).

A clause speaks of someone else when its subject is a third person: he, she, or "my", "your"
or "our" before a person word and then a verb, an adverb, a name or the clause's end ("my little
sister works", "your wife", not "my family doctor is"), and in Chinese 他, 她 or a person word,
after 我, 我的 or 我家 or alone (我妈妈, 老公). A clause with no subject of its own goes on with
the one before it in an English sentence ("... and works as a nurse"), and in Chinese only when
it begins with its predicate (在西湖区上班 after 我老婆是老师; not 这周一个人带娃 after 老婆出差了:
a dropped Chinese subject is the speaker as often as not). One whose subject is the user, the
one the user speaks to, or anything else ("my favourite food", "I", "they", "我和妈妈") is not
someone else's, and neither is one that names the user after its subject: the user as object or
partner ("My husband drives me to work", "我妈妈和我都喜欢吃辣"), in reported speech ("My mom
says I'm allergic to cats"), or an assistant's "you". The rule only marks what clearly is
another person's: a wrong guess costs a memory most of its rank, so a doubtful clause stays
the user's. Left wrong: someone else doing the user's business ("My boss wants the report by
Friday"), "he" or "she" for a pet when the question names none, and a name as the subject
("Anna works at the library"), which is not marked.
"""

from __future__ import annotations

import re

from langchain_memos.embedded._lexicon import proper_names
from langchain_memos.embedded._text import has_cjk

_PERSON_WORDS = [
    *("mom", "mum", "mother", "dad", "father", "parent", "sister", "brother", "sibling"),
    *("wife", "husband", "spouse", "partner", "boyfriend", "girlfriend", "fiance", "fiancee"),
    *("son", "daughter", "kid", "child", "children", "baby", "grandma", "grandmother"),
    *("grandpa", "grandfather", "grandparent", "aunt", "uncle", "cousin", "niece", "nephew"),
    *("friend", "boss", "manager", "colleague", "coworker", "roommate", "flatmate", "neighbor"),
    *("neighbour", "teacher", "classmate", "family"),
]
_PERSONS_EN = "|".join(_PERSON_WORDS)
_PERSONS_ZH = (
    "朋友(?!圈)|妈妈|爸爸|父亲|母亲|父母|爸妈|老婆|老公|妻子|丈夫|太太|爱人|媳妇|儿子|女儿|孩子|小孩|宝宝"
    "|哥哥|姐姐|弟弟|妹妹|爷爷|奶奶|外公|外婆|姥姥|姥爷|男朋友|女朋友|男友|女友|同事"
    "|老板|领导(?!力)|室友|邻居|同学|舅舅|叔叔|阿姨|姑姑|表哥|表姐|表弟|表妹|家人"
)
# What follows a person who is a clause's subject: a verb ("works", "moved", "went", "love"),
# an adverb, a name ("my friend Tom"), or the clause's end; not a noun the person word only
# describes ("my family doctor", "my baby shower", "my manager role").
_ACTS = (
    r"(?:[a-z]+(?:s|ed)|is|was|are|were|has|had|have|will|would|can|could|should|must|might"
    r"|does|did|do|went|got|made|said|told|came|took|gave|bought|left|met|found|thought|knew"
    r"|saw|ran|sent|won|lost|love|like|live|work|go|get|want|need|think|say|just|also|always"
    r"|never|still|really|usually|often|recently|finally|already|now|currently|sometimes)\b"
)
# The subject of a clause that speaks of someone else (not a possessive: "my mom's recipe").
_OTHER = re.compile(
    rf"(?:my|your|our) (?:[a-z]+ )?(?:{_PERSONS_EN})s?(?=$| {_ACTS}|(?-i: [A-Z]))"
    rf"|(?:he|she)\b"  # not "they": as often things ("They need watering every morning")
    rf"|(?:(?:我的?|我家的?|你的?)?(?:{_PERSONS_ZH})|我的?[妈爸哥姐弟妹])|[他她]",
    re.IGNORECASE,
)
# The user, named after a clause's subject ("My husband drives me to work", "My mom says I'm
# allergic to cats", "我妈妈和我都喜欢吃辣", an assistant's "Your friends are helping you move"):
# the clause is about the user too.
_USER = re.compile(
    r"\b(?:i|me|my|mine|myself|we|us|our|ours|i'[a-z]+|you|your|yours|yourself|you'[a-z]+)\b"
    r"|[我咱你您]",
    re.IGNORECASE,
)
# The subject of a clause that says nothing of anyone else.
_SUBJECT = re.compile(
    r"(?:i|i'[a-z]+|me|we|we'[a-z]+|you|you'[a-z]+|my|our|your|it|this|that|there)\b|[我咱你您]",
    re.IGNORECASE,
)
# Where a clause ends, in a text whose spaces are single: a sentence's end, a comma, or a
# conjunction.
_CONJUNCTION = "(?:and|but|while|whereas|because|so|though|although|since) "
_CLAUSE = re.compile(
    rf"[.!?;:,。！？；：，、]+ ?(?:{_CONJUNCTION})?| {_CONJUNCTION}|但是|可是|不过|而且",
    re.IGNORECASE,
)
# Where a clause's subject is not carried on: a sentence's end, and a Chinese clause's unless
# the next begins with its predicate (在西湖区上班 after 我老婆是老师); one that begins otherwise
# is the speaker's as often as not (这周一个人带娃 after 老婆出差了).
_SUBJECT_ENDS = re.compile(r"[.!?;。！？；]")
_CLAUSE_ZH = re.compile(r"[，、：]|但是|可是|不过|而且")
_PREDICATE_ZH = re.compile(r"[在是也还又都就已刚正会要去来当做住开教读学]")
# Longer memories are not read clause by clause: the reading costs ~0.4 ms a KB on every search
# about the user, and such a memory speaks of many things.
LONGEST = 2_000
_VIEWPOINT = re.compile(r"^\s*\[[^\]]*\]\s*")
# A question that names someone other than the user (or the user among others: "we"), a pet
# among them ("What is my dog allergic to?" is answered by "He's allergic to chicken").
_NAMES_OTHERS = re.compile(
    rf"\b(?:he|she|him|her|his|hers|they|them|their|theirs|we|us|our|ours|(?:{_PERSONS_EN})s?"
    rf"|(?:dog|cat|puppy|kitten|pet)s?)\b|[他她]|我们|咱们|{_PERSONS_ZH}|[猫狗]|宠物",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|myself|i'[a-z]+)\b|我", re.IGNORECASE)
# The words of a memory that may speak of someone else: only such a memory is read clause by
# clause (a set lookup a word is ~20 times faster than a regex over the text).
_OTHER_WORDS = frozenset(
    [
        *(p + end for p in ("he", "she") for end in ("", "s", "d", "ll")),
        *_PERSON_WORDS,
        *(word + "s" for word in _PERSON_WORDS),
    ]
)  # "he's" is indexed "hes"
_OTHER_ZH = re.compile(rf"[他她]|{_PERSONS_ZH}|[我的][妈爸哥姐弟妹]")


def about_user(question: str) -> bool:
    """Whether a question asks about the user alone: it says "I", "me", "my" or 我, and names
    nobody else (no person word, pet, third person, "we" or name)."""
    return (
        bool(_FIRST_PERSON.search(question))
        and not _NAMES_OTHERS.search(question)
        and not proper_names(question)
    )


def may_speak_of_others(indexed: str) -> bool:
    """Whether a memory's indexed words (lowercase, Chinese as bigrams and characters) may
    name someone else: a cheap test before :func:`split_by_subject`, never false for a memory in
    which :func:`split_by_subject` finds a clause about someone else."""
    return not _OTHER_WORDS.isdisjoint(indexed.split()) or (
        has_cjk(indexed) and bool(_OTHER_ZH.search(indexed))
    )


def split_by_subject(text: str) -> tuple[str, str]:
    """A memory's text split in two: what it says of the user or of nobody in particular, and
    what it says of someone else (each its clauses joined by spaces)."""
    mine: list[str] = []
    theirs: list[str] = []
    other = False  # whether the clause's subject, said or carried on, is someone else
    start = 0
    text = " ".join(_VIEWPOINT.sub("", text).split())  # no run of spaces to backtrack over
    for end in [*_CLAUSE.finditer(text), None]:
        clause = text[start : end.start() if end else len(text)].strip()
        subject = _OTHER.match(clause)
        if subject:
            other = True
        elif _SUBJECT.match(clause):
            other = False
        rest = clause[subject.end() :] if subject else clause
        (theirs if other and not _USER.search(rest) else mine).append(clause)
        if end is None:
            break
        start = end.end()
        if _SUBJECT_ENDS.search(end.group()) or (
            _CLAUSE_ZH.search(end.group()) and not _PREDICATE_ZH.match(text, start)
        ):
            other = False  # someone else's only if the next clause says so
    return " ".join(mine), " ".join(theirs)
