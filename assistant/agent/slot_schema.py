"""The slots the dialogue keeps: the contract's, plus the product's additions, each with its type and range.

Every value a command generator proposes passes through :func:`validate_slot` before it reaches the
state, so a model that invents a slot or an implausible number (月供 −3000, a 10^30 budget, a term of
600 months) is refused here, not in a tool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SlotSpec:
    """A slot's type and allowed values."""

    kind: str  # money | int | ratio | float | enum | str | bool
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = ()
    zh: str = ""
    en: str = ""


_MONEY_HIGH = 100_000_000  # 1亿: no car, income or debt in this business is larger
SLOT_SPECS: dict[str, SlotSpec] = {
    # the contract's slots
    "budget": SlotSpec("money", 1_000, _MONEY_HIGH, zh="预算", en="budget"),
    "vehicle_price": SlotSpec("money", 1_000, _MONEY_HIGH, zh="车价", en="car price"),
    "down_payment": SlotSpec("money", 0, _MONEY_HIGH, zh="首付", en="down payment"),
    "down_payment_ratio": SlotSpec("ratio", 0, 1, zh="首付比例", en="down-payment ratio"),
    "loan_amount": SlotSpec("money", 1_000, _MONEY_HIGH, zh="贷款金额", en="loan amount"),
    "term_months": SlotSpec("int", 1, 120, zh="期数", en="term"),
    "monthly_income": SlotSpec("money", 0, 10_000_000, zh="月收入", en="monthly income"),
    "quoted_rate": SlotSpec("float", 0, 1, zh="报价利率", en="quoted rate"),
    "rate_type": SlotSpec("enum", values=("flat", "nominal"), zh="利率类型", en="rate type"),
    "body_type": SlotSpec("enum", values=("suv", "sedan", "mpv", "hatchback", "pickup"), zh="车型", en="body"),
    "energy_type": SlotSpec("enum", values=("ice", "bev", "phev", "hev", "nev"), zh="动力", en="energy"),
    "vehicle_condition": SlotSpec("enum", values=("new", "used"), zh="新车/二手车", en="condition"),
    "brand": SlotSpec("str", zh="品牌", en="brand"),
    "city": SlotSpec("str", zh="城市", en="city"),
    "age": SlotSpec("int", 16, 100, zh="年龄", en="age"),
    "vehicle_age_years": SlotSpec("float", 0, 40, zh="车龄", en="car age"),
    "mileage_km": SlotSpec("int", 0, 2_000_000, zh="里程", en="mileage"),
    "overdue_days": SlotSpec("int", 0, 3650, zh="逾期天数", en="days overdue"),
    "repayment_method": SlotSpec("enum", values=("equal_installment", "equal_principal"), zh="还款方式",
                                 en="repayment method"),
    "document_kind": SlotSpec("enum", values=("loan_contract", "risk_disclosure", "repayment_schedule",
                                              "privacy_consent"), zh="文件", en="document"),
    # the product's additions (eval/dialogue/README.md)
    "max_monthly_payment": SlotSpec("money", 100, 10_000_000, zh="月供上限", en="monthly-payment cap"),
    "budget_min": SlotSpec("money", 1_000, _MONEY_HIGH, zh="预算下限", en="budget from"),
    "monthly_debt_payments": SlotSpec("money", 0, 10_000_000, zh="现有负债月供", en="existing monthly debt payments"),
    "employment_type": SlotSpec("enum", values=("fixed", "freelance", "part_time", "self_employed", "other"),
                                zh="职业类型", en="employment"),
    "home_status": SlotSpec("enum", values=("owner", "rent", "parents", "other"), zh="住房", en="home"),
    "marital_status": SlotSpec("enum", values=("single", "married", "divorced", "widowed", "other"),
                               zh="婚姻状况", en="marital status"),
    "has_delinquency": SlotSpec("bool", zh="逾期记录", en="arrears record"),
    "income_in_cash": SlotSpec("bool", zh="现金发薪", en="wages in cash"),
    "selected_offer": SlotSpec("int", 1, 20, zh="所选方案", en="chosen offer"),
}
# Facts about who the customer is (not what they want): they reach scoring and the income-proof list,
# and a question that mentions them is about a rule, not a reason to search again.
WHO_SLOTS = frozenset({"employment_type", "home_status", "has_delinquency", "income_in_cash", "marital_status"})
MONEY_SLOTS = frozenset(name for name, spec in SLOT_SPECS.items() if spec.kind == "money")


def validate_slot(name: str, value: Any) -> Any:
    """The value normalised to the slot's type; ValueError for an unknown slot or a value out of range."""
    spec = SLOT_SPECS.get(name)
    if spec is None:
        raise ValueError(f"unknown slot {name!r}")
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise ValueError(f"{name} must be true or false")
    if spec.kind == "enum":
        text = str(value).strip().lower()
        if text not in spec.values:
            raise ValueError(f"{name} must be one of {', '.join(spec.values)}")
        return text
    if spec.kind == "str":
        text = str(value).strip()
        if not text or len(text) > 40:
            raise ValueError(f"{name} must be a short text")
        return text
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number") from exc
    if number != number or (spec.low is not None and number < spec.low) or (
            spec.high is not None and number > spec.high):
        raise ValueError(f"{name} = {value!r} is outside {spec.low}–{spec.high}")
    if spec.kind in ("money", "int"):
        return round(number)
    return round(number, 6)
