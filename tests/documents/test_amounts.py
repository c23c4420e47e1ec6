"""Chinese amount words, numerals, dates and percentages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from assistant.documents.amounts import add_months, cn_number, date_zh, percent, rmb_upper


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "人民币零元整"),
        ("0.50", "人民币伍角"),
        ("0.05", "人民币伍分"),
        ("100000", "人民币壹拾万元整"),
        ("150000.00", "人民币壹拾伍万元整"),
        ("2952.40", "人民币贰仟玖佰伍拾贰元肆角"),
        ("1005.07", "人民币壹仟零伍元零柒分"),
        ("100500", "人民币壹拾万零伍佰元整"),
        ("80000.09", "人民币捌万元零玖分"),
        ("167787.18", "人民币壹拾陆万柒仟柒佰捌拾柒元壹角捌分"),
        ("10000000500", "人民币壹佰亿零伍佰元整"),
        ("123456789.12", "人民币壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
    ],
)
def test_rmb_upper(amount: str, words: str) -> None:
    assert rmb_upper(Decimal(amount)) == words


def test_rmb_upper_rejects_negative() -> None:
    with pytest.raises(ValueError):
        rmb_upper(Decimal("-1"))


def test_numbers_dates_percent() -> None:
    numerals = ["一", "十", "十一", "十四", "二十", "二十一", "九十九"]
    assert [cn_number(n) for n in (1, 10, 11, 14, 20, 21, 99)] == numerals
    assert date_zh(dt.date(2026, 3, 5)) == "2026年3月5日"
    assert percent(Decimal("0.045")) == "4.5%"
    assert percent(Decimal("0.01")) == "1%"
    assert percent(Decimal("0.5")) == "50%"
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 28), 2) == dt.date(2027, 1, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
