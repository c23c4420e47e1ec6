"""The anti-fraud thresholds, as one frozen config with a reason for every default.

These decide when a signal *fires*; how much a fired signal counts is the fitted model's business
(:mod:`assistant.fraud.score`). They were set from the reasoning below before the synthetic set was
generated, and were not tuned on its test split.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from assistant.domain.regulation import USED_CAR_LTV_CAP
from assistant.fraud.models import EmploymentType

# Monthly income above which a stated figure is implausible for the employment type, yuan. The 2023 NBS
# average wage was ~10,000 a month in urban non-private units and ~5,700 in private ones; these ceilings
# sit around the 99th percentile of car-loan applicants, so a genuine earner above them exists (they are
# the hard cases) but is rare. Self-employed owners can earn far more than employees, part-timers cannot.
DEFAULT_EMPLOYMENT_CEILINGS: dict[EmploymentType, Decimal] = {
    EmploymentType.FIXED: Decimal("60000"),
    EmploymentType.SELF_EMPLOYED: Decimal("150000"),
    EmploymentType.FREELANCE: Decimal("50000"),
    EmploymentType.PART_TIME: Decimal("12000"),
    EmploymentType.OTHER: Decimal("30000"),
}

# (age below which the ceiling applies, monthly ceiling in yuan). Early-career pay is low: a graduate
# (22) in a tier-1 city starts at 8–15k, so 20k under 23 or 45k under 28 is unusual enough to look at.
DEFAULT_AGE_CEILINGS: tuple[tuple[int, Decimal], ...] = (
    (23, Decimal("20000")),
    (26, Decimal("30000")),
    (28, Decimal("45000")),
)


class FraudPolicy(BaseModel):
    """When each signal fires. Every field has the default argued in its description."""

    model_config = ConfigDict(frozen=True)

    id_window: dt.timedelta = Field(
        default=dt.timedelta(days=30),
        description="多头申请: a buyer compares two or three lenders in the month before buying, not more.",
    )
    id_max_priors: int = Field(
        default=2, ge=0,
        description="Earlier applications with the same ID in the window that are still normal (a re-quote, "
        "a second dealer); the third earlier one fires VELOCITY_ID_30D.",
    )
    id_max_phones: int = Field(
        default=2, ge=1,
        description="Distinct phone numbers with one ID in the ID window that are still normal (a work and a "
        "private number); a third fires VELOCITY_ID_PHONES_30D.",
    )
    phone_window: dt.timedelta = Field(
        default=dt.timedelta(days=7), description="A mobile number shared across identities within a week."
    )
    phone_max_other_ids: int = Field(
        default=1, ge=0,
        description="Other identities on this phone that are still normal (a spouse or parent); two fire.",
    )
    device_window: dt.timedelta = Field(
        default=dt.timedelta(hours=24), description="One device submitting for several identities in a day."
    )
    device_max_other_ids: int = Field(
        default=1, ge=0, description="Other identities on this device in the window still normal (a family phone)."
    )
    employment_ceilings: dict[EmploymentType, Decimal] = Field(
        default_factory=lambda: dict(DEFAULT_EMPLOYMENT_CEILINGS)
    )
    age_ceilings: tuple[tuple[int, Decimal], ...] = DEFAULT_AGE_CEILINGS
    document_income_ratio: Decimal = Field(
        default=Decimal("1.5"),
        description="Stated ÷ documented income above this fires: rounding up and a bonus explain 20–30 %, "
        "not half as much again.",
    )
    loan_over_price_tolerance: Decimal = Field(
        default=Decimal("0"),
        description="Share of the price a loan may exceed it by (financed fees); 0: a loan above the car's "
        "price is money that does not buy the car (straw buyer, cash-out).",
    )
    ltv_cap_new: Decimal = Field(
        default=Decimal("0.85"), description="The house cap for self-use new cars (settings.self_use_ltv_cap_ice)."
    )
    ltv_cap_used: Decimal = Field(
        default=USED_CAR_LTV_CAP, description="Used cars: 70 % (银发〔2017〕234号, unchanged in 2024)."
    )
    collateral_ratio: Decimal = Field(
        default=Decimal("1.35"),
        description="Declared ÷ model collateral value above this fires (虚高估值): the valuation model's 80 % "
        "range reaches about 1.3–1.35× its point for a 3-year-old car, so beyond it the declared figure is "
        "outside what the model thinks likely.",
    )
    min_ocr_confidence: float = Field(
        default=0.80, ge=0, le=1,
        description="OCR confidence below this on an identity document: a clean photo of a real card reads "
        "at 0.9+; retakes, glare and pasted digits read lower.",
    )
    hard_decline_codes: frozenset[str] = Field(
        default=frozenset({"KNOWN_BAD_ID"}),
        description="Signals that decline whatever the score: an ID confirmed in fraud. Phones are reassigned "
        "(二次放号) and devices shared, so their lists only weigh in the score.",
    )
    review_floor_codes: frozenset[str] = Field(
        default=frozenset(),
        description="Signals that send an application at least to review whatever the score. Empty by default: "
        "the fitted weights decide (a known-bad phone alone scores below review, learnt from reassigned numbers); "
        "a lender that wants every list hit seen by a person adds KNOWN_BAD_PHONE and KNOWN_BAD_DEVICE.",
    )

    def employment_ceiling(self, employment: EmploymentType) -> Decimal:
        """The monthly income ceiling for an employment type."""
        return self.employment_ceilings.get(employment, DEFAULT_EMPLOYMENT_CEILINGS[employment])

    def age_ceiling(self, age: int) -> Decimal | None:
        """The monthly income ceiling for an age, or None when age sets no limit."""
        for below, ceiling in self.age_ceilings:
            if age < below:
                return ceiling
        return None
