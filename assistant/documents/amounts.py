"""Formatting for Chinese legal documents: amounts in capitals (大写金额), numerals, dates, percentages.

Pure text functions. They format numbers that the money core computed; they never compute money.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from assistant.domain.money import fen

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿", "万亿")
_NUMERALS = "零一二三四五六七八九"


def _group_upper(group: int) -> str:
    """A 0–9999 group in capitals, zeros inside collapsed: 1005 -> 壹仟零伍."""
    out: list[str] = []
    zero_pending = False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("零")
            zero_pending = False
        out.append(_DIGITS[digit] + _SMALL_UNITS[position])
    return "".join(out)


def rmb_upper(amount: Decimal) -> str:
    """An amount in yuan as written on Chinese contracts and cheques.

    100000 -> 人民币壹拾万元整; 2952.40 -> 人民币贰仟玖佰伍拾贰元肆角; 1005.07 -> 人民币壹仟零伍元零柒分.
    """
    value = fen(amount)
    if value < 0:
        raise ValueError("amount must not be negative")
    cents = int(value * 100)
    yuan, jiao, fen_digit = cents // 100, cents // 10 % 10, cents % 10
    if yuan >= 10**16:
        raise ValueError("amount too large")
    groups: list[int] = []
    rest = yuan
    while rest:
        groups.append(rest % 10_000)
        rest //= 10_000
    parts: list[str] = []
    zero_pending = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_pending = bool(parts)
            continue
        # A group below 1000 after a higher group needs a 零 (壹万零伍佰), as does a skipped group.
        if parts and (zero_pending or group < 1000):
            parts.append("零")
        zero_pending = False
        parts.append(_group_upper(group) + _GROUP_UNITS[index])
    text = "".join(parts)
    if not text and not (jiao or fen_digit):
        return "人民币零元整"
    out = "人民币" + (text + "元" if text else "")
    if not jiao and not fen_digit:
        return out + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif text:
        out += "零"
    if fen_digit:
        out += _DIGITS[fen_digit] + "分"
    return out


def cn_number(n: int) -> str:
    """1..99 as Chinese numerals for article numbering: 1 -> 一, 10 -> 十, 13 -> 十三, 21 -> 二十一."""
    if not 1 <= n <= 99:
        raise ValueError("article numbers run from 1 to 99")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _NUMERALS[ones]
    head = "" if tens == 1 else _NUMERALS[tens]
    return head + "十" + (_NUMERALS[ones] if ones else "")


def date_zh(day: dt.date) -> str:
    """2026-11-05 -> 2026年11月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


def date_en(day: dt.date) -> str:
    """2026-11-05 -> 5 November 2026."""
    return f"{day.day} {day.strftime('%B')} {day.year}"


def percent(rate: Decimal, max_places: int = 4) -> str:
    """A fraction as a short percentage: 0.01 -> 1%, 0.015 -> 1.5%, 0.5 -> 50%."""
    value = (rate * 100).quantize(Decimal(1).scaleb(-max_places), rounding=ROUND_HALF_UP).normalize()
    text = format(value, "f")
    return f"{text}%"


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (Jan 31 + 1 -> Feb 28/29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError("unreachable")  # pragma: no cover
