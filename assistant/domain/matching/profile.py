"""Resolving a profile: every field decided (defaults recorded in ``assumed``), and the income proof asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from assistant.domain.catalogue import Grade
from assistant.domain.matching.models import (
    DEFAULT_AGE,
    DEFAULT_DOWN_PAYMENT_RATIO,
    DEFAULT_GRADE,
    DEFAULT_KM_PER_YEAR,
    DEFAULT_TERM_MONTHS,
    DEFAULT_USED_AGE_YEARS,
    DELINQUENT_GRADE,
    MatchPolicy,
    MatchProfile,
    Reason,
)
from assistant.domain.money import ZERO, fen
from assistant.domain.regulation import Condition, Use


@dataclass
class Resolved:
    """A profile with every field decided, and what was assumed to get there."""

    profile: MatchProfile
    condition: Condition
    use: Use
    grade: Grade
    age: int
    term: int
    term_given: bool
    down_ratio: Decimal
    down_ratio_given: bool
    down_payment: Decimal | None
    income: Decimal | None
    debt_payments: Decimal
    budget: Decimal | None
    vehicle_age: Decimal
    mileage: int
    share: Decimal
    assumed: dict[str, object] = field(default_factory=dict)
    notes: list[Reason] = field(default_factory=list)

    @property
    def affordable_payment(self) -> Decimal | None:
        """The most this customer can afford a month by income after debts (None when income is unknown)."""
        return None if self.income is None else self.share * self.income - self.debt_payments

    @property
    def max_payment(self) -> Decimal | None:
        """The most this customer may pay a month: affordability and their own cap, the lower (None: no limit)."""
        limits = [x for x in (self.affordable_payment, self.profile.max_monthly_payment) if x is not None]
        return min(limits) if limits else None

    @property
    def cap_binds(self) -> bool:
        """True when the customer's own cap, not income, sets the monthly limit."""
        cap = self.profile.max_monthly_payment
        affordable = self.affordable_payment
        return cap is not None and (affordable is None or cap < affordable)


def resolve(profile: MatchProfile, policy: MatchPolicy) -> Resolved:
    """Fill in defaults (recording them in ``assumed``) without changing anything the customer said."""
    assumed: dict[str, object] = {}
    notes: list[Reason] = []
    condition = profile.vehicle_condition
    if condition is None:
        condition = Condition.USED if (profile.vehicle_age_years or profile.mileage_km) else Condition.NEW
        assumed["vehicle_condition"] = condition.value
    use = profile.use or Use.SELF
    if profile.use is None:
        assumed["use"] = use.value
    grade = _resolve_grade(profile, assumed, notes)
    age = profile.age if profile.age is not None else DEFAULT_AGE
    if profile.age is None:
        assumed["age"] = age
    term = profile.term_months if profile.term_months is not None else DEFAULT_TERM_MONTHS
    if profile.term_months is None:
        assumed["term_months"] = term
    down_ratio = profile.down_payment_ratio
    if down_ratio is None:
        down_ratio = DEFAULT_DOWN_PAYMENT_RATIO
        if profile.down_payment is None and profile.loan_amount is None:
            assumed["down_payment_ratio"] = float(down_ratio)
    debt_payments = profile.monthly_debt_payments
    if debt_payments is None:
        # Outstanding debt without its instalment: assume it is repaid over 36 months.
        debt_payments = fen(profile.debt / 36) if profile.debt else ZERO
        assumed["monthly_debt_payments"] = float(debt_payments)
    budget = profile.budget
    if budget is None and profile.vehicle_price is not None:
        budget = profile.vehicle_price
    if budget is None:
        assumed["budget"] = None
        notes.append(Reason(code="no_budget", zh="未提供预算，不限车价，按月供可负担程度推荐",
                            en="no budget given: any price, ranked by affordability"))
    proof = income_proof(profile.employment_type, profile.income_in_cash)
    if proof is not None:
        notes.append(proof)
    if profile.monthly_income is None:
        assumed["monthly_income"] = None
        notes.append(Reason(code="no_income",
                            zh="未提供月收入，未做还款能力校验；每个方案给出所需的最低月收入",
                            en="no income given: affordability not checked; each offer shows the income it needs"))
    vehicle_age, mileage = _resolve_used(profile, condition, assumed)
    resolved = Resolved(
        profile=profile, condition=condition, use=use, grade=grade, age=age, term=term,
        term_given=profile.term_months is not None, down_ratio=down_ratio,
        down_ratio_given=profile.down_payment_ratio is not None, down_payment=profile.down_payment,
        income=profile.monthly_income, debt_payments=debt_payments, budget=budget,
        vehicle_age=vehicle_age or ZERO, mileage=mileage or 0, share=policy.affordability_share,
        assumed=assumed, notes=notes,
    )
    return resolved


def _resolve_grade(profile: MatchProfile, assumed: dict[str, object], notes: list[Reason]) -> Grade:
    """The stated grade, else D for stated arrears, else the middle grade (with a note)."""
    if profile.risk_grade is not None:
        return profile.risk_grade
    if profile.has_delinquency:
        grade = DELINQUENT_GRADE
        assumed["risk_grade"] = grade.value
        return grade
    grade = DEFAULT_GRADE
    assumed["risk_grade"] = grade.value
    notes.append(Reason(code="grade_assumed", zh="未评估信用等级，按C级（中等）利率估算，最终利率以审批结果为准",
                        en="no credit grade yet: rates shown are for grade C (middle); approval sets the "
                           "final rate"))
    return grade


def _resolve_used(profile: MatchProfile, condition: Condition,
                  assumed: dict[str, object]) -> tuple[Decimal | None, int | None]:
    """Vehicle age and mileage as stated; for a used car, defaults for the missing ones."""
    vehicle_age = profile.vehicle_age_years
    mileage = profile.mileage_km
    if condition is Condition.USED:
        if vehicle_age is None:
            vehicle_age = DEFAULT_USED_AGE_YEARS
            assumed["vehicle_age_years"] = float(vehicle_age)
        if mileage is None:
            mileage = int(vehicle_age * DEFAULT_KM_PER_YEAR)
            assumed["mileage_km"] = mileage
    return vehicle_age, mileage


INCOME_PROOF = {
    "fixed": ("收入证明：近6个月工资流水或单位盖章的收入证明",
              "income proof: 6 months of salary statements or an employer's income certificate"),
    "self_employed": ("收入证明：营业执照及近6–12个月经营流水（对公或个人账户），经营收入按流水认定",
                      "income proof: business licence and 6–12 months of business account statements"),
    "freelance": ("收入证明：平台收入记录（如网约车、外卖平台流水）及近6个月银行流水，收入不固定的按平均值认定",
                  "income proof: platform earnings records and 6 months of bank statements (irregular income is "
                  "averaged)"),
    "part_time": ("收入证明：各项兼职收入的流水记录", "income proof: statements for each part-time income"),
}
CASH_INCOME = ("收入证明：工资发现金、没有银行流水的，需单位盖章的收入证明及社保或个税缴纳记录；"
               "收入难以核实时，审批可能按较低收入认定，可考虑提高首付或增加共同借款人",
               "income proof: with wages in cash and no bank statements, an employer's income certificate and "
               "social-insurance or income-tax records are needed; unverifiable income may be counted lower, so a "
               "larger down payment or a co-borrower helps")


def income_proof(employment_type: str | None, income_in_cash: bool | None) -> Reason | None:
    """What income proof this applicant will be asked for (it depends on how they earn)."""
    if income_in_cash:
        return Reason(code="income_proof", zh=CASH_INCOME[0], en=CASH_INCOME[1])
    if employment_type in INCOME_PROOF:
        zh, en = INCOME_PROOF[employment_type]
        return Reason(code="income_proof", zh=zh, en=en)
    return None
