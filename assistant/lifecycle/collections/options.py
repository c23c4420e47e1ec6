"""What a customer in arrears can do (priced by the money core), and the real consequences of not paying."""

from __future__ import annotations

from decimal import Decimal

from assistant.domain.apr import apr_irr
from assistant.domain.money import fen, from_fen, percent_str
from assistant.domain.quote import MAX_TERM_MONTHS, quote
from assistant.lifecycle.book import ppm_to_rate
from assistant.lifecycle.collections.messages import HOTLINE
from assistant.lifecycle.collections.models import RepaymentOption
from assistant.lifecycle.ledger import GRACE_DAYS, Behaviour
from assistant.storage.loans import LoanRow

PENALTY_MULTIPLIER = Decimal("1.5")  # overdue-consequences.md: penalty interest at 1.5× the contract rate
USED_CAR_MAX_TERM = 36


def contract_rate(loan: LoanRow) -> Decimal:
    """The rate a restructured plan is priced at: the nominal rate, or the true APR for flat-rate contracts."""
    return ppm_to_rate(loan.annual_rate_ppm) if loan.rate_type == "nominal" else ppm_to_rate(loan.apr_ppm)


def repayment_options(loan: LoanRow, b: Behaviour) -> list[RepaymentOption]:
    """Pay the arrears now, extend the term (展期), or defer three months (延期) — each with its APR."""
    rate = contract_rate(loan)
    options: list[RepaymentOption] = []
    arrears = from_fen(b.arrears)
    if b.arrears:
        options.append(RepaymentOption(
            kind="pay_now", title_zh="尽快还清逾期款", title_en="pay the arrears now",
            detail_zh=f"还清逾期的{arrears}元即可停止产生罚息；宽限期（还款日后3天）内还清不报送征信。",
            detail_en=f"Paying the {arrears} yuan overdue stops penalty interest; within the 3-day grace period "
                      "nothing is reported."))
    balance = from_fen(b.outstanding_principal) + arrears
    remaining = max(1, loan.term_months - b.periods_due)
    cap = USED_CAR_MAX_TERM if loan.vehicle_condition == "used" else MAX_TERM_MONTHS
    extra = min(12, cap - (b.months_on_book + remaining))
    if balance > 0 and extra >= 3:
        q = quote(fen(balance), rate, remaining + extra)
        options.append(RepaymentOption(
            kind="extension", title_zh=f"展期：延长{extra}个月、降低月供", title_en=f"extension: {extra} more months, "
                                                                                "lower payments",
            detail_zh=f"剩余本金连同逾期款{fen(balance)}元按{remaining + extra}期重新分期，月供约{q.monthly_payment}元"
                      f"（原月供{from_fen(loan.monthly_payment_fen)}元），总利息{q.total_interest}元，年化利率{percent_str(q.apr)}。"
                      "展期须在贷款到期前申请并经审核。",
            detail_en=f"The {fen(balance)} yuan left (arrears included) re-spread over {remaining + extra} months: "
                      f"about {q.monthly_payment} yuan a month (was {from_fen(loan.monthly_payment_fen)}), total "
                      f"interest {q.total_interest}, APR {percent_str(q.apr)}. Apply before the loan matures; "
                      "subject to review.",
            monthly_payment=q.monthly_payment, term_months=q.term_months, total_interest=q.total_interest, apr=q.apr,
            apr_percent=percent_str(q.apr)))
    if balance > 0 and remaining >= 3:
        options.append(_deferral(balance, rate, remaining))
    options.append(RepaymentOption(
        kind="hardship_application", title_zh="申请还款帮扶（重组/减免罚息）", title_en="apply for hardship help",
        detail_zh=f"因失业、疾病等原因暂时无法还款的，可在App“还款帮扶”或致电{HOTLINE}申请，准备困难证明；"
                  "审核期间（最长15个工作日）暂停催收，帮扶不收费。",
        detail_en=f"If job loss, illness or similar stops you paying, apply in the app or on {HOTLINE} with proof of "
                  "hardship; collection pauses during review (up to 15 working days); there is no fee."))
    return options


def _deferral(balance: Decimal, rate: Decimal, remaining: int) -> RepaymentOption:
    """Three months of interest only, then the balance re-spread over the remaining term (APR by IRR)."""
    months = 3
    interest_only = fen(balance * rate / 12)
    rest = quote(fen(balance), rate, remaining)
    flows = [interest_only] * months + [row.payment for row in rest.schedule]
    apr = apr_irr(fen(balance), flows)
    total_interest = interest_only * months + rest.total_interest
    return RepaymentOption(
        kind="deferral", title_zh="延期还款：3个月只付利息", title_en="deferral: 3 months of interest only",
        detail_zh=f"未来3个月每月只付利息约{interest_only}元，之后按{remaining}期每月约{rest.monthly_payment}元还款；"
                  f"延期期间利息照常计算，总利息约{total_interest}元，年化利率{percent_str(apr)}。",
        detail_en=f"Interest only, about {interest_only} yuan a month for 3 months, then about {rest.monthly_payment} "
                  f"yuan over {remaining} months; interest keeps running, total about {total_interest}, APR "
                  f"{percent_str(apr)}.",
        monthly_payment=interest_only, term_months=months + remaining, total_interest=total_interest, apr=apr,
        apr_percent=percent_str(apr))


def consequences(b: Behaviour, loan: LoanRow | None, lang: str = "zh") -> list[str]:
    """The real consequences at this point — facts, not threats (overdue-consequences.md, credit-reporting.md)."""
    return consequences_for(b.dpd, b.arrears, loan, lang)


def consequences_for(dpd: int, arrears_fen: int, loan: LoanRow | None, lang: str = "zh") -> list[str]:
    """Consequences for ``dpd`` days past due (penalty estimate when the loan and its arrears are known)."""
    zh, en = [], []
    if dpd <= 0:
        zh.append("按时还款会在征信上形成良好记录。")
        en.append("Paying on time builds a good credit record.")
    elif dpd <= GRACE_DAYS:
        zh.append(f"您仍在3天宽限期内（已过还款日{dpd}天）：宽限期内还清不收罚息，也不会作为逾期报送征信。")
        en.append(f"You are within the 3-day grace period ({dpd} days after the due date): pay by then and there is "
                  "no penalty and nothing is reported.")
    else:
        penalty = penalty_en = ""
        if loan is not None and arrears_fen:
            amount = fen(from_fen(arrears_fen) * contract_rate(loan) * PENALTY_MULTIPLIER / 360 * dpd)
            penalty, penalty_en = f"目前罚息约{amount}元；", f" Penalty interest so far is about {amount} yuan."
        zh.append(f"已逾期{dpd}天：逾期部分按合同利率的1.5倍按日计收罚息（{penalty}越早还清越少）。")
        en.append(f"{dpd} days overdue: penalty interest at 1.5× the contract rate accrues daily on the overdue "
                  f"amount.{penalty_en}")
        zh.append("逾期信息会如实报送人民银行征信系统，还清后不良记录仍保留5年，会影响今后申请房贷、车贷和信用卡。")
        en.append("The arrears are reported to the PBoC credit bureau; the record stays 5 years after it is cleared "
                  "and affects future mortgages, car loans and credit cards.")
        if dpd > 60:
            zh.append("连续逾期超过3期（或累计6期）的，按合同本公司有权宣布贷款提前到期、要求一次性还清，"
                      "并依法处置抵押车辆；处置前会书面通知您。")
            en.append("After more than 3 consecutive (or 6 in total) missed instalments the contract lets us "
                      "declare the whole loan due and, as the law allows, sell the mortgaged car — always after "
                      "written notice.")
    return zh if lang == "zh" else en
