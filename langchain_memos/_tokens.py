"""A no-dependency token estimate, shared by message batching and prompt budgets, and the code
points of Chinese characters, shared by the prompts' language and the engine's text."""

from __future__ import annotations

# The code points of Chinese characters, for character classes.
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


def approximate_tokens(text: str) -> int:
    """About how many tokens ``text`` is: a CJK character counts one, other text four chars one.

    Errs on the high side for English (real tokenizers average ~4.5 characters), which is the
    safe side for budgets and request limits.
    """
    wide = sum(1 for char in text if ord(char) > 0x2E80)
    return wide + (len(text) - wide + 3) // 4
