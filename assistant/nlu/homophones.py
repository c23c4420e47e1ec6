"""Homophone-tolerant matching for cue words.

Customers type with a pinyin input method, so typos are homophones of the intended word:
首负 / 首附 for 首付, 代款 for 贷款, 月共 for 月供, 利律 for 利率, 分欺 for 分期. Instead of listing
typos, a multi-character cue word is compiled into a pattern whose every character accepts any
common character (GB2312 level 1) whose main toneless reading is the same. Single characters
are never expanded (贷 would match 大 and 带 everywhere).

The pinyin readings come from ``pypinyin``'s single-character table; without it, cues match
exactly.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from functools import lru_cache


def _toneless(reading: str) -> str:
    decomposed = unicodedata.normalize("NFD", reading)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ü", "v")


def _is_common(ch: str) -> bool:
    """GB2312 level-1 characters (the 3,755 most common): the ones an input method offers first."""
    try:
        raw = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(raw) == 2 and 0xB0 <= raw[0] <= 0xD7


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(char → its main toneless reading, reading → common chars whose main reading it is)."""
    try:
        from pypinyin.pinyin_dict import pinyin_dict
    except ImportError:  # matching degrades to exact
        return {}, {}
    readings: dict[str, frozenset[str]] = {}
    by_sound: dict[str, set[str]] = defaultdict(set)
    for code, value in pinyin_dict.items():
        if not 0x4E00 <= code <= 0x9FFF:
            continue
        ch = chr(code)
        # only the first (most common) reading: rare readings of polyphones (价 jie, 大 dai) would
        # make 车借 look like 车价 and 大款 like 贷款
        sound = _toneless(value.split(",")[0])
        readings[ch] = frozenset({sound})
        if _is_common(ch):
            by_sound[sound].add(ch)
    return readings, {k: frozenset(v) for k, v in by_sound.items()}


@lru_cache(maxsize=4096)
def char_class(ch: str) -> str:
    """A regex character class of ``ch`` and its common homophones."""
    readings, by_sound = _tables()
    same = {ch}
    for sound in readings.get(ch, ()):
        same |= by_sound.get(sound, frozenset())
    return "[" + "".join(sorted(re.escape(c) for c in same)) + "]"


def _is_han(word: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" for c in word)


def word_pattern(word: str, *, fuzzy: bool = True) -> str:
    """The regex for one cue word: homophone classes for multi-character Chinese words."""
    if fuzzy and len(word) >= 2 and _is_han(word):
        return "".join(char_class(c) for c in word)
    return re.escape(word)


def cue_regex(words: tuple[str, ...], *, fuzzy: bool = True) -> re.Pattern[str]:
    """One alternation over ``words`` (longest first); Latin words get word boundaries."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        pattern = word_pattern(word, fuzzy=fuzzy)
        if re.match(r"[a-z]", word):
            pattern = rf"(?<![a-z]){pattern}"
        if re.search(r"[a-z]$", word):
            pattern = rf"{pattern}(?![a-z])"
        parts.append(pattern)
    return re.compile("|".join(parts))
