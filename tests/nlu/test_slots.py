"""Slot extraction: the contract's table, context, corrections, and phrasings not in the labelled set."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.nlu.slots import ENUM_VALUES, FLOAT_SLOTS, INT_SLOTS, SLOT_NAMES, extract_slots

TODAY = date(2026, 3, 1)


def slots(text: str, **kwargs: object) -> dict:
    return extract_slots(text, today=TODAY, **kwargs)  # type: ignore[arg-type]


# The contract's Slots table, one example per row (shared/spec/contract.md).
CONTRACT = [
    ("预算15万", {"budget": 150000}),
    ("十五万左右", {"budget": 150000}),
    ("15w", {"budget": 150000}),
    ("车价20万", {"vehicle_price": 200000}),
    ("落地价23.8万", {"vehicle_price": 238000}),
    ("首付5万", {"down_payment": 50000}),
    ("首付三成", {"down_payment_ratio": 0.3}),
    ("首付30%", {"down_payment_ratio": 0.3}),
    ("零首付", {"down_payment_ratio": 0.0}),
    ("贷10万", {"loan_amount": 100000}),
    ("想借8万", {"loan_amount": 80000}),
    ("3年", {"term_months": 36}),
    ("36期", {"term_months": 36}),
    ("三十六个月", {"term_months": 36}),
    ("两年半", {"term_months": 30}),
    ("月薪1.2万", {"monthly_income": 12000}),
    ("年收入24万", {"monthly_income": 20000}),
    ("年费率3.5%", {"quoted_rate": 0.035, "rate_type": "flat"}),
    ("月费率0.3%", {"quoted_rate": 0.036, "rate_type": "flat"}),
    ("年利率4.5%", {"quoted_rate": 0.045, "rate_type": "nominal"}),
    ("想要SUV", {"body_type": "suv"}),
    ("越野车", {"body_type": "suv"}),
    ("轿车", {"body_type": "sedan"}),
    ("商务车", {"body_type": "mpv"}),
    ("皮卡", {"body_type": "pickup"}),
    ("油车", {"energy_type": "ice"}),
    ("纯电", {"energy_type": "bev"}),
    ("增程的", {"energy_type": "phev"}),
    ("双擎", {"energy_type": "hev"}),
    ("新能源", {"energy_type": "nev"}),
    ("新车", {"vehicle_condition": "new"}),
    ("二手车", {"vehicle_condition": "used"}),
    ("比亚迪", {"brand": "比亚迪"}),
    ("Tesla", {"brand": "Tesla"}),
    ("我在北京", {"city": "北京"}),
    ("我今年28", {"age": 28}),
    ("车开了3年", {"vehicle_age_years": 3.0}),
    ("2021年的车", {"vehicle_age_years": 5.0}),
    ("跑了7万公里", {"mileage_km": 70000}),
    ("逾期15天", {"overdue_days": 15}),
    ("逾期半个月", {"overdue_days": 15}),
    ("等额本息", {"repayment_method": "equal_installment"}),
    ("等额本金", {"repayment_method": "equal_principal"}),
    ("把合同发我", {"document_kind": "loan_contract"}),
    ("风险提示书", {"document_kind": "risk_disclosure"}),
    ("还款计划表", {"document_kind": "repayment_schedule"}),
    ("隐私授权书", {"document_kind": "privacy_consent"}),
]


@pytest.mark.parametrize(("text", "expected"), CONTRACT)
def test_contract_examples(text: str, expected: dict) -> None:
    assert slots(text) == expected


def test_smoke_sentences_from_the_brief() -> None:
    assert slots("车价18万，首付四成，分24期，月供多少") == {
        "vehicle_price": 180000, "down_payment_ratio": 0.4, "term_months": 24}
    assert slots("想买台10万左右的轿车") == {"budget": 100000, "body_type": "sedan"}


# Phrasings written for these tests, not taken from eval/nlu/utterances.jsonl.
NOVEL = [
    ("十五万左右的SUV有推荐吗", {"budget": 150000, "body_type": "suv"}),
    ("我打算花个二十来万买辆混动车", {"budget": 200000, "energy_type": "hev"}),
    ("月收入税后1万3 想贷款买车", {"monthly_income": 13000}),
    ("落地价二十三万八千 首付付了七万", {"vehicle_price": 238000, "down_payment": 70000}),
    ("车是19款的凯美瑞 开了六万多公里", {"vehicle_age_years": 7.0, "mileage_km": 60000}),
    ("买车的话 最好分60个月", {"term_months": 60}),
    ("已经晚还三天了", {"overdue_days": 3}),
    ("我在深圳南山上班 月入两万", {"city": "深圳", "monthly_income": 20000}),
    ("Buying a 250k SUV in Guangzhou, 30 percent down, over 4 years",
     {"vehicle_price": 250000, "down_payment_ratio": 0.3, "term_months": 48, "body_type": "suv", "city": "广州"}),
    ("my monthly salary is 18,000 rmb", {"monthly_income": 18000}),
    ("3% flat per annum, is it fair?", {"quoted_rate": 0.03, "rate_type": "flat"}),
    ("want to borrow 80 grand for 2 years", {"loan_amount": 80000, "term_months": 24}),
    ("首付百分之二十五 贷款期限两年半", {"down_payment_ratio": 0.25, "term_months": 30}),
    ("利息是月息八厘", {"quoted_rate": 0.096}),
    ("十二万八千八的车首付三成", {"vehicle_price": 128800, "down_payment_ratio": 0.3}),
    ("我今年二十六岁 刚工作一年", {"age": 26}),
    ("工作五年了 月薪九千", {"monthly_income": 9000}),
    ("借六万块钱 一年半还清", {"loan_amount": 60000, "term_months": 18}),
    ("首付10% 车价一百二十万", {"down_payment_ratio": 0.1, "vehicle_price": 1200000}),
    ("年薪三十六万 想贷二十万", {"monthly_income": 30000, "loan_amount": 200000}),
]


@pytest.mark.parametrize(("text", "expected"), NOVEL)
def test_novel_phrasings(text: str, expected: dict) -> None:
    assert slots(text) == expected


def test_context_decides_the_money_slot() -> None:
    assert slots("首付5万 车价18万 贷3年") == {"down_payment": 50000, "vehicle_price": 180000, "term_months": 36}
    assert slots("5万首付") == {"down_payment": 50000}
    assert slots("I'd pay 50k upfront on a 200k car") == {"down_payment": 50000, "vehicle_price": 200000}
    # the same bare amount: a budget when choosing a car, a loan when applying
    assert slots("20万", intent="car_recommendation") == {"budget": 200000}
    assert slots("20万", intent="apply") == {"loan_amount": 200000}


def test_amounts_that_are_no_slot() -> None:
    assert slots("月供3000能接受") == {}
    assert slots("手续费收了5000") == {}
    assert slots("预算再加两万") == {}
    assert slots("三四万那种") == {}
    assert slots("能跑500公里的电车") == {"energy_type": "bev"}


def test_expected_slot_resolves_a_bare_answer() -> None:
    assert slots("15万", expected_slot="budget") == {"budget": 150000}
    assert slots("15万", expected_slot="loan_amount") == {"loan_amount": 150000}
    assert slots("三成", expected_slot="down_payment") == {"down_payment_ratio": 0.3}
    assert slots("36", expected_slot="term_months") == {"term_months": 36}
    assert slots("3", expected_slot="term_months") == {"term_months": 36}
    assert slots("28", expected_slot="age") == {"age": 28}
    assert slots("8000", expected_slot="monthly_income") == {"monthly_income": 8000}
    assert slots("28") == {}


def test_corrections_negations_and_comparisons() -> None:
    assert slots("不对，首付改成四成") == {"down_payment_ratio": 0.4}
    assert slots("是首付四万 不是三万") == {"down_payment": 40000}
    assert slots("不要SUV了 换成轿车") == {"body_type": "sedan"}
    assert slots("36期的能改成48期吗") == {"term_months": 48}
    assert slots("丰田和本田哪个保值") == {}
    assert slots("24期和36期对比一下") == {}


def test_calendar_years_use_the_clock() -> None:
    assert extract_slots("2021年的车", today=date(2026, 1, 1)) == {"vehicle_age_years": 5.0}
    assert extract_slots("2021年的车", today=date(2030, 1, 1)) == {"vehicle_age_years": 9.0}
    assert extract_slots("my 2019 Honda", today=date(2026, 1, 1)) == {"vehicle_age_years": 7.0, "brand": "Honda"}


def test_rate_type_without_a_number() -> None:
    assert slots("是利率") == {"rate_type": "nominal"}
    assert slots("他说的是手续费率") == {"rate_type": "flat"}
    assert slots("你们利率多少") == {}


def test_homophone_typos() -> None:
    assert slots("首负两成") == {"down_payment_ratio": 0.2}
    assert slots("代款八万") == {"loan_amount": 80000}
    assert slots("年利律4.8") == {"quoted_rate": 0.048, "rate_type": "nominal"}


def test_third_person_age_is_not_the_customer() -> None:
    assert slots("我爸68了") == {}
    assert slots("我老公今年35 我32") == {"age": 32}


def test_types_and_values_follow_the_contract() -> None:
    texts = [t for t, _ in CONTRACT + NOVEL]
    for text in texts:
        for name, value in slots(text).items():
            assert name in SLOT_NAMES
            if name in INT_SLOTS:
                assert type(value) is int, (text, name, value)
            elif name in FLOAT_SLOTS:
                assert type(value) is float, (text, name, value)
            elif name in ENUM_VALUES:
                assert value in ENUM_VALUES[name], (text, name, value)
            else:
                assert isinstance(value, str) and value


@pytest.mark.parametrize("junk", ["", " ", "😀😀😀", "\x00\x07\x1b", "\ud800\udfff", "万" * 5000, "1" * 20000,
                                  "十" * 3000, "%" * 100, "成" * 100])
def test_never_crashes(junk: str) -> None:
    assert isinstance(extract_slots(junk), dict)


def test_a_rate_per_year_is_not_a_one_year_term():
    slots = extract_slots("经销商说费率一年4.2个点 贷四年", intent="rate_check")
    assert slots["term_months"] == 48 and slots["quoted_rate"] == pytest.approx(0.042)
