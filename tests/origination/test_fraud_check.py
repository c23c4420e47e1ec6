"""The fraud checks on submission: an inflated used-car valuation against the valuation model (虚高), the
document findings of intake mapped to the fraud anomalies, and an application the checks cannot assess
saying what it lacks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from assistant.domain.application_state import Actor
from assistant.intake.cards import card_bytes, person_for_seed, render_card
from assistant.intake.kinds import DocumentKind
from assistant.origination.fraud_check import check
from assistant.origination.models import LoanTerms
from assistant.services import Services
from tests.origination.conftest import BORROWER, PROFILE, TERMS

NOW = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)


def test_an_inflated_used_car_valuation_is_flagged_against_the_model(services: Services) -> None:
    # A 6-year-old car of 150,000 new with 120,000 km, declared at 140,000: the model puts it far lower.
    terms = LoanTerms.model_validate({
        "principal": "70000", "annual_rate": "0.06", "term_months": 36, "product_id": "used_car_loan",
        "vehicle": {"brand": "大众", "series": "帕萨特", "price": "140000", "condition": "used"},
        "collateral": {"original_price": "150000", "age_years": 6, "mileage_km": 120000}})
    record = services.applications.create(terms, actor=Actor("partner", "dealer"), channel="api",
                                          profile=PROFILE, personal=BORROWER)
    result = check(services, record, NOW)
    assert result.assessment is not None and "collateral_valuation" not in result.not_checked
    inflated = [s for s in result.assessment.signals if s.code == "COLLATERAL_INFLATED"]
    assert inflated and "估值虚高" in inflated[0].zh
    model = Decimal(str(inflated[0].evidence["model"]))
    assert model == services.valuator.value(Decimal("150000"), 6, 120000).estimated_value


def test_document_findings_become_fraud_anomalies(services: Services) -> None:
    record = services.applications.create(TERMS, actor=Actor("partner", "dealer"), channel="api", profile=PROFILE,
                                          personal=BORROWER)
    someone_else = person_for_seed(11)
    services.intake.attach(record.id, "id_card_front",
                           card_bytes(render_card(DocumentKind.ID_CARD_FRONT, someone_else, seed=11)))
    result = check(services, record, NOW)
    assert result.assessment is not None
    signal = next(s for s in result.assessment.signals if s.code == "DOC_ID_MISMATCH")
    assert "id_name_mismatch" in str(signal.evidence["anomalies"]) and "id_number_mismatch" in str(
        signal.evidence["anomalies"])
    assert result.not_checked == ["device"]  # phone and ID are known, no device was given


def test_an_application_without_the_facts_says_what_it_lacks(services: Services) -> None:
    record = services.applications.create(TERMS, actor=Actor("customer"), channel="web", profile={})
    result = check(services, record, NOW)
    assert result.assessment is None
    assert result.not_checked == ["monthly_income", "age", "employment_type"]
