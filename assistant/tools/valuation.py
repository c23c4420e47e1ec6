"""The collateral-valuation tool: a used car's value range and what it can secure (车抵贷 / 二手车贷款)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from assistant.domain.catalogue import BodyType, Catalogue, EnergyType, Grade, Segment, Vehicle
from assistant.domain.limits import (
    MAX_MILEAGE_KM,
    MAX_PERSON_AGE,
    AskedTermMonths,
    FiniteDecimal,
    Int,
    LoanYuan,
    MonthlyYuan,
    PriceYuan,
)
from assistant.domain.matching import CollateralOffer, MatchProfile, collateral_offer
from assistant.domain.money import Money, Rate
from assistant.errors import InvalidInput
from assistant.tools.match import policy_for
from assistant.tools.registry import REGISTRY, ToolContext
from assistant.valuation import APPRAISAL_NOTE_EN, APPRAISAL_NOTE_ZH
from assistant.valuation.service import MAX_AGE_YEARS

DEFAULT_KM_PER_YEAR = 20_000
COLLATERAL_PRODUCTS = ("car_title_loan", "used_car_loan", "sale_leaseback")


class ValueVehicleIn(BaseModel):
    """The car to value: a catalogue car or its original price, its age and mileage."""

    vehicle: str | None = Field(default=None, max_length=100,
                                description="Catalogue car, e.g. '丰田 卡罗拉' or 'toyota-corolla'")
    original_price: PriceYuan | None = Field(default=None,
                                           description="Price when new (新车指导价/购车价), yuan")
    brand: str | None = Field(default=None, max_length=100,
                              description="Brand as said; used to find the catalogue car when it names a series")
    vehicle_price: PriceYuan | None = Field(default=None,
                                          description="Same as original_price (contract slot name), yuan")
    vehicle_age_years: FiniteDecimal = Field(ge=0, le=MAX_AGE_YEARS, description="Years since first registration")
    mileage_km: Int | None = Field(default=None, ge=0, le=MAX_MILEAGE_KM, description="Odometer, km")
    energy_type: EnergyType | None = None
    body_type: BodyType | None = None
    segment: Segment | None = Field(default=None, description="A00/A0/A/B/C/D size class")
    product_id: str = Field(default="car_title_loan",
                            description="car_title_loan (车抵贷, default) | used_car_loan | sale_leaseback")
    loan_amount: LoanYuan | None = Field(default=None, description="Amount wanted, yuan (default: the maximum)")
    term_months: AskedTermMonths | None = None
    monthly_income: MonthlyYuan | None = None
    monthly_debt_payments: MonthlyYuan | None = None
    age: Int | None = Field(default=None, ge=0, le=MAX_PERSON_AGE)
    has_delinquency: bool | None = None
    risk_grade: Grade | None = None


class ValueVehicleOut(BaseModel):
    """The estimate, its range, the model's held-out error, and the loan it can secure."""

    vehicle: dict[str, object] | None
    original_price: Money
    vehicle_age_years: Rate
    mileage_km: int
    energy_type: EnergyType
    segment: Segment
    estimated_value: Money
    value_low: Money
    value_high: Money
    retention: Rate
    interval_coverage: Rate
    held_out_mape: Rate | None
    model_version: str
    method: str
    appraisal_required: bool = True
    appraisal_note_zh: str = APPRAISAL_NOTE_ZH
    appraisal_note_en: str = APPRAISAL_NOTE_EN
    loan: CollateralOffer | None
    assumed: dict[str, object]


def segment_for_price(price: Decimal) -> Segment:
    """A size class from the new price when the car is not in the catalogue (rough Chinese-market bands)."""
    for limit, seg in ((60_000, Segment.A00), (100_000, Segment.A0), (180_000, Segment.A),
                       (300_000, Segment.B), (500_000, Segment.C)):
        if price < limit:
            return seg
    return Segment.D


def _from_brand(catalogue: Catalogue, brand: str | None) -> Vehicle | None:
    """The catalogue car a ``brand`` slot names, only when it also names the series ("丰田卡罗拉")."""
    if not brand:
        return None
    found = catalogue.find_vehicle(brand)
    key = "".join(brand.lower().split())
    return found if found is not None and "".join(found.series.lower().split()) in key else None


@REGISTRY.register("value_vehicle")
def value_vehicle(ctx: ToolContext, args: ValueVehicleIn) -> ValueVehicleOut:
    """Estimate a used car's market value (二手车估值) as a range, and how much it can secure as collateral:
    车抵贷 (car_title_loan, 押证不押车) amount = value × the product's LTV cap (70 %), with the monthly payment
    and APR. Use it for "我的车能贷多少", "车抵贷", "二手车值多少钱". Give `vehicle` (catalogue name) or
    `original_price` (yuan, price when new), `vehicle_age_years` and `mileage_km` (default 20,000 km a year).
    The value is indicative: a licensed appraiser (持证二手车鉴定评估师) confirms it before any loan."""
    catalogue = ctx.services.catalogue
    assumed: dict[str, object] = {}
    vehicle: Vehicle | None = catalogue.vehicle(args.vehicle) if args.vehicle else _from_brand(catalogue, args.brand)
    original = args.original_price or args.vehicle_price
    if vehicle is None and original is None:
        raise InvalidInput("请提供车型（如“丰田 卡罗拉”）或新车购买价格", "give the car model (e.g. 'Toyota Corolla') "
                           "or its original price", field="original_price")
    if original is not None:
        price = original
    else:
        assert vehicle is not None
        price = vehicle.msrp_min
        assumed["original_price"] = float(price)
    energy = args.energy_type or (vehicle.energy_type if vehicle else None)
    if energy is None:
        energy = EnergyType.ICE
        assumed["energy_type"] = energy.value
    segment = args.segment or (vehicle.segment if vehicle else None)
    if segment is None:
        segment = segment_for_price(price)
        assumed["segment"] = segment.value
    body = args.body_type or (vehicle.body_type if vehicle else None)
    mileage = args.mileage_km
    if mileage is None:
        mileage = int(args.vehicle_age_years * DEFAULT_KM_PER_YEAR)
        assumed["mileage_km"] = mileage
    valuation = ctx.services.valuator.value(price, args.vehicle_age_years, mileage, energy_type=energy.value,
                                            segment=segment.value, body_type=body.value if body else None)
    if args.product_id not in COLLATERAL_PRODUCTS:
        raise InvalidInput(f"估值贷款仅支持{'、'.join(COLLATERAL_PRODUCTS)}",
                           f"product_id must be one of {', '.join(COLLATERAL_PRODUCTS)}", field="product_id")
    product = catalogue.product(args.product_id)
    profile = MatchProfile(
        loan_amount=args.loan_amount, term_months=args.term_months, monthly_income=args.monthly_income,
        monthly_debt_payments=args.monthly_debt_payments, age=args.age, has_delinquency=args.has_delinquency,
        risk_grade=args.risk_grade, vehicle_age_years=args.vehicle_age_years, mileage_km=mileage,
    )
    loan = collateral_offer(product, valuation.estimated_value, args.vehicle_age_years, mileage, profile,
                            policy_for(ctx))
    mape = valuation.held_out_mape
    return ValueVehicleOut(
        vehicle=None if vehicle is None else {
            "id": vehicle.id, "brand": vehicle.brand, "series": vehicle.series, "body_type": vehicle.body_type.value,
            "energy_type": vehicle.energy_type.value, "segment": vehicle.segment.value,
            "msrp_min": float(vehicle.msrp_min), "msrp_max": float(vehicle.msrp_max)},
        original_price=price, vehicle_age_years=args.vehicle_age_years, mileage_km=mileage, energy_type=energy,
        segment=segment, estimated_value=valuation.estimated_value, value_low=valuation.value_low,
        value_high=valuation.value_high, retention=valuation.retention,
        interval_coverage=valuation.interval_coverage, held_out_mape=mape, model_version=valuation.model_version,
        method=("残值模型：新车价×保值率（车龄、里程、动力类型、级别），在真实二手车成交/挂牌价上拟合；"
                f"留出集平均绝对百分比误差{float(mape or 0):.0%}，"
                f"区间为{float(valuation.interval_coverage):.0%}预测区间 / "
                "residual-value model fitted on real used-car prices; range = "
                f"{float(valuation.interval_coverage):.0%} prediction interval"),
        loan=loan, assumed=assumed,
    )
