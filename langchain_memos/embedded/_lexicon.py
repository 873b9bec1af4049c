"""Words that mean the same thing to a memory search, in English and Chinese, and the people a
personal request is implicitly about.

Lexical search only finds the words a memory shares with the query, and short questions rarely
use the words the user did: "国庆去哪玩" for "暑假想出去旅游", "your wife" for "我老婆". Each group
below is one everyday notion (travel, lodging, children, spouse, diet, work ...), written once
for both languages; a query word in a group matches any word of it. The groups are deliberately
small and general: they name things people tell an assistant about themselves, not any data set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from langchain_memos._tokens import CJK
from langchain_memos.embedded._text import (
    MONTHS,
    STOPWORDS,
    phrase,
    query_terms,
    terms,
    without_idioms,
)

_GROUPS: tuple[tuple[str, ...], ...] = (
    # travel and lodging
    ("travel", "trip", "vacation", "holiday", "journey", "tour", "getaway",
     "旅游", "旅行", "出游", "出行", "度假", "游玩", "出去玩", "玩"),
    ("hotel", "inn", "motel", "hostel", "accommodation", "lodging",
     "酒店", "宾馆", "旅馆", "住宿", "民宿"),
    ("national day", "国庆", "国庆节", "十一"),
    ("labor day", "labour day", "may day", "五一", "劳动节"),
    ("spring festival", "chinese new year", "春节", "过年"),
    ("summer vacation", "summer holiday", "summer break", "暑假"),
    ("winter vacation", "winter break", "寒假"),
    # people
    ("kid", "kids", "child", "children", "son", "daughter", "孩子", "小孩", "娃", "儿子", "女儿",
     "宝宝", "老大", "老二"),
    ("parents", "elderly", "mom", "mum", "dad", "mother", "father", "grandparents", "grandma",
     "grandpa", "老人", "长辈", "父母", "爸妈", "爸爸", "妈妈", "爷爷", "奶奶", "外公", "外婆"),
    ("wife", "husband", "spouse", "老婆", "老公", "妻子", "丈夫", "太太", "爱人", "媳妇"),
    ("boyfriend", "girlfriend", "男朋友", "女朋友", "男友", "女友", "对象"),
    ("friend", "friends", "朋友"),
    ("family", "家人", "全家", "一家人", "家里人"),
    ("pet", "pets", "cat", "dog", "puppy", "kitten", "宠物", "猫", "狗", "猫咪", "狗狗"),
    # food
    ("food", "eat", "meal", "dish", "cuisine", "饮食", "吃", "饭", "菜", "美食"),
    ("allergic", "allergy", "vegetarian", "vegan",
     "忌口", "过敏", "不吃", "不能吃", "吃素", "素食"),
    ("drink", "drinks", "beverage", "tea", "coffee", "juice", "wine", "beer",
     "喝", "饮料", "饮品", "茶", "咖啡", "果汁", "啤酒", "红酒"),
    ("spicy", "辣", "麻辣", "川菜", "湘菜"),
    ("breakfast", "早餐", "早饭", "早点"),
    ("lunch", "午饭", "午餐", "中饭"),
    ("dinner", "supper", "晚饭", "晚餐"),
    ("diet", "dieting", "节食", "减肥", "减脂", "瘦身"),
    ("like", "love", "prefer", "favorite", "favourite",
     "喜欢", "爱", "最爱", "爱吃", "偏好", "更喜欢"),
    # work and study
    ("job", "work", "career", "occupation", "profession", "employer", "company",
     "teacher", "doctor", "nurse", "engineer", "programmer", "developer", "manager", "accountant",
     "lawyer", "designer",
     "工作", "上班", "职业", "单位", "岗位", "公司",
     "老师", "教师", "医生", "护士", "工程师", "程序员", "经理", "会计", "律师", "设计师"),
    ("commute", "commuting", "通勤", "上班路上"),
    ("busy", "overtime", "忙", "加班"),
    ("business trip", "出差"),
    ("school", "学校", "上学", "小学", "幼儿园", "年级"),
    ("learn", "learning", "study", "studying", "学", "学习", "自学"),
    # life. Where one lives, and moving there: "move" and 搬到 alone are as often a meeting
    # moved, 住 part of 记住, 住院 and 住宿. Search pairs "live" with "lives" and "living", and
    # "moved to" with "move to": a plan to move ("after I move to a bigger place") is found too.
    ("live", "reside", "relocate", "moved to", "moved into", "居住", "定居", "搬家"),
    ("wedding", "marry", "married", "marriage", "结婚", "婚礼"),
    ("cold", "freezing", "冷", "冻", "寒冷"),
)  # fmt: skip

_PEOPLE = ("kid", "parents", "wife", "boyfriend", "friend", "family")
_REQUEST = re.compile(
    r"\b(?:recommend|suggest|plan|planning|ideas?|advice|where should|what should|help me)\w*\b|"
    r"推荐|建议|计划|安排|打算|去哪|怎么玩",
    re.IGNORECASE,
)
_CJK = re.compile(rf"[{CJK}]")
_LATIN_WORD = re.compile(r"[a-z]+(?:\s+[a-z]+)*")
# What ends a sentence, a line, or a clause after a dash ("thanks - Remind me ..."); Spanish opens
# a question or an exclamation with its own mark ("Perdona, ¿Dónde ...").
_SENTENCE = re.compile(r"[.!?;:\"“”()¿¡]+\s*|\s*\n\s*|\s[-–—]+\s")
_CAPITALISED = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# A full stop after a title or an initial ends no sentence: a name goes on after it.
_ABBREVIATED = re.compile(r"(?<![\w.])([^\W\d_]+)\.(?=\s)")
# "e.g.", "i.e.", "cf." bring examples up to the clause's end: what the question could be about,
# not whom it is about ("Which cities do I like, e.g. Lyon?").
_EXAMPLES = re.compile(r"\b(?:e\.g|i\.e|cf)\b\.?.*?(?=[,;:!?()\n]|\.\s|\.?$)", re.IGNORECASE)
# Titles, and the forms of address some languages capitalise ("Anda", "Ud."): no name, nor its
# end ("Dr. Smith", "Mr Lee": the name is "Smith", "Lee").
_TITLES = frozenset(
    (
        *("mr", "mrs", "ms", "mx", "dr", "prof", "st", "mt", "sr", "sra", "srta", "dra"),
        *("rev", "fr", "capt", "col", "gen", "lt", "sgt", "gov", "sen", "rep", "pres", "hon"),
        *("mme", "mlle", "dhr", "mevr", "pak", "bu", "bapak", "ibu", "bpk"),
        *("anda", "usted", "ustedes", "ud", "uds", "vd", "vds", "vous"),
    )
)
# Lowercase words inside a name: "Vincent van Gogh", "University of Chicago".
_PARTICLES = frozenset(("van", "von", "der", "den", "de", "da", "di", "del", "du", "of", "the"))
# The words title case leaves in lowercase: "Where Is the Eiffel Tower?".
_MINOR = _PARTICLES | {
    *("a", "an", "and", "or", "but", "nor", "for", "in", "on", "at", "to", "by", "with"),
    *("from", "into", "as", "per", "via", "vs", "up", "off", "out", "over"),
}
# Words common in German, which writes every noun with a capital, and rare in English: a text
# holding one tells no name by its capitals (taken for English, each noun would be a name).
_GERMAN = frozenset(
    (
        *("ich", "und", "nicht", "ist", "über", "für", "mit", "der", "das", "ein", "eine"),
        *("mein", "meine", "mir", "mich", "auf", "zu", "wie", "wo", "wann", "wer", "welche"),
        *("sind", "habe"),
    )
)
# Months and weekdays: in English, in Indonesian (which capitalises them too), and in French,
# Spanish and Dutch (which do not, but users often do).
_DATE_NAMES = frozenset(
    (
        *MONTHS,
        *(f"{day}day" for day in ("mon", "tues", "wednes", "thurs", "fri", "satur", "sun")),
        *("januari", "februari", "maret", "mei", "juni", "juli", "agustus", "oktober"),
        *("desember", "senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu"),
        *("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche", "janvier"),
        *("février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre"),
        *("octobre", "novembre", "décembre", "lunes", "martes", "miércoles", "jueves"),
        *("viernes", "sábado", "domingo", "enero", "febrero", "marzo", "abril", "mayo"),
        *("junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"),
        *("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
        *("maart", "augustus"),
    )
)


def _groups() -> dict[str, tuple[str, ...]]:
    return {group[0]: group for group in _GROUPS}


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """English word -> its groups; Chinese words (longest first) with their group."""
    english: dict[str, set[str]] = {}
    chinese: list[tuple[str, str]] = []
    for name, group in _groups().items():
        for word in group:
            if _CJK.search(word):
                chinese.append((word, name))
            else:
                english.setdefault(word, set()).add(name)
    chinese.sort(key=lambda pair: len(pair[0]), reverse=True)
    return english, chinese


def groups_in(text: str) -> dict[str, str]:
    """The groups a text names: group -> the first word of it found there."""
    english, chinese = _index()
    lowered = without_idioms(text.lower())
    found: dict[str, str] = {}
    words = re.findall(r"[a-z]+", lowered)
    for size in (2, 3, 1):  # multi-word names first ("national day" before "day")
        for i in range(len(words) - size + 1):
            phrase = " ".join(words[i : i + size])
            for form in _forms(phrase):
                for name in english.get(form, ()):
                    found.setdefault(name, form)
    if not _CJK.search(lowered):
        return found  # every Chinese word of the lexicon holds a Chinese character
    for word, name in chinese:
        if word in lowered:
            found.setdefault(name, word)
    return found


def _forms(word: str) -> list[str]:
    """A word and the bare forms it may be inflected from ("traveling" -> "travel", "living" ->
    "live")."""
    forms = [word]
    for suffix in ("s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms.append(word[: -len(suffix)])
            if suffix != "s":
                forms.append(word[: -len(suffix)] + "e")
    return forms


@dataclass(frozen=True)
class Slot:
    """One thing a query asks about: the terms that say it (a word, or every word of its group
    in the lexicon, each as a phrase of index terms), what it weighs against a word, and
    whether the query only implies it (the people a request for advice is about)."""

    name: str
    alternatives: tuple[str, ...]
    weight: float = 1.0
    implied: bool = False
    # For a word of a name (capitalised inside a sentence: "Tim", "LeBron James"), the terms of
    # the whole name.
    name_of: tuple[str, ...] = ()


# What a single Chinese character that is no word of the lexicon weighs against a word: it is
# often part of one ("住" of "住宿"), as often a coincidence.
CHARACTER_WEIGHT = 0.5
PEOPLE = "~people"


def query_slots(text: str) -> list[Slot]:
    """What a query asks about: each group of the lexicon it names (matched by any of its
    words), each other content term, and for a request for advice, the people it is for."""
    named = groups_in(text)
    slots = [Slot(name, _phrases(_groups()[name])) for name in named]
    merged = {form for name in named for form in _groups()[name]}
    # The bigrams and characters of a group's word found in the query are said by its slot, and
    # so are the words of a group's phrase ("summer vacation", "moved to").
    merged.update(t for word in named.values() for t in terms(word))
    names = proper_names(text)
    for term in query_terms(text):
        if not merged.intersection(_forms(term)):
            single = len(term) == 1 and bool(_CJK.match(term))
            weight = CHARACTER_WEIGHT if single else 1.0
            slots.append(Slot(term, (term,), weight, name_of=names.get(term, ())))
    people = [name for name in _PEOPLE if name not in named]
    if asks_advice(text) and len(people) == len(_PEOPLE):
        words = [word for name in people for word in _groups()[name]]
        slots.append(Slot(PEOPLE, _phrases(words), implied=True))
    return slots


@lru_cache(maxsize=256)  # a search asks twice: for its slots, and whether it is about the user
def proper_names(text: str) -> Mapping[str, tuple[str, ...]]:
    """The names a text writes with capitals other than to start a sentence (people, places,
    titles: "What does John like about LeBron James?"): each of their terms, with the terms of
    the whole name (``john``: ``(john,)``, ``james``: ``(lebron, james)``). Months and weekdays
    are dates, not names (and a memory's date is indexed in words). A sentence's first word is
    no name of its own, but it is part of the whole name that goes on after it ("LeBron James
    points": ``james``: ``(lebron, james)``), and so are the lowercase particles inside one
    ("Vincent van Gogh"); a title is neither ("Ms. Lee, Dr. Kim": ``kim``: ``(kim,)``). Acronyms
    and words in capitals ("TV", "USA", "REALLY") are no names: they often stand for words a
    memory wrote out ("America"), or stress a word. A text in capitals or in title case, German
    text, and text written partly in Chinese (where a Latin word is often a name the user also
    writes in Chinese: "Google", "谷歌") tell no name by their capitals."""
    if _CJK.search(text):
        return {}
    text = _ABBREVIATED.sub(_unstopped, text)
    sentences = [c for s in _SENTENCE.split(_EXAMPLES.sub(".", text)) for c in _clauses(s)]
    if _capitals_name_nobody(sentences):
        return {}
    names: dict[str, tuple[str, ...]] = {}
    for sentence in sentences:
        name: list[str] = []  # its words capitalised inside the sentence
        whole: list[str] = []  # and the sentence's first word, the particles ("van", "of")
        for i, word in enumerate([*sentence, ""]):
            if len(word) == 1 and word != "I":
                continue  # an initial ("George W. Bush"), or Dutch "U": no name, nor its end
            found = [t for t in terms(word) if t not in _DATE_NAMES]
            title = word.lower() in _TITLES  # "Mr", "Anda": no name, and the next may be one
            if _capitalised(word) and found and not title:
                # An acronym is no name, but it may be part of one ("NBA Finals").
                name += found if i and not word.isupper() else []
                whole += found
                continue
            if whole and word in _PARTICLES:
                whole += found
                continue
            names.update((term, tuple(whole)) for term in name)
            name, whole = [], []
    return names


def _clauses(sentence: str) -> list[list[str]]:
    """The words of a sentence's clauses: a comma starts one as a full stop starts a sentence
    (chat often capitalises after it: "ok, Remind me ..."). Capitals alone before the first
    comma or after the last are whom the user speaks to, or a tag ("Hey Memo, ...", "..., Doc?"):
    they name nobody the question is about. Between two commas they are a name, and go on the
    sentence ("John's colleague, Rob, ...")."""
    parts = [_CAPITALISED.findall(part) for part in sentence.split(",")]
    clauses: list[list[str]] = []
    for n, words in enumerate(parts):
        capitals = len(parts) > 1 and all(_capitalised(word) for word in words)
        if not capitals:
            clauses.append(words)
        elif 0 < n < len(parts) - 1:
            clauses.append(["", *words])  # inside the sentence: no first word
    return clauses


def _unstopped(match: re.Match[str]) -> str:
    """An abbreviation's full stop, unless it ends a sentence: after a title ("Dr. Smith"), or
    an initial ("J. K. Rowling"), a name goes on."""
    word = match.group(1)
    initial = len(word) == 1 and word.isupper() and word != "I"
    return word if initial or word.lower() in _TITLES else match.group()


def _capitalised(word: str) -> bool:
    """Whether a word is capitalised, and not the user ("I", "I'm")."""
    return word[:1].isupper() and word.split("'")[0] != "I"


def _capitals_name_nobody(sentences: list[list[str]]) -> bool:
    """Whether a text capitalises its words regardless of names: it writes none in lowercase
    (three words or more: "WHAT DID I SAY", "What Did I Say"), or only the short words title
    case leaves so and a function word capitalised inside a sentence ("Where Is the Eiffel
    Tower?"), or it is German."""
    cased = [w for words in sentences for w in words if w[:1].isupper() or w[:1].islower()]
    lower = {w for w in cased if w[:1].islower()}
    if not _GERMAN.isdisjoint(w.lower() for w in cased):
        return True
    if len(cased) < 3 or not lower.issubset(_MINOR):
        return False
    inside = (w for words in sentences for w in words[1:] if _capitalised(w))
    return not lower or any(w.lower() in STOPWORDS for w in inside)


def asks_advice(text: str) -> bool:
    """Whether a query asks for a recommendation, a suggestion or a plan."""
    return bool(_REQUEST.search(text))


def said(text: str) -> set[str]:
    """The terms a query uses itself: its content terms, and the lexicon words it names (as
    phrases), as opposed to the synonyms its slots add."""
    return {phrase(word) for word in groups_in(text).values()} | set(query_terms(text))


def _phrases(words: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(phrase(word) for word in words))
