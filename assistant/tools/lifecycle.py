"""Agent tools for the loan after it is paid out: status / next payment, collection options, retention offers.

Who may see what: a customer's chat (channels ``app``, ``web``, ``wechat``, ``rasa``) sees only the loans
of the customer the session was linked to at app login (``services.loans.link_session``); staff channels
(``copilot``, ``staff``, ``cli``, ``dashboard``) name any loan by ``loan_id``. Money is yuan; rates are
fractions (0.045); every price carries its APR.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, Field

from assistant.domain.limits import Int, PriceYuan
from assistant.domain.money import Money
from assistant.errors import AssistantError
from assistant.lifecycle.book import STAFF_CHANNELS, LoanStatus
from assistant.lifecycle.collections import (
    HOTLINE,
    CollectionDesk,
    PayerProfile,
    PlannedAction,
    RepaymentOption,
    Segment,
    consequences_for,
)
from assistant.lifecycle.ledger import GRACE_DAYS, bucket_of
from assistant.lifecycle.retention import CustomerValue, RetentionOffer, offers_for_loan
from assistant.tools.registry import REGISTRY, ToolContext

_HARDSHIP = re.compile(r"失业|裁员|没工作|生病|住院|手术|生意|倒闭|降薪|收入|lost my job|laid off|hospital|income")


def _is_staff(ctx: ToolContext) -> bool:
    return ctx.channel in STAFF_CHANNELS


# --- loan status ---------------------------------------------------------------------------------------
class LoanStatusIn(BaseModel):
    """Which loan (customers: omit it to get their latest loan)."""

    loan_id: str | None = Field(default=None, max_length=40, description="贷款编号, e.g. L20260315A1B2C3D4")


class LoanStatusOut(LoanStatus):
    """The loan's position plus a one-paragraph summary to read out."""

    summary_zh: str
    summary_en: str
    warning_reasons: list[dict[str, object]] | None = Field(
        default=None, description="staff only: the latest early-warning reasons (code, level, zh, en)")


@REGISTRY.register("loan_status")
def loan_status(ctx: ToolContext, args: LoanStatusIn) -> LoanStatusOut:
    """Where a customer's car loan stands after it was paid out: next payment date and amount, instalments
    paid, outstanding principal, whether anything is overdue (days past due, arrears, still within the 3-day
    grace period) and the contract APR. Use it for 下期还多少 / 什么时候扣款 / 还剩多少本金 / 我逾期了吗.
    A customer's chat must be logged in (linked to the customer); staff pass ``loan_id``. Money in yuan."""
    book = ctx.services.loans
    loan_id = book.resolve_loan(args.loan_id, session_id=ctx.session_id, channel=ctx.channel)
    st = book.status(loan_id)
    if st.status == "settled":
        zh = f"贷款{st.loan_id}已全部结清，共还款{st.paid_total}元。"
        en = f"Loan {st.loan_id} is fully repaid ({st.paid_total} yuan in total)."
    else:
        zh = (f"贷款{st.loan_id}已还{st.periods_paid}/{st.term_months}期，剩余本金{st.outstanding_principal}元"
              f"（合同年化利率{st.apr_percent}）。")
        en = (f"Loan {st.loan_id}: {st.periods_paid} of {st.term_months} instalments paid, "
              f"{st.outstanding_principal} yuan principal outstanding (contract APR {st.apr_percent}).")
        if st.dpd > 0:
            grace = "，仍在3天宽限期内，宽限期内还清不计罚息、不报送征信" if st.in_grace else ""
            zh += f"目前有{st.arrears}元已过还款日{st.dpd}天{grace}。"
            en += f" {st.arrears} yuan is {st.dpd} days past due" + (
                " — still within the 3-day grace period: no penalty, nothing reported." if st.in_grace else ".")
        if st.next_due_on is not None:
            zh += f"下一期还款日{st.next_due_on}，截至当日应还{st.next_due_amount}元。"
            en += f" Next due date {st.next_due_on}: {st.next_due_amount} yuan to pay by then."
    reasons = book.latest_warning(loan_id) if _is_staff(ctx) else None
    return LoanStatusOut(**st.model_dump(), summary_zh=zh, summary_en=en, warning_reasons=reasons)


# --- collection options (the chat's repayment-trouble flow) ----------------------------------------------
class CollectionOptionsIn(BaseModel):
    """The overdue / struggling customer's situation."""

    loan_id: str | None = Field(default=None, max_length=40, description="贷款编号 (staff; customers: omit)")
    overdue_days: Int | None = Field(default=None, ge=0, le=3650,
                                     description="days overdue as the customer said (slot overdue_days), used "
                                                 "when no loan is linked to the chat")
    message: str | None = Field(default=None, max_length=2000,
                                description="the customer's own words (for willingness / ability signals)")


class StaffCollectionView(BaseModel):
    """For the agent / copilot only: the segment and the conduct-checked contact plan."""

    profile: PayerProfile
    actions: list[PlannedAction]
    hardship_pause: bool


class CollectionOptionsOut(BaseModel):
    """Empathy, options with their real cost, and the real consequences for credit reporting."""

    loan_id: str | None
    overdue_days: int | None
    bucket: str | None
    in_grace: bool
    arrears: Money | None
    empathy_zh: str
    empathy_en: str
    consequences_zh: list[str]
    consequences_en: list[str]
    options: list[RepaymentOption]
    next_steps_zh: str
    next_steps_en: str
    conduct_zh: str
    conduct_en: str
    handoff_recommended: bool
    staff: StaffCollectionView | None = None


_CONDUCT_ZH = ("我们只会在8:00–21:00联系您本人，每天电话不超过3次，不会向您的亲友、同事或单位透露欠款，"
               "也不会有任何威胁。")
_CONDUCT_EN = ("We contact only you, only between 08:00 and 21:00, at most 3 calls a day; we never tell relatives, "
               "colleagues or your employer about the debt, and never threaten.")


@REGISTRY.register("collection_options")
def collection_options(ctx: ToolContext, args: CollectionOptionsIn) -> CollectionOptionsOut:
    """For a customer who cannot pay or is overdue (还不上 / 逾期了 / 能不能延期 / 失业了还不了款): an empathetic
    opening, the options open to them priced by the money core with their APR (pay the arrears, extension
    展期, 3-month deferral 延期, hardship application), and the REAL consequences for penalty interest and
    credit reporting (3-day grace, 1.5× penalty rate, reporting kept 5 years). Pass the customer's own words
    in ``message``. With no loan linked to the chat, pass ``overdue_days`` from the conversation. Never
    promise that a record will be removed or that a plan will be approved. Money in yuan."""
    book = ctx.services.loans
    loan_id: str | None = None
    try:
        loan_id = book.resolve_loan(args.loan_id, session_id=ctx.session_id, channel=ctx.channel)
    except AssistantError:
        if _is_staff(ctx) and args.loan_id:
            raise
    hardship = bool(args.message and _HARDSHIP.search(args.message))
    empathy_zh = "理解您现在的难处，别着急，您主动来沟通就是最好的第一步，我们一起想办法。"
    empathy_en = ("I'm sorry things are hard right now — reaching out is the best first step; "
                  "let's work it out together.")
    if hardship:
        empathy_zh = "遇到收入或身体方面的变故确实不容易，" + empathy_zh
        empathy_en = "Losing income or facing illness is genuinely hard. " + empathy_en
    if loan_id is None:
        days = args.overdue_days or 0
        options = [RepaymentOption(
            kind="hardship_application", title_zh="申请还款帮扶（延期/展期/重组）", title_en="apply for hardship help",
            detail_zh=f"登录App后可查看按您贷款计算的方案；也可致电{HOTLINE}申请，审核期间暂停催收，帮扶不收费。",
            detail_en=f"Log in to the app to see options priced for your loan, or call {HOTLINE}; collection pauses "
                      "during review and there is no fee.")]
        return CollectionOptionsOut(
            loan_id=None, overdue_days=args.overdue_days, bucket=bucket_of(days) if args.overdue_days is not None
            else None, in_grace=0 < days <= GRACE_DAYS, arrears=None, empathy_zh=empathy_zh, empathy_en=empathy_en,
            consequences_zh=consequences_for(days, 0, None, "zh"),
            consequences_en=consequences_for(days, 0, None, "en"),
            options=options, next_steps_zh="登录App查看您的贷款和可选方案，或拨打" + HOTLINE + "由专员协助。",
            next_steps_en=f"Log in to the app to see your loan and options, or call {HOTLINE} for a specialist.",
            conduct_zh=_CONDUCT_ZH, conduct_en=_CONDUCT_EN, handoff_recommended=days > 30 or hardship)
    plan = CollectionDesk(book).plan(loan_id, conversation=args.message)
    unable = plan.profile.segment in (Segment.WILLING_UNABLE, Segment.UNWILLING_UNABLE)
    handoff = plan.dpd > 30 or unable or plan.hardship_pause
    if unable:
        steps_zh = f"建议申请还款帮扶：在App“还款帮扶”提交申请并上传困难证明，或致电{HOTLINE}；我也可以为您转接专员。"
        steps_en = (f"Apply for hardship help in the app with proof of hardship, or call {HOTLINE}; "
                    "I can also connect you.")
    elif plan.arrears:
        steps_zh = f"尽快还上逾期的{plan.arrears}元（App“立即还款”或存入还款卡）；如需分期补还可联系{HOTLINE}。"
        steps_en = (f"Pay the {plan.arrears} yuan overdue as soon as you can (app or repayment card); "
                    f"call {HOTLINE} to spread it.")
    else:
        steps_zh = "目前没有逾期。如预计下期还款有困难，请在还款日前申请调整，可避免产生逾期记录。"
        steps_en = "Nothing is overdue. If the next payment will be hard, apply before the due date to avoid arrears."
    return CollectionOptionsOut(
        loan_id=loan_id, overdue_days=plan.dpd, bucket=plan.bucket, in_grace=plan.in_grace, arrears=plan.arrears,
        empathy_zh=empathy_zh, empathy_en=empathy_en, consequences_zh=plan.consequences_zh,
        consequences_en=plan.consequences_en, options=plan.options, next_steps_zh=steps_zh, next_steps_en=steps_en,
        conduct_zh=_CONDUCT_ZH, conduct_en=_CONDUCT_EN, handoff_recommended=handoff,
        staff=StaffCollectionView(profile=plan.profile, actions=plan.actions, hardship_pause=plan.hardship_pause)
        if _is_staff(ctx) else None)


# --- retention ------------------------------------------------------------------------------------------
class RetentionOffersIn(BaseModel):
    """Whose offers, and (optionally) the price of the car they have in mind."""

    loan_id: str | None = Field(default=None, max_length=40, description="贷款编号 (staff; customers: omit)")
    target_vehicle_price: PriceYuan | None = Field(default=None,
                                                 description="price of the next car in yuan, for a trade-in offer")


class RetentionOffersOut(BaseModel):
    """Offers (each with APR) for a customer in good standing, or why there are none."""

    loan_id: str
    good_standing: bool
    reasons_zh: list[str]
    reasons_en: list[str]
    offers: list[RetentionOffer]
    customer_value: CustomerValue | None = None
    as_of: dt.date


@REGISTRY.register("retention_offers")
def retention_offers(ctx: ToolContext, args: RetentionOffersIn) -> RetentionOffersOut:
    """Offers for an existing customer in good standing: early settlement (amount due, fee, interest saved,
    and the APR the loan ends up costing), trade-in for a new car (old car's value as down payment, new loan
    with a returning-customer discount, monthly payment and APR), and refer-a-friend (reward, friend's
    example quote with APR). Use when a customer asks about 提前还款 / 换车 / 置换 / 推荐朋友. Customers with
    arrears or a warning get no marketing offers (the reasons say why). Money in yuan."""
    book = ctx.services.loans
    loan_id = book.resolve_loan(args.loan_id, session_id=ctx.session_id, channel=ctx.channel)
    catalogue = ctx.services.catalogue
    value, offers = offers_for_loan(book, catalogue, loan_id, target_vehicle_price=args.target_vehicle_price)
    return RetentionOffersOut(
        loan_id=loan_id, good_standing=value.good_standing, reasons_zh=value.standing_reasons_zh,
        reasons_en=value.standing_reasons_en, offers=offers, customer_value=value if _is_staff(ctx) else None,
        as_of=book.today())

