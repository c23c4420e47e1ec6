"""``parse``: one call for intent, confidence, slots and language; any input survives."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.nlu.parser import NLU, clean_text, detect_lang
from assistant.settings import Settings


@pytest.fixture(scope="module")
def nlu() -> NLU:
    return NLU.from_settings(Settings(_env_file=None), )  # type: ignore[call-arg]


def test_parse_smoke_sentences(nlu: NLU) -> None:
    result = nlu.parse("车价18万，首付四成，分24期，月供多少")
    assert result.intent == "payment_calculation"
    assert result.slots == {"vehicle_price": 180000, "down_payment_ratio": 0.4, "term_months": 24}
    assert result.lang == "zh"
    result = nlu.parse("想买台10万左右的轿车")
    assert result.intent == "car_recommendation"
    assert result.slots == {"budget": 100000, "body_type": "sedan"}


def test_english_message(nlu: NLU) -> None:
    result = nlu.parse("I want to talk to a human agent")
    assert result.intent == "human_handoff"
    assert result.lang == "en"


def test_expected_slot_fills_a_bare_answer(nlu: NLU) -> None:
    assert nlu.parse("15万", expected_slot="budget").slots == {"budget": 150000}
    assert nlu.parse("15万", expected_slot="down_payment").slots == {"down_payment": 150000}
    assert nlu.parse("三成", expected_slot="down_payment").slots == {"down_payment_ratio": 0.3}
    # an unknown slot name is ignored rather than trusted
    assert nlu.parse("15万", expected_slot="nonsense").slots.keys() <= {"budget", "loan_amount"}


def test_clock_dates_the_car() -> None:
    fixed = NLU.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    fixed.clock = lambda: date(2026, 5, 1)
    assert fixed.parse("2021年的车 能抵押吗").slots["vehicle_age_years"] == 5.0
    assert fixed.parse("2021年的车 能抵押吗", today=date(2028, 1, 1)).slots["vehicle_age_years"] == 7.0


@pytest.mark.parametrize(
    "junk",
    ["", "   ", "😀😀😀", "🚗💰", "\x00\x01\x02\x03", "\ud800\udc00abc", "a" * 20000, "车" * 20000,
     "贷" * 20000, "\uffff" * 10, "%$#@!", "１２３４５"],
)
def test_any_input_returns_a_valid_result(nlu: NLU, junk: str) -> None:
    result = nlu.parse(junk)
    assert 0.0 <= result.confidence <= 1.0
    assert result.lang in ("zh", "en")
    assert isinstance(result.slots, dict)


def test_non_strings_are_read_as_text(nlu: NLU) -> None:
    assert nlu.parse(b"\xe8\xbd\xac\xe4\xba\xba\xe5\xb7\xa5").intent == "human_handoff"  # 转人工 as bytes
    assert nlu.parse(None).confidence == 0.0
    assert nlu.parse(b"\xff\xfe\x00").confidence >= 0.0


def test_empty_and_emoji_only_carry_no_confidence(nlu: NLU) -> None:
    for text in ["", "😀😀", "？？？"]:
        result = nlu.parse(text)
        assert result.confidence == 0.0 and result.slots == {}


def test_detect_lang() -> None:
    assert detect_lang("你好") == "zh"
    assert detect_lang("I want an SUV 预算15万") == "zh"
    assert detect_lang("I want an SUV") == "en"
    assert detect_lang("😀") == "zh"


def test_clean_text() -> None:
    assert clean_text("a\x00b\u200b c\n\nd") == "ab c d"
    assert len(clean_text("x" * 5000, max_chars=2000)) == 2000
