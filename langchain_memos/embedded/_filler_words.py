"""The words of a turn with no content of its own (see _turns.py): answers that say nothing
without their question ("Yes.", "好的"), reactions ("Cute!", "谢谢"), thanks among them, and the
pleasantries that close a turn, in English, Chinese and the thanks of a few other languages."""

from __future__ import annotations

import re

# Words that acknowledge or react without saying anything (English). Those in ANSWERS can answer
# a question ("Yes.", "Sounds good."); the others never do ("Thanks!", "Cute!").
ANSWERS = frozenset(
    [
        "ok",
        "okay",
        "yes",
        "yeah",
        "yep",
        "yup",
        "sure",
        "no",
        "nope",
        "fine",
        "right",
        "alright",
        "agreed",
        "exactly",
        "absolutely",
        "definitely",
        "certainly",
        "course",
        "deal",
        "done",
        "good",
        "great",
        "perfect",
        "sounds",
        "okie",
        "okey",
        "dokie",
        "alrighty",
        "kk",
        # The same in other languages a user may thank or agree in.
        "daccord",
        "vale",
        "claro",
        "хорошо",
        "ладно",
    ]
)
REACTIONS = frozenset(
    [
        "thanks",
        "thank",
        "thx",
        "ty",
        "cute",
        "cool",
        "nice",
        "awesome",
        "wow",
        "amazing",
        "haha",
        "hahaha",
        "lol",
        "hmm",
        "oh",
        "ah",
        "uh",
        "um",
        "hi",
        "hello",
        "hey",
        "bye",
        "goodbye",
        "cheers",
        "welcome",
        "wonderful",
        "fantastic",
        "lovely",
        "sweet",
        "really",
        "totally",
        "indeed",
        "understood",
        "noted",
        "gotcha",
        "interesting",
        "fun",
        "glad",
        "happy",
        "sorry",
        "pleasure",
        "please",
        "well",
        "congrats",
        "congratulations",
        "yay",
        "woo",
        "omg",
        "much",
        "lot",
        "got",
        "see",
        "true",
        "appreciate",
        "appreciated",
        "grateful",
        "helpful",
        "useful",
        "informative",
        "brilliant",
        "excellent",
        "super",
        "best",
        "worries",
        "hilarious",
        "lmao",
        "rofl",
        "bunch",
        "tons",
        "makes",
        "sense",
        "youve",  # "you've been super helpful" (not "ive": "I've been there" answers)
        # Thanks in other languages, so that no thanks is remembered as a fact in any of them.
        "merci",
        "beaucoup",
        "gracias",
        "muchas",
        "danke",
        "schön",
        "schoen",
        "vielen",
        "dank",
        "obrigado",
        "obrigada",
        "grazie",
        "mille",
        "tack",
        "bedankt",
        "dankjewel",
        "ありがとう",
        "ありがとうございます",
        "どうも",
        "감사합니다",
        "고맙습니다",
        "고마워요",
        "고마워",
        "спасибо",
        "большое",
    ]
)
# Phrases that close or soften a turn without content, removed before looking at what is left.
PLEASANTRIES = re.compile(
    r"\b(?:(?:please\s+)?feel free to (?:ask|reach out|let me know|contact)\w*(?: me| us)?|"
    r"let me know if[^.!?]*|if you (?:have|need) (?:any|anything)[^.!?]*|"
    r"(?:any|anything) (?:other|more|else) (?:questions?|help)|"
    r"have a (?:nice|good|great|lovely|wonderful) (?:day|one|trip|time|evening|weekend)|"
    r"you(?:'re| are) welcome|no problem|my pleasure|glad (?:i could|to) help|"
    r"talk (?:to you )?(?:soon|later)|see you(?: soon| later)?|good (?:night|morning|luck)|"
    r"like a plan|(?:(?:that's|that is) )?(?:good|great|nice) to (?:know|hear)|no worries|"
    r"makes sense|"
    # A memory assistant's acknowledgement of being told something.
    r"i(?:'ll| will) (?:remember|note)(?: (?:that|this|it))?|"
    r"i(?:'ll| will) keep (?:that|this|it) in mind|"
    r"(?:i've |i have |i'll |i will )?(?:made|make) a note(?: of (?:that|this|it))?)\b",
    re.IGNORECASE,
)
ZH_ANSWERS = [
    "好的",
    "好吧",
    "好",
    "是的",
    "是",
    "对的",
    "对",
    "没错",
    "可以",
    "行",
    "没问题",
    "当然",
    "明白了",
    "明白",
    "知道了",
    "收到",
    "同意",
    "就这样",
    "嗯嗯",
    "好嘞",
    "好滴",
    "了解了",
    "了解",
    "懂了",
    "懂",
]
ZH_REACTIONS = [
    "谢谢你",
    "谢谢",
    "多谢",
    "感谢",
    "谢啦",
    "谢了",
    "辛苦啦",
    "麻烦你了",
    "麻烦您了",
    "不客气",
    "不用谢",
    "哈哈哈",
    "哈哈",
    "呵呵",
    "嘿嘿",
    "你好",
    "您好",
    "再见",
    "拜拜",
    "晚安",
    "早安",
    "好可爱",
    "真可爱",
    "可爱",
    "太棒了",
    "真棒",
    "太好了",
    "棒",
    "厉害",
    "不错",
    "真不错",
    "加油",
    "辛苦了",
    "随时问我",
    "随时找我",
    "嗯",
    "哦",
    "噢",
    "哇",
    "啊",
    "呀",
    "呢",
    "吧",
    "啦",
    "了",
    "的",
    "你",
    "我",
    "真",
    "太",
    "很",
]
# Thanks (a kind of reaction): a bare reply holding one acknowledges what was said, unless it
# answers a question outright ("Yes, thanks!" to "Would you like the window seat?").
THANKS = frozenset(
    [
        *("thanks", "thank", "thx", "ty", "appreciate", "appreciated", "grateful", "helpful"),
        *("merci", "gracias", "danke", "dank", "obrigado", "obrigada", "grazie", "tack"),
        *("bedankt", "dankjewel", "ありがとう", "ありがとうございます", "どうも", "감사합니다"),
        *("고맙습니다", "고마워요", "고마워", "спасибо"),
    ]
)
ZH_THANKS = frozenset(["谢谢你", "谢谢", "多谢", "感谢", "谢啦", "谢了", "辛苦了", "辛苦啦"])
ZH_PLEASANTRIES = re.compile(
    r"(?:如果)?(?:还)?有(?:其他|任何|别的)?(?:问题|需要)[^，。！？,.!?]{0,6}"
    r"(?:问我|找我|告诉我|联系我)|祝你[^，。！？,.!?]{0,8}(?:愉快|开心|顺利)|很高兴(?:为您服务|帮到你)|"
    # A memory assistant's acknowledgement of being told something: 记住了, 我会记住的, 已记录.
    r"我?(?:已经|已|会|都)?(?:帮你|给你)?(?:记住|记下|记录|记好)(?:下来了|下来|来了|了|啦|好了)?的?"
)
ZH_WORDS = sorted(ZH_ANSWERS + ZH_REACTIONS, key=len, reverse=True)
