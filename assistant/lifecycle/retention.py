"""Retention: customer lifetime value from the book, and offers for customers in good standing.

Lifetime value (yuan) = margin already earned (interest + fees − funding cost) + expected future margin
(× the chance the loan stays good, from the monitor's model score) − expected loss (probability × the
debt not covered by 70 % of the car's current value). It ranks customers; it is not a price.

Offers — early settlement, repurchase (trade the car in for a new one), referral — go only to customers
in good standing (no warning, nothing past due, never beyond the grace period in 12 months, 6+
instalments paid), and **every offer carries its APR** (IRR method, fees included) computed by the
money core; an early-settlement offer shows what the loan will have cost as an APR if settled early.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, select

from assistant.domain.apr import APR_CONVENTION_EN, APR_CONVENTION_ZH, monthly_irr
from assistant.domain.catalogue import Catalogue, FinanceProduct, Grade
from assistant.domain.money import Money, Rate, fen, from_fen, percent_str
from assistant.domain.quote import quote, quote_figures
from assistant.errors import NotFound
from assistant.lifecycle.book import LoanBook, ppm_to_rate
from assistant.lifecycle.ledger import GRACE_DAYS, Behaviour, Ledger
from assistant.storage.loans import LoanRow, LoanStateRow

FUNDING_RATE = Decimal("0.025")  # the lender's own cost of money (annual), for margins
RECOVERY_SHARE = Decimal("0.70")  # what a repossessed car fetches, as a share of its market value
DEFAULT_PD = 0.02  # when no monitoring pass has scored the loan yet
LOYALTY_DISCOUNT = Decimal("0.005")  # 0.5 percentage points off the grade rate for a returning customer
REFERRAL_DISCOUNT = Decimal("0.0025")
REFERRAL_REWARD = Decimal("500")  # yuan, per referred loan that is paid out
MIN_PAID_PERIODS = 6
OFFER_VALID_DAYS = 30


class LoanValue(BaseModel):
    """One loan's contribution to lifetime value."""

    loan_id: str
    realised_margin: Money
    future_margin: Money
    expected_loss: Money
    probability_bad: float


class CustomerValue(BaseModel):
    """A customer's lifetime value and standing."""

    customer_id: str
    loans: int
    active_loans: int
    clv: Money
    realised_margin: Money
    expected_future_margin: Money
    expected_loss: Money
    good_standing: bool
    standing_reasons_zh: list[str]
    standing_reasons_en: list[str]
    per_loan: list[LoanValue]


class RetentionOffer(BaseModel):
    """An offer to a customer in good standing, always with its APR."""

    kind: str  # early_settlement | repurchase | referral
    loan_id: str
    title_zh: str
    title_en: str
    detail_zh: str
    detail_en: str
    amount: Money | None = None
    monthly_payment: Money | None = None
    term_months: int | None = None
    total_interest: Money | None = None
    apr: Rate
    apr_percent: str
    apr_convention: str
    valid_until: dt.date


def loan_value(loan: LoanRow, led: Ledger, b: Behaviour, pd: float) -> LoanValue:
    """Margin earned, margin expected and expected loss for one loan."""
    principal = from_fen(loan.principal_fen)
    outstanding = from_fen(b.outstanding_principal)
    repaid_principal = principal - outstanding
    interest_earned = max(Decimal(0), from_fen(b.paid_total) - repaid_principal)
    years_on_book = Decimal(b.months_on_book) / 12
    funding_so_far = (principal + outstanding) / 2 * FUNDING_RATE * years_on_book
    realised = interest_earned + from_fen(loan.upfront_fees_fen) - funding_so_far
    interest_left = max(Decimal(0), from_fen(loan.total_interest_fen) - interest_earned)
    years_left = Decimal(max(0, loan.term_months - b.periods_due)) / 12
    future = interest_left - outstanding / 2 * FUNDING_RATE * years_left
    value_now = from_fen(loan.collateral_value_now_fen or loan.collateral_value_fen)
    exposure = max(Decimal(0), outstanding + from_fen(b.arrears) - RECOVERY_SHARE * value_now)
    p = Decimal(repr(round(pd, 6)))
    return LoanValue(loan_id=loan.id, realised_margin=fen(realised), future_margin=fen(future * (1 - p)),
                     expected_loss=fen(exposure * p), probability_bad=round(pd, 4))


def standing(behaviours: list[Behaviour], levels: list[int]) -> tuple[bool, list[str], list[str]]:
    """Good standing: no warning, nothing overdue, never past grace in 12 months, 6+ instalments paid."""
    zh: list[str] = []
    en: list[str] = []
    active = [b for b in behaviours if b.outstanding_principal or b.arrears]
    if any(b.dpd > 0 for b in active):
        zh.append("当前有未还清的到期款项")
        en.append("an instalment is currently overdue")
    if any(b.max_dpd_12m > GRACE_DAYS for b in behaviours):
        zh.append("近12个月有超过宽限期的逾期")
        en.append("paid beyond the grace period in the last 12 months")
    if any(level > 0 for level in levels):
        zh.append("贷后监测有预警")
        en.append("the loan has an early-warning flag")
    if not any(b.periods_paid >= MIN_PAID_PERIODS for b in behaviours):
        zh.append(f"按时还款未满{MIN_PAID_PERIODS}期")
        en.append(f"fewer than {MIN_PAID_PERIODS} instalments paid")
    return not zh, zh, en


def customer_value(book: LoanBook, customer_id: str, as_of: dt.date | None = None) -> CustomerValue:
    """Lifetime value and standing of one customer, from every loan they hold with us."""
    day = as_of or book.today()
    with book.sessions() as s:
        loans = list(s.scalars(select(LoanRow).where(LoanRow.customer_id == customer_id)))
        if not loans:
            raise NotFound("未找到该客户的贷款", "no loans for this customer")
        ids = [x.id for x in loans]
        ledgers = book.load_ledgers(s, ids)
        states = {r.loan_id: r for r in s.scalars(select(LoanStateRow).where(LoanStateRow.loan_id.in_(ids)))}
    behaviours, levels, values = [], [], []
    for loan in loans:
        b = ledgers[loan.id].behaviour(day, loan.disbursed_on)
        state = states.get(loan.id)
        pd = state.score if state is not None and state.score is not None else DEFAULT_PD
        behaviours.append(b)
        levels.append(state.level if state is not None else 0)
        values.append(loan_value(loan, ledgers[loan.id], b, pd))
    good, why_zh, why_en = standing(behaviours, levels)
    realised = sum((v.realised_margin for v in values), Decimal(0))
    future = sum((v.future_margin for v in values), Decimal(0))
    loss = sum((v.expected_loss for v in values), Decimal(0))
    return CustomerValue(
        customer_id=customer_id, loans=len(loans),
        active_loans=sum(1 for b in behaviours if b.outstanding_principal or b.arrears),
        clv=fen(realised + future - loss), realised_margin=fen(realised), expected_future_margin=fen(future),
        expected_loss=fen(loss), good_standing=good, standing_reasons_zh=why_zh, standing_reasons_en=why_en,
        per_loan=values)


def top_customers(book: LoanBook, limit: int = 20, simulated: bool | None = None) -> list[dict[str, Any]]:
    """Customers ranked by an approximate lifetime value, aggregated in SQL over ``loan_state``.

    Same formula as :func:`customer_value` without the funding-cost terms (a ranking, not a price).
    """
    earned = LoanStateRow.paid_total_fen - (LoanRow.principal_fen - LoanStateRow.outstanding_principal_fen)
    pd = func.coalesce(LoanStateRow.score, DEFAULT_PD)
    future = LoanRow.total_interest_fen - earned
    exposure = LoanStateRow.outstanding_principal_fen + LoanStateRow.arrears_fen - 0.7 * func.coalesce(
        LoanRow.collateral_value_now_fen, LoanRow.collateral_value_fen)
    loss = case((exposure > 0, exposure), else_=0) * pd
    value = func.sum(earned + LoanRow.upfront_fees_fen + (1 - pd) * case((future > 0, future), else_=0) - loss)
    q = (select(LoanRow.customer_id, func.count().label("loans"), value.label("clv_fen"),
                func.max(LoanStateRow.level).label("max_level"), func.max(LoanStateRow.max_dpd_12m).label("max_dpd"))
         .join(LoanStateRow, LoanStateRow.loan_id == LoanRow.id)
         .group_by(LoanRow.customer_id).order_by(value.desc()).limit(limit))
    if simulated is not None:
        q = q.where(LoanRow.simulated == int(simulated))
    with book.sessions() as s:
        return [{"customer_id": cid, "loans": n, "clv": round(int(clv or 0) / 100, 2), "max_level": lvl,
                 "max_dpd_12m": dpd, "good_standing": (lvl or 0) == 0 and (dpd or 0) <= GRACE_DAYS}
                for cid, n, clv, lvl, dpd in s.execute(q)]


# --- offers --------------------------------------------------------------------------------------------
def _apr_text() -> str:
    return f"{APR_CONVENTION_ZH} / {APR_CONVENTION_EN}"


def settlement_terms(loan: LoanRow, led: Ledger, b: Behaviour,
                     product: FinanceProduct | None) -> tuple[int, Decimal, Decimal, Decimal, Decimal] | None:
    """Settling on the next due date: (period, amount due that day, penalty, interest saved, APR if settled).

    The penalty follows the product's early-repayment terms (free after 24 instalments, house rule);
    None if early settlement is not allowed yet.
    """
    if b.next_due_on is None or b.dpd > 0:
        return None
    k = b.periods_paid  # index of the next instalment to pay
    if k >= len(led.instalments):
        return None
    allowed_after = product.early_repayment.allowed_after_months if product else MIN_PAID_PERIODS
    if b.periods_paid < max(allowed_after, MIN_PAID_PERIODS):
        return None
    inst = led.instalments[k]
    balance_after = from_fen(inst.balance)
    rate = product.early_repayment.penalty_rate(b.periods_paid) if product else Decimal("0.01")
    if b.periods_paid >= 24:
        rate = Decimal(0)
    penalty = fen(balance_after * rate)
    due = from_fen(inst.amount) + balance_after + penalty
    saved = sum((from_fen(i.interest) for i in led.instalments[k + 1:]), Decimal(0))
    flows = [float(from_fen(i.amount)) for i in led.instalments[:k]] + [float(due)]
    received = float(from_fen(loan.principal_fen - loan.upfront_fees_fen))
    apr = Decimal(repr(round(monthly_irr(received, flows) * 12, 6)))
    return k + 1, due, penalty, saved, apr


def _new_car_product(catalogue: Catalogue, energy: str | None, grade: Grade) -> tuple[FinanceProduct, Decimal]:
    """The product a returning customer's new car would be financed with, and its rate for their grade."""
    for pid in (("nev_promo_loan",) if energy in ("bev", "phev", "nev") else ()) + ("bank_auto_loan",
                                                                                   "captive_finance_loan"):
        try:
            product = catalogue.product(pid)
        except NotFound:
            continue
        rate = product.rate_for(grade)
        if rate is not None:
            return product, rate
    product = catalogue.products[0]
    return product, min(product.rates.values())


def offers_for_loan(book: LoanBook, catalogue: Catalogue, loan_id: str, *, as_of: dt.date | None = None,
                    target_vehicle_price: Decimal | None = None) -> tuple[CustomerValue, list[RetentionOffer]]:
    """Retention offers around one loan (empty when the customer is not in good standing)."""
    day = as_of or book.today()
    loan = book.get_loan(loan_id)
    value = customer_value(book, loan.customer_id, day)
    if not value.good_standing:
        return value, []
    with book.sessions() as s:
        led = book.load_ledgers(s, [loan_id])[loan_id]
    b = led.behaviour(day, loan.disbursed_on)
    if b.outstanding_principal == 0:
        return value, [_referral(loan, catalogue, day)]
    try:
        product: FinanceProduct | None = catalogue.product(loan.product_id)
    except NotFound:
        product = None
    valid = day + dt.timedelta(days=OFFER_VALID_DAYS)
    offers: list[RetentionOffer] = []
    terms = settlement_terms(loan, led, b, product)
    contract_apr = ppm_to_rate(loan.apr_ppm)
    if terms is not None:
        period, due, penalty, saved, apr = terms
        fee_en = f" and a {penalty} yuan early-repayment fee" if penalty else ", no fee"
        offers.append(RetentionOffer(
            kind="early_settlement", loan_id=loan.id, title_zh="提前结清", title_en="early settlement",
            detail_zh=f"在第{period}期还款日（{b.next_due_on}）一次性结清，应付{due}元（含当期月供"
                      f"{'、违约金' + str(penalty) + '元' if penalty else '，免违约金'}），可少付利息{saved}元。"
                      f"合同年化利率{percent_str(contract_apr)}；按此结清，整笔贷款的实际年化利率为{percent_str(apr)}。",
            detail_en=f"Settle in full on instalment {period}'s due date ({b.next_due_on}): {due} yuan including "
                      f"that instalment{fee_en}; you save {saved} yuan of interest. Contract APR "
                      f"{percent_str(contract_apr)}; settled this way the whole loan costs an APR of "
                      f"{percent_str(apr)}.",
            amount=due, apr=apr, apr_percent=percent_str(apr), apr_convention=_apr_text(), valid_until=valid))
        offers.append(_repurchase(loan, catalogue, b, due - from_fen(led.instalments[period - 1].amount), valid,
                                  target_vehicle_price))
    offers.append(_referral(loan, catalogue, day))
    return value, offers


def _repurchase(loan: LoanRow, catalogue: Catalogue, b: Behaviour, payoff: Decimal, valid: dt.date,
                target: Decimal | None) -> RetentionOffer:
    """Trade the car in: its value minus what settles the old loan is the down payment on the new one."""
    grade = Grade(loan.grade) if loan.grade in {g.value for g in Grade} else Grade.C
    product, rate = _new_car_product(catalogue, loan.energy_type, grade)
    rate = max(Decimal(0), rate - LOYALTY_DISCOUNT)
    price = fen(target) if target else Decimal(int(from_fen(loan.vehicle_price_fen) * Decimal("1.1") / 1000) * 1000)
    trade_in = from_fen(loan.collateral_value_now_fen or loan.collateral_value_fen)
    equity = max(Decimal(0), trade_in - payoff)
    min_down = fen(price * product.min_down_payment_ratio)
    down = max(equity, min_down)
    cash_needed = max(Decimal(0), min_down - equity)
    principal = max(Decimal(0), price - down)
    term = product.nearest_term(loan.term_months)
    fees = product.upfront_fees(principal, term) if principal > 0 else Decimal(0)
    q = quote(principal, rate, term, method=product.method, rate_type=product.rate_type, upfront_fees=fees) \
        if principal > 0 else None
    if q is None:
        apr = Decimal(0)
        detail_zh = f"旧车估值{trade_in}元，结清旧贷后可抵新车全款{price}元，无需贷款。"
        detail_en = f"Your car's value ({trade_in}) covers the new car ({price}) after settling the old loan."
        return RetentionOffer(kind="repurchase", loan_id=loan.id, title_zh="置换新车",
                              title_en="trade in for a new car", detail_zh=detail_zh, detail_en=detail_en,
                              amount=price, apr=apr, apr_percent="0.00%", apr_convention=_apr_text(),
                              valid_until=valid)
    extra_zh = f"另需自付{cash_needed}元以满足最低首付；" if cash_needed else ""
    extra_en = f" You add {cash_needed} yuan to reach the minimum down payment." if cash_needed else ""
    return RetentionOffer(
        kind="repurchase", loan_id=loan.id, title_zh="老客户置换购车", title_en="returning-customer trade-in",
        detail_zh=f"旧车估值约{trade_in}元（以评估师确认为准），结清旧贷需{fen(payoff)}元，差额{fen(equity)}元可作新车首付；"
                  f"{extra_zh}新车{price}元，{product.name}贷款{q.principal}元、{term}期，老客户利率优惠"
                  f"{percent_str(LOYALTY_DISCOUNT)}，月供{q.monthly_payment}元，总利息{q.total_interest}元，"
                  f"年化利率{percent_str(q.apr)}。",
        detail_en=f"Your car is worth about {trade_in} yuan (to be confirmed by an appraiser); settling the old loan "
                  f"takes {fen(payoff)}, leaving {fen(equity)} towards the new car's down payment.{extra_en} New car "
                  f"{price} yuan: {product.name_en} of {q.principal} over {term} months with a returning-customer "
                  f"discount of {percent_str(LOYALTY_DISCOUNT)}: {q.monthly_payment} a month, total interest "
                  f"{q.total_interest}, APR {percent_str(q.apr)}.",
        amount=q.principal, term_months=term, **quote_figures(q, RetentionOffer.model_fields), valid_until=valid)


def _referral(loan: LoanRow, catalogue: Catalogue, day: dt.date) -> RetentionOffer:
    """Refer a friend: they get a rate discount (example priced in full), you get a reward per loan paid out."""
    product, rate = _new_car_product(catalogue, None, Grade.B)
    rate = max(Decimal(0), rate - REFERRAL_DISCOUNT)
    example = Decimal(100_000)
    term = product.nearest_term(36)
    q = quote(example, rate, term, method=product.method, rate_type=product.rate_type,
              upfront_fees=product.upfront_fees(example, term))
    return RetentionOffer(
        kind="referral", loan_id=loan.id, title_zh="推荐好友", title_en="refer a friend",
        detail_zh=f"好友通过您的推荐办理车贷并放款后，您可获得{REFERRAL_REWARD}元奖励；好友可享利率优惠"
                  f"{percent_str(REFERRAL_DISCOUNT)}。示例：{product.name}贷款10万元、{term}期，月供{q.monthly_payment}元，"
                  f"总利息{q.total_interest}元，年化利率{percent_str(q.apr)}（以审批结果为准）。",
        detail_en=f"When a friend you refer takes out a car loan and it is paid out, you receive {REFERRAL_REWARD} "
                  f"yuan; your friend gets {percent_str(REFERRAL_DISCOUNT)} off the rate. Example: {product.name_en}, "
                  f"100,000 yuan over {term} months: {q.monthly_payment} a month, total interest {q.total_interest}, "
                  f"APR {percent_str(q.apr)} (subject to approval).",
        amount=REFERRAL_REWARD, term_months=term, **quote_figures(q, RetentionOffer.model_fields),
        valid_until=day + dt.timedelta(days=OFFER_VALID_DAYS))
