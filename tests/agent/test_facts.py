"""``slot_facts``: the customer's slots worded for people (the desk's facts table)."""

from __future__ import annotations

from assistant.agent.facts import slot_facts


def test_slots_read_as_a_person_says_them_in_the_contract_order() -> None:
    rows = slot_facts({"energy_type": "bev", "down_payment_ratio": 0.4, "budget": 150000, "term_months": 36})
    assert rows == [("budget", "预算", "15万元"), ("down_payment_ratio", "首付比例", "40%"),
                    ("term_months", "期数", "36期"), ("energy_type", "能源类型", "纯电")]


def test_english_labels_and_values() -> None:
    assert slot_facts({"down_payment_ratio": 0.3, "term_months": 24}, "en") == [
        ("down_payment_ratio", "down-payment share", "30%"), ("term_months", "term", "24 months")]


def test_applicant_fields_unknown_names_and_empty_values() -> None:
    rows = slot_facts({"note": "x", "employment_type": "fixed", "has_delinquency": False, "city": "",
                       "quoted_rate": 0.035, "brand": None})
    assert rows == [("quoted_rate", "报价利率", "3.50%"), ("note", "note", "x"),
                    ("employment_type", "职业类型", "固定工作"), ("has_delinquency", "征信逾期记录", "无")]
