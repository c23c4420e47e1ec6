"""The product terms a document states: from the application, else the product catalogue, else house rules.

Precedence per term: what the application says explicitly, then the finance product
(``services.catalogue.product(id)``, a :class:`~assistant.domain.catalogue.FinanceProduct`), then the
house terms in ``contract_templates/house_terms.yaml``. The result also fixes the quote request, so the
fees in the contract are exactly the fees in the APR.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from assistant.documents.application import Application
from assistant.domain.catalogue import EarlyRepayment, FinanceProduct, PenaltyStep, ProductKind
from assistant.domain.money import ZERO, fen
from assistant.domain.quote import QuoteRequest
from assistant.domain.regulation import USED_CAR_LTV_CAP, Condition, LenderCaps, LoanProposal, check_loan
from assistant.domain.schedule import Method, RateType
from assistant.errors import InvalidInput, RuleViolation


class HouseLender(BaseModel):
    """Lender details used when nothing else names them."""

    model_config = ConfigDict(frozen=True)

    name: str | None = None
    hotline: str
    service_hours: str


class HouseEarlyRepayment(BaseModel):
    """Default early-repayment rules (standard new-car loan)."""

    model_config = ConfigDict(frozen=True)

    allowed_after_months: int
    penalties: list[PenaltyStep]
    notice_working_days: int
    min_partial_amount: Decimal
    max_partial_times: int


class HouseTerms(BaseModel):
    """``contract_templates/house_terms.yaml``: company rules the documents restate."""

    model_config = ConfigDict(frozen=True)

    version: str
    lender: HouseLender
    regulator_hotline: str
    pboc_hotline: str
    complaint_ack_working_days: int
    complaint_answer_working_days: int
    grace_days: int
    overdue_penalty_multiple: Decimal
    day_count_basis: int
    acceleration_consecutive: int
    acceleration_cumulative: int
    credit_record_years: int
    early_repayment: HouseEarlyRepayment
    cooling_off_days: int
    withdraw_before_disbursement: bool
    gps_kinds: list[ProductKind]
    gps_data_retention_days: int
    mortgage_registration_working_days: int
    settlement_certificate_working_days: int
    mortgage_release_working_days: int
    third_party_liability_min: Decimal
    first_beneficiary_threshold: Decimal
    residual_price: dict[ProductKind, Decimal]
    privacy_answer_working_days: int
    unapproved_data_retention_years: int
    max_apr_note: str


class FeeLine(BaseModel):
    """One up-front fee as it appears in the documents."""

    model_config = ConfigDict(frozen=True)

    name_zh: str
    name_en: str
    amount: Decimal


class ProductTerms(BaseModel):
    """Everything product-specific a document states."""

    model_config = ConfigDict(frozen=True)

    product_id: str | None = None
    name_zh: str
    name_en: str
    kind: ProductKind
    lender_name: str | None = None
    provider_zh: str | None = None  # the catalogue's kind of lender (合作商业银行…), a hint beside a blank
    provider_en: str | None = None
    rate_type: RateType
    method: Method
    fees: list[FeeLine] = Field(default_factory=list)
    upfront_fees: Decimal = ZERO
    early_repayment: EarlyRepayment
    gps_required: bool
    cooling_off_days: int | None
    ownership_zh: str | None = None
    ownership_en: str | None = None
    notes_zh: list[str] = Field(default_factory=list)
    residual_price: Decimal | None = None

    @property
    def is_lease(self) -> bool:
        """融资租赁 (direct or leaseback): the lessor owns the car until the last rent and the residual."""
        return self.kind in (ProductKind.LEASE_DIRECT, ProductKind.LEASE_BACK)


_DEFAULT_NAMES: dict[ProductKind, tuple[str, str]] = {
    ProductKind.LOAN: ("个人汽车贷款", "Personal auto loan"),
    ProductKind.LEASE_DIRECT: ("汽车融资租赁（直租）", "Auto finance lease (direct lease)"),
    ProductKind.LEASE_BACK: ("汽车融资租赁（售后回租）", "Auto finance lease (sale and leaseback)"),
    ProductKind.TITLE_LOAN: ("汽车抵押贷款（车抵贷）", "Loan secured on an owned car"),
}


def _pick(field: str, explicit: Any, from_product: Any, default: Any) -> Any:
    """Application value, else product value, else default; the two disagreeing is a 4xx."""
    if explicit is not None and from_product is not None and explicit != from_product:
        raise InvalidInput(
            f"字段 application.{field} 与所选产品的约定（{from_product}）不一致",
            f"application.{field} disagrees with the selected product ({from_product})",
            field=f"application.{field}",
        )
    if explicit is not None:
        return explicit
    return from_product if from_product is not None else default


def _fees(app: Application, product: FinanceProduct | None) -> tuple[list[FeeLine], Decimal]:
    if app.fees is not None:
        lines = [FeeLine(name_zh=f.name, name_en=f.name, amount=fen(f.amount)) for f in app.fees if f.amount > 0]
    elif product is not None and product.fees:
        lines = [
            FeeLine(name_zh=f.name_zh, name_en=f.name_en, amount=f.amount(app.principal, app.term_months))
            for f in product.fees
        ]
        lines = [line for line in lines if line.amount > 0]
    else:
        total = fen(app.upfront_fees or ZERO)
        return ([FeeLine(name_zh="前期费用", name_en="Up-front fees", amount=total)] if total > 0 else []), total
    total = sum((line.amount for line in lines), ZERO)
    if app.upfront_fees is not None and fen(app.upfront_fees) != total:
        source = "费用明细" if app.fees is not None else "所选产品的收费标准"
        raise InvalidInput(
            f"前期费用合计 {fen(app.upfront_fees)} 元与{source}（{total} 元）不一致",
            f"upfront_fees {fen(app.upfront_fees)} disagrees with the itemised fees ({total})",
            field="application.upfront_fees",
        )
    return lines, total


def _check_product_limits(app: Application, product: FinanceProduct) -> None:
    if app.term_months not in product.term_options:
        options = "、".join(str(t) for t in product.term_options)
        raise RuleViolation(
            f"产品“{product.name}”的期限可选 {options} 期", f"{product.id} offers terms of {options} months",
            field="application.term_months",
        )
    if not product.min_loan <= app.principal <= product.max_loan:
        raise RuleViolation(
            f"产品“{product.name}”的金额范围为 {product.min_loan}–{product.max_loan} 元",
            f"{product.id} lends {product.min_loan}-{product.max_loan} yuan",
            field="application.principal",
        )


def _check_collateral(app: Application, kind: ProductKind, product: FinanceProduct | None, caps: LenderCaps) -> None:
    """Loan-to-value and term rules: a document is never issued for a loan the rules forbid."""
    vehicle = app.vehicle
    if vehicle is None:
        return
    if kind in (ProductKind.LOAN, ProductKind.LEASE_DIRECT):
        verdict = check_loan(
            LoanProposal(vehicle_price=vehicle.price, loan_amount=app.principal, term_months=app.term_months,
                         condition=vehicle.condition, energy_type=vehicle.energy_type),
            caps,
        )
        if not verdict.allowed:
            broken = verdict.violations[0]
            field = "application.term_months" if broken.code == "term_cap" else "application.principal"
            raise RuleViolation(broken.zh + f"（{broken.source}）", broken.en, field=field)
    cap = product.ltv_cap if product is not None else (
        USED_CAR_LTV_CAP if kind in (ProductKind.TITLE_LOAN, ProductKind.LEASE_BACK) else None
    )
    if cap is not None and app.principal > fen(vehicle.price * cap):
        raise RuleViolation(
            f"金额超过车辆价格（评估价）的{cap:.0%}", f"amount exceeds {cap:.0%} of the vehicle's price or valuation",
            field="application.principal",
        )


def resolve_terms(
    app: Application, product: FinanceProduct | None, house: HouseTerms, caps: LenderCaps
) -> tuple[ProductTerms, QuoteRequest]:
    """The product terms for ``app`` and the quote request every figure in the documents comes from."""
    kind = _pick("product_kind", app.product_kind, product.kind if product else None, ProductKind.LOAN)
    rate_type = _pick("rate_type", app.rate_type, product.rate_type if product else None, RateType.NOMINAL)
    method = _pick("method", app.method, product.method if product else None, Method.EQUAL_INSTALLMENT)
    if product is not None:
        _check_product_limits(app, product)
    _check_collateral(app, kind, product, caps)
    fees, total_fees = _fees(app, product)
    if app.early_repayment is not None:
        early = app.early_repayment
    elif product is not None:
        early = product.early_repayment
    else:
        early = EarlyRepayment(allowed_after_months=house.early_repayment.allowed_after_months,
                               penalties=list(house.early_repayment.penalties))
    gps = app.gps_required
    if gps is None:
        gps = kind in house.gps_kinds or (app.vehicle is not None and app.vehicle.condition is Condition.USED)
    cooling = app.cooling_off_days
    if cooling is None:
        cooling = getattr(product, "cooling_off_days", None) if product is not None else None
        cooling = house.cooling_off_days if cooling is None else cooling
    lender_name = app.lender.name if app.lender else house.lender.name
    default_zh, default_en = _DEFAULT_NAMES[kind]
    residual = getattr(product, "residual_price", None) if product is not None else None
    if residual is None:
        residual = house.residual_price.get(kind)
    terms = ProductTerms(
        product_id=product.id if product else app.product_id,
        name_zh=product.name if product else default_zh,
        name_en=product.name_en if product else default_en,
        kind=kind,
        lender_name=lender_name,
        provider_zh=product.provider_zh if product else None,
        provider_en=product.provider_en if product else None,
        rate_type=rate_type,
        method=method,
        fees=fees,
        upfront_fees=total_fees,
        early_repayment=early,
        gps_required=gps,
        cooling_off_days=cooling,
        ownership_zh=product.ownership_zh if product else None,
        ownership_en=product.ownership_en if product else None,
        notes_zh=list(product.notes_zh) if product else [],
        residual_price=residual if kind in (ProductKind.LEASE_DIRECT, ProductKind.LEASE_BACK) else None,
    )
    request = QuoteRequest(principal=app.principal, annual_rate=app.annual_rate, term_months=app.term_months,
                           method=method, rate_type=rate_type, upfront_fees=total_fees)
    return terms, request
