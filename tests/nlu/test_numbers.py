"""The Chinese-first normaliser: money, ratios, rates, durations."""

from __future__ import annotations

from decimal import Decimal

import pytest

from assistant.nlu.numbers import (
    cn2an_number,
    find_quantities,
    fold_case,
    normalize,
    parse_days,
    parse_money,
    parse_months,
    parse_rate,
    parse_ratio,
    to_number,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("十五万", 150000), ("15万", 150000), ("15w", 150000), ("15W", 150000), ("1.5万", 15000),
        ("两万五", 25000), ("十二万八", 128000), ("150000", 150000), ("150,000元", 150000), ("８万", 80000),
        ("8k", 8000), ("八千块", 8000), ("一万零五", 10005), ("十万零八千", 108000), ("2万5", 25000),
        ("一十九万九", 199000), ("二十三万八", 238000), ("16.98万", 169800), ("¥88000", 88000),
        ("1.5 million", 1500000), ("150 thousand", 150000), ("十来万", 100000),
    ],
)
def test_money(text: str, expected: int) -> None:
    assert parse_money(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("三成", 0.3), ("3成", 0.3), ("30%", 0.3), ("百分之三十", 0.3), ("零首付", 0.0), ("三成半", 0.35),
     ("首付两成", 0.2), ("百分之二十五", 0.25), ("no down payment", 0.0)],
)
def test_ratio(text: str, expected: float) -> None:
    assert parse_ratio(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3.5%", 0.035), ("百分之三点五", 0.035), ("3.5个点", 0.035), ("千分之三", 0.003), ("0.3%", 0.003),
     ("百分之零点三", 0.003)],
)
def test_rate(text: str, expected: float) -> None:
    assert parse_rate(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("36期", 36), ("3年", 36), ("三十六个月", 36), ("两年半", 30), ("半年", 6), ("一年半", 18), ("1.5年", 18),
     ("5年期", 60), ("3 years", 36), ("thirty-six months", 36), ("two and a half years", 30), ("48-month", 48)],
)
def test_months(text: str, expected: int) -> None:
    assert parse_months(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15天", 15), ("半个月", 15), ("两周", 14), ("一个礼拜", 7), ("两个月", 60), ("两个半月", 75), ("10 days", 10)],
)
def test_days(text: str, expected: int) -> None:
    assert parse_days(text) == expected


def test_cn2an_agrees_on_standard_numerals() -> None:
    for token in ["十五", "一百二十", "三千五百", "十二万八千", "一万零五", "二百零一"]:
        assert to_number(token) == cn2an_number(token), token


def test_vague_numerals_are_not_numbers() -> None:
    # 三四万 / 两三年 / 七八千 are loose ranges, not 340000 / 23 years / 78000
    assert to_number("三四万") is None
    assert parse_months("两三年") is None
    assert parse_money("七八千") is None


def test_year_digits_read_one_by_one() -> None:
    assert to_number("二零二一") == Decimal(2021)


def test_quantities_have_kinds_and_spans() -> None:
    text = fold_case(normalize("车价18万，首付四成，分24期，2021年的车跑了7万公里"))
    kinds = [(q.kind, q.value) for q in find_quantities(text)]
    assert kinds == [("money", 180000), ("ratio", Decimal("0.4")), ("months", 24), ("year", 2021), ("km", 70000)]
    for q in find_quantities(text):
        assert text[q.start:q.end] == q.text


def test_range_keeps_both_ends() -> None:
    [q] = find_quantities(fold_case(normalize("10到15万")))
    assert (q.low, q.value) == (100000, 150000)


def test_normalize_is_total() -> None:
    for junk in ["", "\x00\x01\x02", "\ud800abc", "😀" * 50, "a" * 20000, "\uffff\ufffe"]:
        out = normalize(junk)
        assert isinstance(out, str)
        find_quantities(fold_case(out))
