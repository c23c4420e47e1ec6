"""Builders for the fraud tests: a clean application, earlier applications, hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest

from assistant.fraud.files import shipped_model
from assistant.fraud.models import FraudInput, PriorApplication
from assistant.fraud.score import FraudModel

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def h(label: str) -> str:
    """A stand-in keyed hash (hex) for an identifier."""
    return hashlib.sha256(label.encode()).hexdigest()


def make_app(**overrides: Any) -> FraudInput:
    """A clean application (no signal fires): fixed job, 12k a month, 20 % down on a 15万 new car."""
    fields: dict[str, Any] = {
        "application_id": "app-1", "id_hash": h("id-1"), "phone_hash": h("phone-1"), "device_id": "device-0001",
        "age": 35, "employment_type": "fixed", "stated_monthly_income": 12000, "document_monthly_income": 11500,
        "vehicle_price": 150000, "loan_amount": 120000, "down_payment": 30000, "term_months": 36,
        "min_ocr_confidence": 0.95, "created_at": NOW,
    }
    fields.update(overrides)
    return FraudInput.model_validate(fields)


def prior(n: int, ago: dt.timedelta, **fields: Any) -> PriorApplication:
    """An earlier application ``ago`` before NOW; unrelated identifiers unless given."""
    base = {"application_id": f"prior-{n}", "id_hash": h(f"other-id-{n}"), "phone_hash": h(f"other-phone-{n}"),
            "device_id": f"other-device-{n:04d}", "created_at": NOW - ago}
    base.update(fields)
    return PriorApplication.model_validate(base)


@pytest.fixture(scope="session")
def model() -> FraudModel:
    """The shipped, fitted model."""
    return shipped_model()
