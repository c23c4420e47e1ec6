"""Signals from outside the repayment record: the car's value (collateral) and external stress flags.

Collateral values come through a small interface, :class:`CollateralValuer`, so monitoring does not
care which model prices the car. :func:`default_valuer` uses the catalogue's used-car valuation model
(``services.valuator``, issue 4) when it is installed, and otherwise a plain residual-value curve by
energy type (:class:`DepreciationValuer`) — the same curve that defines "expected" depreciation, so a
drop *beyond* it is the warning signal.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from assistant.storage.loans import LoanRow, StressFlagRow

ANNUAL_KM = 15_000  # typical private-car mileage in China, to age the odometer between valuations

# Share of the new price kept after the first year, then kept per further year. Typical Chinese
# used-car retention (3-year retention ≈ 60 % fuel, 45–50 % BEV): a plain curve, not a fitted model.
_RETENTION = {
    "ice": (0.82, 0.90),
    "hev": (0.84, 0.91),
    "phev": (0.76, 0.87),
    "bev": (0.72, 0.84),
    "nev": (0.74, 0.85),
}


@dataclass(frozen=True)
class CollateralRef:
    """The car to price, as it stands on the valuation date."""

    brand: str | None
    series: str | None
    energy_type: str | None
    body_type: str | None
    vehicle_price: Decimal  # the price paid (new or used) at disbursement
    vehicle_age_years: float  # on the valuation date
    mileage_km: int  # estimated on the valuation date
    age_at_purchase: float = 0.0


class CollateralValuer(Protocol):
    """Anything that can price a financed car on a date (yuan), or say it cannot (None)."""

    name: str

    def value(self, car: CollateralRef) -> Decimal | None:
        """Market value of ``car`` in yuan, or None if this valuer cannot price it."""


def retention(energy_type: str | None, age_years: float) -> float:
    """Expected share of the new price a car keeps at ``age_years`` (residual-value curve)."""
    first, later = _RETENTION.get(energy_type or "ice", _RETENTION["ice"])
    if age_years <= 0:
        return 1.0
    if age_years <= 1:
        return 1.0 - (1.0 - first) * age_years
    return first * later ** (age_years - 1)


class DepreciationValuer:
    """Residual value from the purchase price, the car's age and energy type (the expected path)."""

    name = "depreciation-curve"

    def value(self, car: CollateralRef) -> Decimal | None:
        """Price × retention(age now) / retention(age at purchase): used cars start part-way down the curve."""
        base = retention(car.energy_type, car.age_at_purchase)
        share = retention(car.energy_type, car.vehicle_age_years) / base
        return (car.vehicle_price * Decimal(repr(round(share, 6)))).quantize(Decimal("0.01"))


class ModelValuer:
    """The fitted used-car residual-value model (``services.valuator``, issue 4).

    The model prices a car from its price *new*; a car bought used is first taken back to its new price
    through the same model's retention at the age it was bought, so both ends use one curve.
    """

    name = "valuation-model"

    def __init__(self, valuator: Any) -> None:
        self.valuator = valuator

    def _retention(self, car: CollateralRef, age: float, mileage: int) -> float:
        out = self.valuator.value(Decimal(100_000), age, mileage, energy_type=_model_energy(car.energy_type),
                                  body_type=car.body_type)
        return float(out.retention)

    def value(self, car: CollateralRef) -> Decimal | None:
        """The model's estimate (yuan, to the 100), or None when it cannot price this car."""
        from assistant.errors import AssistantError

        try:
            now = self._retention(car, max(car.vehicle_age_years, 0.0), car.mileage_km)
            bought = 1.0
            if car.age_at_purchase > 0:
                years_since = max(0.0, car.vehicle_age_years - car.age_at_purchase)
                mileage_then = max(0, car.mileage_km - int(ANNUAL_KM * years_since))
                bought = self._retention(car, car.age_at_purchase, mileage_then)
        except (AssistantError, ValueError, KeyError):
            return None
        if bought <= 0:
            return None
        return (car.vehicle_price * Decimal(repr(round(now / bought, 6)))).quantize(Decimal("100"))


def _model_energy(energy: str | None) -> str:
    return {"nev": "bev", None: "ice"}.get(energy, energy or "ice")  # type: ignore[arg-type]


def default_valuer(services: Any | None) -> CollateralValuer:
    """The valuation model when it is installed (its artifact present), else the depreciation curve."""
    valuator = getattr(services, "valuator", None) if services is not None else None
    path = getattr(valuator, "artifact_path", None)
    if valuator is not None and (path is None or Path(path).is_file()):
        return ModelValuer(valuator)
    return DepreciationValuer()


def collateral_ref(loan: LoanRow, as_of: dt.date) -> CollateralRef:
    """The loan's car as it stands on ``as_of`` (age and odometer moved on from disbursement)."""
    years = max(0.0, (as_of - loan.disbursed_on).days / 365.25)
    return CollateralRef(
        brand=loan.vehicle_brand, series=loan.vehicle_series, energy_type=loan.energy_type, body_type=loan.body_type,
        vehicle_price=Decimal(loan.vehicle_price_fen) / 100, vehicle_age_years=loan.vehicle_age_years + years,
        mileage_km=int((loan.mileage_km or 0) + ANNUAL_KM * years), age_at_purchase=loan.vehicle_age_years,
    )


def expected_value_fen(loan_price_fen: int, energy_type: str | None, age_at_purchase: float, age_now: float) -> int:
    """What the car "should" be worth now on the residual curve, from its value at disbursement (fen)."""
    share = retention(energy_type, age_now) / retention(energy_type, age_at_purchase)
    return int(loan_price_fen * share)


def refresh_collateral(s: Session, valuer: CollateralValuer, as_of: dt.date, *, max_age_days: int = 30,
                       include_simulated: bool = False, limit: int | None = None) -> int:
    """Re-price collateral whose valuation is older than ``max_age_days``; returns how many were updated.

    Simulated loans carry simulated values (their price shocks are part of the generated ground truth),
    so they are left alone unless ``include_simulated``.
    """
    stale = as_of - dt.timedelta(days=max_age_days)
    q = select(LoanRow).where(LoanRow.status != "settled").where(
        or_(LoanRow.collateral_valued_on.is_(None), LoanRow.collateral_valued_on < stale))
    if not include_simulated:
        q = q.where(LoanRow.simulated == 0)
    if limit:
        q = q.limit(limit)
    updated = 0
    for loan in list(s.scalars(q)):
        value = valuer.value(collateral_ref(loan, as_of))
        if value is None or value <= 0:
            continue
        s.execute(update(LoanRow).where(LoanRow.id == loan.id).values(
            collateral_value_now_fen=int(value * 100), collateral_valued_on=as_of))
        updated += 1
    s.commit()
    return updated


@dataclass(frozen=True)
class StressFlag:
    """An active external stress signal."""

    kind: str
    key: str
    severity: int
    reason_zh: str
    reason_en: str


def active_flags(s: Session, as_of: dt.date) -> dict[tuple[str, str], StressFlag]:
    """Region / industry flags in force on ``as_of`` (the most severe one per key)."""
    q = select(StressFlagRow).where(StressFlagRow.starts_on <= as_of).where(
        or_(StressFlagRow.ends_on.is_(None), StressFlagRow.ends_on >= as_of))
    flags: dict[tuple[str, str], StressFlag] = {}
    for row in s.scalars(q):
        key = (row.kind, row.key)
        if key not in flags or flags[key].severity < row.severity:
            flags[key] = StressFlag(row.kind, row.key, row.severity, row.reason_zh, row.reason_en)
    return flags


def add_stress_flag(s: Session, kind: str, key: str, *, severity: int, starts_on: dt.date, reason_zh: str,
                    reason_en: str, ends_on: dt.date | None = None, source: str = "manual") -> StressFlagRow:
    """Raise a region or industry stress flag (e.g. from a risk analyst or a regional-economy feed)."""
    from assistant.errors import InvalidInput

    if kind not in ("region", "industry"):
        raise InvalidInput("预警类型须为 region 或 industry", "kind must be region or industry", field="kind")
    if severity not in (1, 2):
        raise InvalidInput("严重程度须为1或2", "severity must be 1 (elevated) or 2 (severe)", field="severity")
    row = StressFlagRow(kind=kind, key=key, severity=severity, starts_on=starts_on, ends_on=ends_on,
                        reason_zh=reason_zh, reason_en=reason_en, source=source)
    s.add(row)
    s.commit()
    return row
