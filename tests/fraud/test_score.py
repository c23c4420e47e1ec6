"""The score: fitted weights, decision bands, the hard decline, what an officer sees."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from assistant.fraud.models import Decision, KnownBadLists, Severity
from assistant.fraud.policy import FraudPolicy
from assistant.fraud.score import FraudModel, assess, severity
from assistant.fraud.signals import REASON_CODES
from tests.fraud.conftest import h, make_app, prior

ZERO = dict.fromkeys(REASON_CODES, 0.0)


def toy(**weights: float) -> FraudModel:
    """Intercept −3 (≈ 4.7 %), review from 0.2, decline from 0.8."""
    return FraudModel(version="toy", intercept=-3.0, weights={**ZERO, **weights}, review_at=0.2, decline_at=0.8)


def test_the_bands():
    model = toy(DOC_EDITED=2.0, LOAN_EXCEEDS_PRICE=5.0)
    clean = assess(make_app(), [], KnownBadLists(), model)
    assert clean.decision is Decision.PASS and clean.signals == [] and clean.score == pytest.approx(0.047426, abs=1e-6)
    edited = assess(make_app(document_anomalies=["image_edited"]), [], KnownBadLists(), model)
    assert edited.decision is Decision.REVIEW and edited.score == pytest.approx(1 / (1 + 2.718281828 ** 1), abs=1e-6)
    both = assess(make_app(document_anomalies=["image_edited"], loan_amount=160000, down_payment=0), [],
                  KnownBadLists(), model)
    assert both.decision is Decision.DECLINE and [s.code for s in both.signals] == ["LOAN_EXCEEDS_PRICE", "DOC_EDITED"]


def test_band_edges_are_inclusive():
    model = toy()
    assert model.decide(0.1999) is Decision.PASS and model.decide(0.2) is Decision.REVIEW
    assert model.decide(0.7999) is Decision.REVIEW and model.decide(0.8) is Decision.DECLINE


def test_a_known_bad_id_declines_whatever_its_weight():
    result = assess(make_app(), [], KnownBadLists(id_hashes={h("id-1")}), toy())
    assert result.score < 0.2 and result.decision is Decision.DECLINE


def test_a_known_bad_phone_alone_does_not_decline_with_the_shipped_model(model):
    # Reassigned numbers (二次放号) reach genuine applicants; the list only weighs in the score.
    result = assess(make_app(), [], KnownBadLists(phone_hashes={h("phone-1")}), model)
    assert result.decision is not Decision.DECLINE and [s.code for s in result.signals] == ["KNOWN_BAD_PHONE"]


def test_a_review_floor_code_sends_a_low_score_to_review():
    lists = KnownBadLists(phone_hashes={h("phone-1")})
    floor = FraudPolicy(review_floor_codes=frozenset({"KNOWN_BAD_PHONE"}))
    assert assess(make_app(), [], lists, toy()).decision is Decision.PASS
    assert assess(make_app(), [], lists, toy(), floor).decision is Decision.REVIEW


def test_the_shipped_model_declines_a_ring_and_passes_a_clean_applicant(model):
    ring = [prior(n, dt.timedelta(hours=n + 1), device_id="device-0001") for n in range(3)]
    assert assess(make_app(), [], KnownBadLists(), model).decision is Decision.PASS
    result = assess(make_app(), ring, KnownBadLists(), model)
    assert result.decision in (Decision.REVIEW, Decision.DECLINE) and result.signals[0].code == "VELOCITY_DEVICE_24H"
    assert result.model_version == model.version


def test_signals_carry_weight_severity_and_a_bilingual_reason():
    result = assess(make_app(stated_monthly_income=30000, document_monthly_income=10000), [], KnownBadLists(),
                    toy(INCOME_VS_DOCUMENT=1.2))
    [signal] = result.signals
    assert signal.weight == 1.2 and signal.severity is Severity.MEDIUM
    assert signal.reason.startswith("申报月收入") and " / stated monthly income" in signal.reason


def test_severity_bands():
    assert [severity(w) for w in (0.0, 0.99, 1.0, 2.49, 2.5)] == [Severity.LOW, Severity.LOW, Severity.MEDIUM,
                                                                  Severity.MEDIUM, Severity.HIGH]


def test_ltv_is_reported():
    assert str(assess(make_app(), [], KnownBadLists(), toy()).ltv) == "0.8000"


def test_a_model_without_every_weight_or_with_crossed_bands_is_refused():
    with pytest.raises(ValidationError, match="VELOCITY_ID_30D"):
        FraudModel(version="x", intercept=0, weights={"DOC_EDITED": 1.0}, review_at=0.2, decline_at=0.8)
    with pytest.raises(ValidationError, match="review_at"):
        FraudModel(version="x", intercept=0, weights=ZERO, review_at=0.9, decline_at=0.8)


def test_the_shipped_weights_are_non_negative_and_bands_ordered(model):
    assert all(w >= 0 for w in model.weights.values()) and 0 < model.review_at <= model.decline_at < 1
