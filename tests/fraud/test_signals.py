"""Each signal fires on its case and stays quiet on the near miss next to it."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.fraud.models import KnownBadLists
from assistant.fraud.policy import FraudPolicy
from assistant.fraud.signals import REASON_CODES, detect
from tests.fraud.conftest import h, make_app, prior

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
ID, PHONE, DEVICE = h("id-1"), h("phone-1"), "device-0001"


def codes(app, priors=(), lists=KnownBadLists(), policy=FraudPolicy()) -> list[str]:
    return [hit.code for hit in detect(app, list(priors), lists, policy)]


def test_a_clean_application_fires_nothing():
    assert codes(make_app()) == []


# (code, firing case, near miss): (application overrides, priors) each.
CASES = {
    "VELOCITY_ID_30D": (
        ({}, [prior(n, (n + 1) * 5 * DAY, id_hash=ID, phone_hash=PHONE) for n in range(3)]),
        # Two earlier ones in the window, and a third just outside it.
        ({}, [prior(0, 5 * DAY, id_hash=ID, phone_hash=PHONE), prior(1, 10 * DAY, id_hash=ID, phone_hash=PHONE),
              prior(2, 31 * DAY, id_hash=ID, phone_hash=PHONE)]),
    ),
    "VELOCITY_ID_PHONES_30D": (
        ({}, [prior(0, 2 * DAY, id_hash=ID), prior(1, 3 * DAY, id_hash=ID)]),  # three numbers
        ({}, [prior(0, 2 * DAY, id_hash=ID), prior(1, 3 * DAY, id_hash=ID, phone_hash=PHONE)]),  # two
    ),
    "VELOCITY_PHONE_7D": (
        ({}, [prior(0, 1 * DAY, phone_hash=PHONE), prior(1, 6 * DAY, phone_hash=PHONE)]),
        ({}, [prior(0, 1 * DAY, phone_hash=PHONE), prior(1, 8 * DAY, phone_hash=PHONE)]),  # second one too old
    ),
    "VELOCITY_DEVICE_24H": (
        ({}, [prior(0, 2 * HOUR, device_id=DEVICE), prior(1, 20 * HOUR, device_id=DEVICE)]),
        # Same identity twice on the device is one other person, not two.
        ({}, [prior(0, 2 * HOUR, device_id=DEVICE, id_hash=h("x")), prior(1, 3 * HOUR, device_id=DEVICE,
                                                                          id_hash=h("x"))]),
    ),
    "INCOME_VS_EMPLOYMENT": (
        ({"employment_type": "part_time", "stated_monthly_income": 12500, "document_monthly_income": None}, []),
        ({"employment_type": "part_time", "stated_monthly_income": 12000, "document_monthly_income": None}, []),
    ),
    "INCOME_VS_AGE": (
        ({"age": 22, "stated_monthly_income": 21000, "document_monthly_income": 20000}, []),
        ({"age": 23, "stated_monthly_income": 21000, "document_monthly_income": 20000}, []),
    ),
    "INCOME_VS_DOCUMENT": (
        ({"stated_monthly_income": 15100, "document_monthly_income": 10000}, []),
        ({"stated_monthly_income": 15000, "document_monthly_income": 10000}, []),  # exactly 1.5×
    ),
    "LOAN_EXCEEDS_PRICE": (
        ({"loan_amount": 150001, "down_payment": 0}, []),
        ({"loan_amount": 127500, "down_payment": 22500}, []),  # 85 %: at the cap, not over the price
    ),
    "LTV_ABOVE_POLICY": (
        ({"loan_amount": 127501, "down_payment": 22499}, []),
        ({"loan_amount": 127500, "down_payment": 22500}, []),
    ),
    "COLLATERAL_INFLATED": (
        ({"used_vehicle": True, "vehicle_price": 100000, "loan_amount": 70000, "down_payment": 30000,
          "declared_collateral_value": 136000, "model_collateral_value": 100000}, []),
        ({"used_vehicle": True, "vehicle_price": 100000, "loan_amount": 70000, "down_payment": 30000,
          "declared_collateral_value": 135000, "model_collateral_value": 100000}, []),
    ),
    "DOC_ID_MISMATCH": (
        ({"document_anomalies": ["id_number_mismatch"]}, []),
        ({"document_anomalies": []}, []),
    ),
    "DOC_EXPIRED": (({"document_anomalies": ["id_expired"]}, []), ({"document_anomalies": []}, [])),
    "DOC_LOW_CONFIDENCE": (({"min_ocr_confidence": 0.79}, []), ({"min_ocr_confidence": 0.80}, [])),
    "DOC_EDITED": (({"document_anomalies": ["image_edited"]}, []), ({"document_anomalies": []}, [])),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_signal_fires_on_its_case_and_not_on_the_near_miss(code):
    (fire_app, fire_priors), (miss_app, miss_priors) = CASES[code]
    assert code in codes(make_app(**fire_app), fire_priors)
    assert code not in codes(make_app(**miss_app), miss_priors)


def test_every_code_but_the_lists_has_a_case():
    assert set(REASON_CODES) - set(CASES) == {"KNOWN_BAD_ID", "KNOWN_BAD_PHONE", "KNOWN_BAD_DEVICE"}


def test_known_bad_lists_match_only_their_own_identifier():
    lists = KnownBadLists(id_hashes={ID}, phone_hashes={h("phone-9")}, device_ids={"device-9999"})
    assert codes(make_app(), lists=lists) == ["KNOWN_BAD_ID"]
    assert codes(make_app(id_hash=h("id-2"), phone_hash=h("phone-9")), lists=lists) == ["KNOWN_BAD_PHONE"]
    assert codes(make_app(id_hash=h("id-2"), device_id="device-9999"), lists=lists) == ["KNOWN_BAD_DEVICE"]
    # A device on the list under another field's name does not match: the sets are separate.
    assert codes(make_app(id_hash=h("id-2"), device_id=None), lists=lists) == []


def test_a_later_or_the_same_application_is_not_a_prior():
    later = [prior(n, -DAY, id_hash=ID, phone_hash=PHONE) for n in range(3)]
    itself = [prior(0, DAY, id_hash=ID, phone_hash=PHONE, application_id="app-1")] * 3
    assert codes(make_app(), later) == [] and codes(make_app(), itself) == []


def test_a_proof_of_no_income_against_a_stated_income_fires():
    assert "INCOME_VS_DOCUMENT" in codes(make_app(document_monthly_income=0))


def test_used_car_ltv_is_measured_on_the_lower_of_price_and_declared_value():
    used = {"used_vehicle": True, "vehicle_price": 100000, "loan_amount": 70000, "down_payment": 30000,
            "model_collateral_value": 100000}
    assert "LTV_ABOVE_POLICY" not in codes(make_app(**used, declared_collateral_value=100000))
    assert "LTV_ABOVE_POLICY" in codes(make_app(**used, declared_collateral_value=90000))


def test_thresholds_are_parameters():
    strict = FraudPolicy(document_income_ratio=1.2, min_ocr_confidence=0.96)
    app = make_app(stated_monthly_income=13000, document_monthly_income=10000)
    assert codes(app) == [] and codes(app, policy=strict) == ["INCOME_VS_DOCUMENT", "DOC_LOW_CONFIDENCE"]


def test_reasons_are_bilingual_and_quote_the_figures():
    [hit] = detect(make_app(stated_monthly_income=30000, document_monthly_income=10000), [], KnownBadLists(),
                   FraudPolicy())
    assert "30,000.00" in hit.zh and "3.00倍" in hit.zh and "3.00×" in hit.en
    assert hit.evidence == {"stated": 30000.0, "documented": 10000.0, "limit": 1.5}
