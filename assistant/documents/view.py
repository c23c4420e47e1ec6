"""What a template sees: formatted strings taken from one :class:`~assistant.domain.quote.Quote`.

Templates never compute: every amount, rate and date they print is a string built here from the quote,
the resolved product terms and the application, and user-supplied text is escaped for Markdown.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from assistant.documents.amounts import add_months, date_en, date_zh, percent, rmb_upper
from assistant.documents.application import Application
from assistant.documents.terms import HouseTerms, ProductTerms
from assistant.domain.catalogue import ProductKind
from assistant.domain.money import ZERO, percent_str, yuan_str
from assistant.domain.quote import Quote
from assistant.domain.regulation import Condition
from assistant.domain.schedule import Method, RateType

BLANK = "＿＿＿＿＿＿＿＿"  # full-width low lines: a blank to fill in at signing (not Markdown emphasis)
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#{}])")
_SPACE = re.compile(r"\s+")
LATEST_DUE_DAY = 28  # due days stay in 1–28 so every month has one


def md_escape(text: str) -> str:
    """Plain text made inert in Markdown (and in the HTML made from it): one line, specials escaped."""
    return _MD_SPECIAL.sub(r"\\\1", _SPACE.sub(" ", text).strip())


def _text(value: str | None) -> str:
    return md_escape(value) if value else BLANK


def first_due_date(app: Application, signing: dt.date) -> dt.date:
    """The first instalment date: as given, else one month after signing on a day no later than the 28th."""
    if app.first_due_date is not None:
        return app.first_due_date
    due = add_months(signing, 1)
    return due.replace(day=min(due.day, LATEST_DUE_DAY))


_METHOD_ZH = {Method.EQUAL_INSTALLMENT: "等额本息", Method.EQUAL_PRINCIPAL: "等额本金"}
_METHOD_EN = {Method.EQUAL_INSTALLMENT: "equal monthly instalments (annuity)",
              Method.EQUAL_PRINCIPAL: "equal principal repayments (declining instalments)"}
_CONDITION_ZH = {Condition.NEW: "新车", Condition.USED: "二手车"}
_ENERGY_ZH = {"ice": "燃油", "bev": "纯电动", "phev": "插电式混合动力/增程", "hev": "油电混合动力", "nev": "新能源"}


def _words(kind: ProductKind) -> dict[str, str]:
    """Legal vocabulary: a lease has a lessor, a lessee, rent and lease interest; a loan does not."""
    if kind in (ProductKind.LEASE_DIRECT, ProductKind.LEASE_BACK):
        title = "汽车融资租赁合同（直租）" if kind is ProductKind.LEASE_DIRECT else "汽车融资租赁合同（售后回租）"
        return {"title": title, "contract": "融资租赁合同", "lender": "出租人", "borrower": "承租人",
                "principal": "融资金额", "payment": "租金", "interest": "租息", "cost": "融资总成本",
                "lender_en": "Lessor", "borrower_en": "Lessee", "principal_en": "Amount financed",
                "payment_en": "rent", "contract_en": "finance lease contract"}
    title = "汽车抵押借款合同" if kind is ProductKind.TITLE_LOAN else "个人汽车贷款借款合同"
    return {"title": title, "contract": "借款合同", "lender": "贷款人", "borrower": "借款人",
            "principal": "借款金额", "payment": "月供", "interest": "利息", "cost": "借款总成本",
            "lender_en": "Lender", "borrower_en": "Borrower", "principal_en": "Loan amount",
            "payment_en": "monthly payment", "contract_en": "loan contract"}


def _early(terms: ProductTerms, house: HouseTerms) -> dict[str, Any]:
    early = terms.early_repayment
    steps = sorted(early.penalties, key=lambda s: s.within_months)
    penalties = [{"within_months": str(s.within_months), "rate": percent(s.rate)} for s in steps if s.rate > 0]
    free_after = str(steps[-1].within_months) if penalties else None
    return {
        "allowed_after_months": str(early.allowed_after_months),
        "penalties": penalties,
        "free_after_months": free_after,
        "no_penalty": not penalties,
        "notes_zh": md_escape(early.notes_zh) if early.notes_zh else "",
        "notes_en": md_escape(early.notes_en) if early.notes_en else "",
        "notice_working_days": str(house.early_repayment.notice_working_days),
        "min_partial_amount": yuan_str(house.early_repayment.min_partial_amount),
        "max_partial_times": str(house.early_repayment.max_partial_times),
    }


def _house(house: HouseTerms) -> dict[str, Any]:
    return {
        "hotline": house.lender.hotline,
        "service_hours": house.lender.service_hours,
        "regulator_hotline": house.regulator_hotline,
        "pboc_hotline": house.pboc_hotline,
        "complaint_ack_working_days": str(house.complaint_ack_working_days),
        "complaint_answer_working_days": str(house.complaint_answer_working_days),
        "grace_days": str(house.grace_days),
        "penalty_multiple": format(house.overdue_penalty_multiple.normalize(), "f"),
        "day_count_basis": str(house.day_count_basis),
        "acceleration_consecutive": str(house.acceleration_consecutive),
        "acceleration_cumulative": str(house.acceleration_cumulative),
        "credit_record_years": str(house.credit_record_years),
        "withdraw_before_disbursement": house.withdraw_before_disbursement,
        "gps_data_retention_days": str(house.gps_data_retention_days),
        "mortgage_registration_working_days": str(house.mortgage_registration_working_days),
        "settlement_certificate_working_days": str(house.settlement_certificate_working_days),
        "mortgage_release_working_days": str(house.mortgage_release_working_days),
        "third_party_liability_min": yuan_str(house.third_party_liability_min),
        "third_party_liability_wan": format((house.third_party_liability_min / 10000).normalize(), "f"),
        "first_beneficiary_threshold": yuan_str(house.first_beneficiary_threshold),
        "privacy_answer_working_days": str(house.privacy_answer_working_days),
        "unapproved_data_retention_years": str(house.unapproved_data_retention_years),
        "max_apr_note": house.max_apr_note,
        "version": house.version,
    }


def build_view(
    q: Quote,
    app: Application,
    terms: ProductTerms,
    house: HouseTerms,
    *,
    number: str,
    signing: dt.date,
) -> dict[str, Any]:
    """The template context for every kind: formatted strings only (plus a few booleans)."""
    first_due = first_due_date(app, signing)
    flat = q.rate_type is RateType.FLAT
    payments = {row.payment for row in q.schedule}
    schedule = [
        {
            "period": str(row.period),
            "due_date": add_months(first_due, row.period - 1).isoformat(),
            "payment": yuan_str(row.payment),
            "principal": yuan_str(row.principal),
            "interest": yuan_str(row.interest),
            "balance": yuan_str(row.balance),
        }
        for row in q.schedule
    ]
    words = _words(terms.kind)
    # A catalogue names only the kind of lender (合作商业银行): a blank to fill, with that as a hint.
    lender_name = md_escape(terms.lender_name) if terms.lender_name else (
        f"{BLANK}（{md_escape(terms.provider_zh)}）" if terms.provider_zh else BLANK)
    lender_name_en = md_escape(terms.lender_name) if terms.lender_name else (
        f"{BLANK} ({md_escape(terms.provider_en)})" if terms.provider_en else BLANK)
    vehicle = app.vehicle
    borrower = app.borrower
    loan = {
        "principal": yuan_str(q.principal),
        "principal_upper": rmb_upper(q.principal),
        "annual_rate": percent(q.annual_rate),
        "rate_label": "年费率" if flat else "年利率",
        "rate_label_en": "flat annual rate" if flat else "nominal annual rate",
        "flat": flat,
        "zero_rate": q.annual_rate == ZERO,  # "0息" offers: the cost is all in the fees
        "apr": percent_str(q.apr),
        "apr_convention_zh": q.apr_convention_zh,
        "apr_convention_en": q.apr_convention_en,
        "term": str(q.term_months),
        "method_zh": "按月等额还款（费率按原始本金计收）" if flat else _METHOD_ZH[q.method],
        "method_en": "equal monthly instalments, flat rate charged on the original principal" if flat
        else _METHOD_EN[q.method],
        "level": len(payments) <= 2,  # a level plan differs at most in the last row (rounding)
        "first_payment": yuan_str(q.schedule[0].payment),
        "last_payment": yuan_str(q.schedule[-1].payment),
        "monthly_payment": yuan_str(q.monthly_payment),
        "total_interest": yuan_str(q.total_interest),
        "total_paid": yuan_str(q.total_paid),
        "total_paid_upper": rmb_upper(q.total_paid),
        "total_cost": yuan_str(q.total_cost_of_credit),
        "upfront_fees": yuan_str(q.upfront_fees),
        "has_fees": q.upfront_fees > ZERO,
        "net_received": yuan_str(q.net_received),
        "first_due_date": date_zh(first_due),
        "first_due_date_en": date_en(first_due),
        "last_due_date": date_zh(add_months(first_due, q.term_months - 1)),
        "last_due_date_en": date_en(add_months(first_due, q.term_months - 1)),
        "due_day": str(first_due.day),
        "down_payment": yuan_str(app.down_payment) if app.down_payment is not None else None,
    }
    return {
        "doc": {"number": number, "date": date_zh(signing), "date_en": date_en(signing),
                "preview": app.is_preview},
        "words": words,
        "loan": loan,
        "fees": [{"name": md_escape(f.name_zh), "name_en": md_escape(f.name_en), "amount": yuan_str(f.amount)}
                 for f in terms.fees],
        "schedule": schedule,
        "totals": {"payment": yuan_str(q.total_paid), "principal": yuan_str(q.principal),
                   "interest": yuan_str(q.total_interest)},
        "lender": {
            "name": lender_name,
            "name_en": lender_name_en,
            "address": _text(app.lender.address if app.lender else None),
            "credit_code": _text(app.lender.credit_code if app.lender else None),
            "hotline": md_escape(app.lender.hotline) if app.lender and app.lender.hotline else house.lender.hotline,
        },
        "borrower": {
            "present": borrower is not None,
            "name": _text(borrower.name if borrower else None),
            "id_number": _text(borrower.id_number if borrower else None),
            "phone": _text(borrower.phone if borrower else None),
            "address": _text(borrower.address if borrower else None),
        },
        "vehicle": {
            "present": vehicle is not None,
            "brand": _text(vehicle.brand if vehicle else None),
            "series": _text(vehicle.series if vehicle else None),
            "price": yuan_str(vehicle.price) if vehicle else BLANK,
            "price_upper": rmb_upper(vehicle.price) if vehicle else BLANK,
            "vin": _text(vehicle.vin if vehicle else None),
            "plate_number": _text(vehicle.plate_number if vehicle else None),
            "condition": _CONDITION_ZH[vehicle.condition] if vehicle else BLANK,
            "energy": _ENERGY_ZH.get(vehicle.energy_type, md_escape(vehicle.energy_type)) if vehicle else BLANK,
        },
        "product": {
            "id": md_escape(terms.product_id) if terms.product_id else "",
            "name": md_escape(terms.name_zh),
            "name_en": md_escape(terms.name_en),
            "kind": terms.kind.value,
            "is_loan": terms.kind is ProductKind.LOAN,
            "is_title_loan": terms.kind is ProductKind.TITLE_LOAN,
            "is_lease": terms.is_lease,
            "is_direct_lease": terms.kind is ProductKind.LEASE_DIRECT,
            "is_leaseback": terms.kind is ProductKind.LEASE_BACK,
            "mortgage": terms.kind in (ProductKind.LOAN, ProductKind.TITLE_LOAN),
            "gps": terms.gps_required,
            "cooling_off_days": str(terms.cooling_off_days) if terms.cooling_off_days else None,
            "ownership_zh": md_escape(terms.ownership_zh) if terms.ownership_zh else "",
            "ownership_en": md_escape(terms.ownership_en) if terms.ownership_en else "",
            "notes_zh": [md_escape(n) for n in terms.notes_zh],
            "residual_price": yuan_str(terms.residual_price) if terms.residual_price is not None else None,
            "residual_upper": rmb_upper(terms.residual_price) if terms.residual_price is not None else None,
            "purpose": md_escape(app.purpose) if app.purpose else "",
            "early": _early(terms, house),
        },
        "house": _house(house),
    }


def required_figures(view: dict[str, Any], kind: str) -> dict[str, str]:
    """The figures each kind must show, as rendered strings (checked in the output before issuing)."""
    loan = view["loan"]
    core = {"principal": loan["principal"], "apr": loan["apr"], "total_interest": loan["total_interest"],
            "total_paid": loan["total_paid"], "first_payment": loan["first_payment"]}
    if kind == "loan_contract":
        return {**core, "principal_upper": loan["principal_upper"], "annual_rate": loan["annual_rate"],
                "upfront_fees": loan["upfront_fees"]}
    if kind == "risk_disclosure":
        return {**core, "total_cost": loan["total_cost"], "upfront_fees": loan["upfront_fees"],
                "net_received": loan["net_received"]}
    if kind == "repayment_schedule":
        return core
    return {}


def as_decimal(text: str) -> Decimal:
    """'1,234.56' -> Decimal('1234.56') (for re-reading rendered tables)."""
    return Decimal(text.replace(",", ""))
