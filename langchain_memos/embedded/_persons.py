"""Whom a question and a memory are about: the user, or someone the user speaks of.

"Where do I work?" asks about the user; "My sister Emma works as a nurse." tells of someone else,
though it holds the question's words. Both are read from the words for people (the lexicon's
people groups and pets, and relatives and people around the user that are no synonyms of one
another): a question is about the user when it speaks in the first person and names no one else;
a memory is about someone else when it starts with such a person ("My sister ...", "我老婆 ...",
"男朋友 ...") and the user is not in it otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from langchain_memos.embedded._lexicon import OTHERS, Slot, groups

_AROUND = (
    *("sister", "sisters", "brother", "brothers", "sibling", "siblings", "partner", "boss"),
    *("colleague", "colleagues", "coworker", "coworkers", "co-worker", "co-workers"),
    *("neighbour", "neighbours", "neighbor", "neighbors", "roommate", "roommates", "flatmate"),
    *("姐姐", "妹妹", "哥哥", "弟弟", "兄弟", "姐妹", "同事", "老板", "领导", "邻居"),
    *("室友", "舍友", "妈", "爸", "老妈", "老爸"),
)
_FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|myself)\b|我(?!们)", re.IGNORECASE)
# The user in a statement, as its subject or object, alone or with others.
_USER = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|myself|we|us)\b|我", re.IGNORECASE)


@lru_cache(maxsize=1)
def _people() -> tuple[str, str]:
    """The words for people: English and Chinese, each an alternation (longest first)."""
    words = {*(word for name in OTHERS for word in groups()[name]), *_AROUND}
    english = sorted((w for w in words if w.isascii()), key=len, reverse=True)
    chinese = sorted((w for w in words if not w.isascii()), key=len, reverse=True)
    return "|".join(map(re.escape, english)), "|".join(chinese)


@lru_cache(maxsize=1)
def _someone() -> re.Pattern[str]:
    english, chinese = _people()
    return re.compile(rf"\b(?:{english})\b|{chinese}", re.IGNORECASE)


@lru_cache(maxsize=1)
def _starts_with_someone() -> re.Pattern[str]:
    english, chinese = _people()
    return re.compile(
        rf"\s*(?:(?:my|our)\s+(?:[\w-]+\s+)?(?:{english})\b|(?:我们?的?)?(?:{chinese}))",
        re.IGNORECASE,
    )


@lru_cache(maxsize=1)
def _openings() -> frozenset[str]:
    """The characters a statement about someone else can start with."""
    chinese = _people()[1].split("|")
    return frozenset(("m", "M", "o", "O", "我", *(word[0] for word in chinese)))


def about_the_user(question: str, slots: Sequence[Slot]) -> bool:
    """Whether a question (with its ``slots``) asks about the user alone: in the first person,
    naming no one else ("Where do I work?", 我住在哪; not "Where does my sister work?", nor
    "What did I give Tim?": a name is a slot's)."""
    if any(slot.name_of for slot in slots) or not _FIRST_PERSON.search(question):
        return False
    return not _someone().search(question)


def about_someone_else(text: str) -> bool:
    """Whether a statement tells of someone else, not the user: it starts with a person the
    user speaks of, and the user is not in it otherwise ("My sister works as a nurse.",
    "我老婆吃素。"; not "My wife and I moved to Porto.", "我和老婆搬到了杭州。")."""
    if text.lstrip()[:1] not in _openings():
        return False  # most do not start like one: a search tests ~125
    start = _starts_with_someone().match(text)
    return start is not None and not _USER.search(text, start.end())
