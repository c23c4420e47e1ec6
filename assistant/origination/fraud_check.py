"""The anti-fraud checks on a submitted application: its facts as a :class:`FraudInput`, its neighbours of
the last 30 days (same ID / phone / device hash), the known-bad lists and the shipped model.

Identifiers reach :mod:`assistant.fraud` only as keyed hashes (``ApplicationStore.keyed_hash``, the key of
``Services.cipher``), as the application row keeps them. The document findings come from intake's
cross-check of the uploaded cards against the applicant's personal data.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from assistant.documents.application import id_number_valid
from assistant.domain.regulation import Condition
from assistant.errors import AssistantError
from assistant.fraud import DocumentAnomaly, FraudInput, assess
from assistant.fraud.files import known_bad_from_settings, shipped_model
from assistant.logs import get_logger
from assistant.origination.models import FraudCheck
from assistant.origination.store import ApplicationRecord

log = get_logger(__name__)
WINDOW = dt.timedelta(days=30)  # FraudPolicy's longest window (id_window): older neighbours never count

# intake's cross-check codes → the anomalies the fraud checks weigh (the others are the officer's to read).
ANOMALIES: dict[str, DocumentAnomaly] = {
    "DOC_NAME_MISMATCH": DocumentAnomaly.ID_NAME_MISMATCH,
    "DOC_ID_MISMATCH": DocumentAnomaly.ID_NUMBER_MISMATCH,
    "DOC_ID_INVALID": DocumentAnomaly.ID_NUMBER_MISMATCH,  # a wrong check digit: misread or forged
    "DOC_EXPIRED": DocumentAnomaly.ID_EXPIRED,
    "DOC_LOW_CONFIDENCE": DocumentAnomaly.LOW_OCR_CONFIDENCE,
}


def _age(record: ApplicationRecord, on: dt.date) -> int | None:
    age = record.profile.get("age")
    if age is not None:
        return int(age)
    number = record.personal.id_number if record.personal else None
    if number and id_number_valid(number):  # the birth date is digits 7–14 of the ID number
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return None


def _model_value(services: Any, record: ApplicationRecord) -> Decimal | None:
    facts = record.terms.collateral
    vehicle = record.terms.vehicle
    if facts is None:
        return None
    try:
        valuation = services.valuator.value(facts.original_price, facts.age_years, facts.mileage_km,
                                            energy_type=vehicle.energy_type if vehicle else "ice")
    except AssistantError as exc:  # no model artifact, or facts it cannot take: the check is listed as not run
        log.info("fraud_valuation_unavailable", error=type(exc).__name__)
        return None
    return Decimal(valuation.estimated_value)


def _documents(services: Any, record: ApplicationRecord, on: dt.date) -> tuple[frozenset[DocumentAnomaly],
                                                                                 float | None]:
    from assistant.intake.crosscheck import StatedApplicant

    personal = record.personal
    stated = StatedApplicant(name=personal.name, id_number=personal.id_number) if personal else None
    intake = services.intake
    found = frozenset(ANOMALIES[m.code] for m in intake.mismatches(record.id, stated, on) if m.code in ANOMALIES)
    confidences = [c for read in intake.read_fields(record.id) for c in read.confidence.values()]
    return found, (round(min(confidences), 4) if confidences else None)


def check(services: Any, record: ApplicationRecord, now: dt.datetime) -> FraudCheck:
    """The assessment of ``record`` at ``now`` (never raises for missing facts: it says what was missing)."""
    store = services.applications.store
    p, t, personal = record.profile, record.terms, record.personal
    price = t.vehicle_price or (t.vehicle.price if t.vehicle else None)
    age = _age(record, now.date())
    missing = [name for name, value in (("monthly_income", p.get("monthly_income")), ("age", age),
                                        ("employment_type", p.get("employment_type")), ("vehicle_price", price))
               if value is None]
    if missing or age is None or price is None or not 18 <= age <= 100:
        return FraudCheck(assessment=None, not_checked=missing or ["age"], checked_at=now)
    not_checked: list[str] = []
    id_hash = store.borrower_hmac(personal.id_number) if personal and personal.id_number else None
    phone_hash = store.keyed_hash("phone", personal.phone) if personal and personal.phone else None
    for name, value in (("id_number", id_hash), ("phone", phone_hash), ("device", record.device_hash)):
        if value is None:
            not_checked.append(name)
    used = bool(t.vehicle and t.vehicle.condition is Condition.USED)
    model_value = _model_value(services, record) if used else None
    if used and model_value is None:
        not_checked.append("collateral_valuation")
    anomalies, confidence = _documents(services, record, now.date())
    down = t.down_payment if t.down_payment is not None else max(Decimal(price) - Decimal(t.principal), Decimal(0))
    try:
        app = FraudInput(
            application_id=record.id, id_hash=id_hash or store.keyed_hash("none", record.id),
            phone_hash=phone_hash or store.keyed_hash("none", record.id), device_id=record.device_hash,
            age=age, employment_type=p["employment_type"],
            stated_monthly_income=Decimal(str(p["monthly_income"])).quantize(Decimal("0.01"), ROUND_HALF_UP),
            vehicle_price=price, loan_amount=t.principal, down_payment=down, term_months=t.term_months,
            used_vehicle=used, declared_collateral_value=t.vehicle.price if used and t.vehicle else None,
            model_collateral_value=model_value, document_anomalies=anomalies, min_ocr_confidence=confidence,
            created_at=now)
    except ValueError as exc:  # figures outside what the checks take: the officer sees it was not assessed
        log.info("fraud_input_invalid", error=type(exc).__name__)
        return FraudCheck(assessment=None, not_checked=["figures_out_of_range"], checked_at=now)
    priors = store.priors(id_hash=id_hash, phone_hash=phone_hash, device_hash=record.device_hash,
                          since=now - WINDOW, exclude=record.id)
    assessment = assess(app, priors, known_bad_from_settings(services.settings), shipped_model())
    return FraudCheck(assessment=assessment, not_checked=not_checked, checked_at=now)
