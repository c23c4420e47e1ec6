"""Human-readable renderings of slots, for summaries, copilot notes and "what did we say so far"."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from assistant.agent.slot_schema import MONEY_SLOTS
from assistant.domain.money import percent_str, yuan_str

SLOT_LABELS: dict[str, tuple[str, str]] = {
    "budget": ("预算", "budget"),
    "vehicle_price": ("车价", "car price"),
    "down_payment": ("首付", "down payment"),
    "down_payment_ratio": ("首付比例", "down-payment share"),
    "loan_amount": ("贷款金额", "loan amount"),
    "term_months": ("期数", "term"),
    "monthly_income": ("月收入", "monthly income"),
    "quoted_rate": ("报价利率", "quoted rate"),
    "rate_type": ("利率类型", "rate type"),
    "body_type": ("车型", "body type"),
    "energy_type": ("能源类型", "energy type"),
    "vehicle_condition": ("车况", "condition"),
    "brand": ("品牌", "brand"),
    "city": ("城市", "city"),
    "age": ("年龄", "age"),
    "vehicle_age_years": ("车龄", "vehicle age"),
    "mileage_km": ("里程", "mileage"),
    "overdue_days": ("逾期天数", "days overdue"),
    "repayment_method": ("还款方式", "repayment method"),
    "document_kind": ("文件", "document"),
    # The product's additions (eval/dialogue/README.md). Worded so that the customer's own limits and
    # debts are not read as a price quoted without its APR.
    "budget_min": ("预算下限", "budget from"),
    "max_monthly_payment": ("可接受的月还款", "payment cap"),
    "monthly_debt_payments": ("已有负债的月还款", "existing debt repayments"),
}
ENUM_ZH: dict[str, str] = {
    "suv": "SUV", "sedan": "轿车", "mpv": "MPV", "hatchback": "两厢车", "pickup": "皮卡",
    "ice": "燃油", "bev": "纯电", "phev": "插混/增程", "hev": "油电混动", "nev": "新能源",
    "new": "新车", "used": "二手车", "flat": "费率（按原始本金计息）", "nominal": "年利率",
    "equal_installment": "等额本息", "equal_principal": "等额本金",
    "loan_contract": "借款合同", "risk_disclosure": "风险提示书", "repayment_schedule": "还款计划表",
    "privacy_consent": "个人信息授权书",
}
# Applicant fields the risk model fills with documented defaults when the customer did not say them.
APPLICANT_LABELS: dict[str, tuple[str, str]] = {
    "monthly_expenses": ("月支出", "monthly expenses"),
    "debt": ("其他负债", "other debt"),
    "assets": ("存款及资产", "savings and assets"),
    "employment_years": ("工作年限", "years in employment"),
    "employment_type": ("职业类型", "employment type"),
    "home_status": ("住房情况", "housing"),
    "marital_status": ("婚姻状况", "marital status"),
    "has_delinquency": ("征信逾期记录", "record of arrears"),
    "monthly_debt_payments": ("每月其他还款", "other monthly repayments"),
    "risk_grade": ("风险等级", "risk grade"),
    "use": ("用途", "use"),
}
APPLICANT_VALUES_ZH: dict[str, str] = {
    "fixed": "固定工作", "freelance": "自由职业", "part_time": "兼职", "self_employed": "个体经营", "other": "其他",
    "owner": "自有住房", "rent": "租房", "parents": "与父母同住", "single": "未婚", "married": "已婚",
    "divorced": "离异", "widowed": "丧偶", "True": "有", "False": "无", "self": "自用", "commercial": "商用",
}
# The money slots said per month in their own words ("不超过3000元", "yuan/month"), not as a sum.
PER_MONTH_SLOTS = frozenset({"max_monthly_payment", "monthly_debt_payments"})
# Amounts shown as a sum (15万元 / 150,000 yuan). A different set from the money slots
# (assistant.agent.slot_schema.MONEY_SLOTS, the one definition of which slots hold yuan): those but the
# two said per month, plus the applicant form's money fields, which are not slots.
MONEY_FIELDS_SHOWN = (MONEY_SLOTS - PER_MONTH_SLOTS) | {"monthly_expenses", "debt", "assets"}


def slot_value_text(name: str, value: Any, lang: str = "zh") -> str:
    """One slot value for people: 150000 → '15万元' (zh) / '150,000 yuan' (en)."""
    if name in MONEY_FIELDS_SHOWN:
        amount = Decimal(str(value))
        if lang == "zh" and amount >= 10000 and amount % 100 == 0:
            wan = (amount / 10000).normalize()
            return f"{wan:f}万元"
        return f"{yuan_str(amount)}元" if lang == "zh" else f"{yuan_str(amount)} yuan"
    if name in PER_MONTH_SLOTS:
        amount = yuan_str(Decimal(str(value)))
        prefix = "不超过" if name == "max_monthly_payment" and lang == "zh" else ("at most " if name ==
                                                                                 "max_monthly_payment" else "")
        return f"{prefix}{amount}元" if lang == "zh" else f"{prefix}{amount} yuan/month"
    if name in {"down_payment_ratio", "quoted_rate"}:
        return percent_str(Decimal(str(value)), 2 if name == "quoted_rate" else 0)
    if name == "term_months":
        return f"{value}期" if lang == "zh" else f"{value} months"
    if name == "mileage_km":
        return f"{value}公里" if lang == "zh" else f"{value} km"
    if name in {"vehicle_age_years", "age"}:
        return f"{value}年" if lang == "zh" and name == "vehicle_age_years" else (
            f"{value}岁" if lang == "zh" else f"{value} years")
    if name == "overdue_days":
        return f"{value}天" if lang == "zh" else f"{value} days"
    if lang == "zh":
        return ENUM_ZH.get(str(value), str(value))
    return str(value)


def describe_slots(slots: dict[str, Any], lang: str = "zh", only: list[str] | None = None) -> str:
    """'预算15万元，车型SUV，首付比例30%' — in the contract's slot order."""
    parts = []
    for name, (zh, en) in SLOT_LABELS.items():
        if name in slots and (only is None or name in only):
            label = zh if lang == "zh" else en
            parts.append(f"{label}{'' if lang == 'zh' else ' '}{slot_value_text(name, slots[name], lang)}")
    return ("，" if lang == "zh" else ", ").join(parts)


def slot_facts(slots: dict[str, Any], lang: str = "zh") -> list[tuple[str, str, str]]:
    """``(name, label, value text)`` for each slot, as a person reads it: ('down_payment_ratio', '首付比例',
    '40%'). The contract's slots first in their order, then any other fields (applicant fields by their
    label, an unknown name as itself) in the order given; empty values are left out."""
    index = {"zh": 0, "en": 1}[lang]
    known = [name for name in SLOT_LABELS if name in slots]
    rest = [name for name in slots if name not in SLOT_LABELS]
    rows = []
    for name in known + rest:
        value = slots[name]
        if value is None or value == "":
            continue
        labels = SLOT_LABELS.get(name) or APPLICANT_LABELS.get(name)
        label = labels[index] if labels else name
        if name in APPLICANT_LABELS and name not in SLOT_LABELS and name not in MONEY_FIELDS_SHOWN and lang == "zh":
            text = APPLICANT_VALUES_ZH.get(str(value), str(value))  # 'fixed' → 固定工作, False → 无
        elif isinstance(value, bool):
            text = ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
        else:
            text = slot_value_text(name, value, lang)
        rows.append((name, label, text))
    return rows
